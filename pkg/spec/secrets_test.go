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
