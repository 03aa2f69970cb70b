package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestSecretValues(t *testing.T) {
	s, err := Parse([]byte(`
checks:
  - name: api
    http:
      url: "https://api.example.com/health?api_key=#{KEY}&page=2&X-Amz-Signature=sig%2Bvalue"
      headers:
        Authorization: "Bearer #{TOKEN}"
        X-Tenant: acme-corp
  - name: hdr
    headers:
      url: "https://www.example.com/?token=t0k3n#sig=fr4gment"
`), map[string]string{"KEY": "k-123456", "TOKEN": "eyJ.abc.def"})
	if err != nil {
		t.Fatalf("Parse = %v; want nil", err)
	}
	got := s.SecretValues()
	for _, want := range []string{"Bearer eyJ.abc.def", "acme-corp", "k-123456", "sig%2Bvalue", "sig+value", "fr4gment", "t0k3n"} {
		if !slices.Contains(got, want) {
			t.Errorf("SecretValues() = %q; missing %q", got, want)
		}
	}
	for _, not := range []string{"2", "https://api.example.com/health"} {
		if slices.Contains(got, not) {
			t.Errorf("SecretValues() = %q; holds %q, which is no secret", got, not)
		}
	}
	if h, want := s.SecretHeaders(), []string{"Authorization", "X-Tenant"}; !slices.Equal(h, want) {
		t.Errorf("SecretHeaders() = %q; want %q", h, want)
	}
	r := s.Redactor("from-ssm-secure")
	msg := r.String("server said: eyJ.abc.def acme-corp k-123456 from-ssm-secure")
	for _, leak := range []string{"eyJ.abc.def", "acme-corp", "k-123456", "from-ssm-secure"} {
		if strings.Contains(msg, leak) {
			t.Errorf("Redactor().String = %q; leaks %q", msg, leak)
		}
	}
	if got := r.HeaderValue("X-Tenant", "other"); got != "[redacted]" {
		t.Errorf("Redactor().HeaderValue(X-Tenant) = %q; want redacted (the spec sets it)", got)
	}
}

// TestParseErrorsDoNotEchoSecrets: validation errors never repeat a header
// value the spec sets or a credential-looking URL value, whether the
// value decoded or not (issue 12).
func TestParseErrorsDoNotEchoSecrets(t *testing.T) {
	tests := []struct {
		name, in string
		secret   string
		want     string
	}{
		{"headers given as a string", `
checks:
  - name: a
    http: {url: "https://x/", headers: "Authorization: Bearer tok-s3cr3t-1"}
`, "tok-s3cr3t-1", `checks[0].http.headers: must be a map of names to values, got a string`},
		{"header value of the wrong type", `
checks:
  - name: a
    http: {url: "https://x/", headers: {X-Api-Key: 98765432123}}
`, "98765432123", `checks[0].http.headers.X-Api-Key: must be a string, got a number`},
		{"body of the wrong type", `
checks:
  - name: a
    http: {url: "https://x/", method: POST, body: {password: hunter2hunter2}}
`, "hunter2hunter2", `checks[0].http.body: must be a string, got an object`},
		{"credential in a rejected URL", `
checks:
  - name: a
    http: {url: "ftp://files.example.com/?api_key=k3y-s3cr3t-2"}
`, "k3y-s3cr3t-2", `checks[0].http.url: must be https or http, got "ftp://files.example.com/?api_key=[redacted]"`},
		{"headers check URL", `
checks:
  - name: a
    headers: {url: "gopher://x/?token=t0k3n-s3cr3t-3"}
`, "t0k3n-s3cr3t-3", `checks[0].headers.url: must be https or http`},
		{"another field quoting a header value", `
checks:
  - name: a
    http: {url: "https://x/", headers: {Authorization: "sha256:not-a-digest-s3cr3t"}}
  - name: b
    imageScan: {repository: r, digest: "sha256:not-a-digest-s3cr3t"}
`, "not-a-digest-s3cr3t", `checks[1].imageScan.digest: must look like sha256:<64 hex digits>, got "[redacted]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), nil)
			if err == nil {
				t.Fatalf("Parse(%s) = nil; want an error", tt.name)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("Parse(%s) = %v; echoes %q", tt.name, err, tt.secret)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%s) = %v; want it to contain %q", tt.name, err, tt.want)
			}
		})
	}
}
