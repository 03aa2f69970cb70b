package redact

import (
	"errors"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorString(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{"plain value", []string{"s3cr3t-token"}, "got s3cr3t-token back", "got [redacted] back"},
		{"every occurrence", []string{"abcd1234"}, "abcd1234 and abcd1234", "[redacted] and [redacted]"},
		{"query-escaped", []string{"a b/c+d"}, "echo: a+b%2Fc%2Bd", "echo: [redacted]"},
		{"path-escaped", []string{"a b/c?d"}, "/x/a%20b%2Fc%3Fd", "/x/[redacted]"},
		{"json-escaped", []string{`p"w\d<x>`}, `{"v":"p\"w\\d\u003cx\u003e"}`, `{"v":"[redacted]"}`},
		{"json-escaped without HTML escaping", []string{`p"w\d<x>`}, `{"v":"p\"w\\d<x>"}`, `{"v":"[redacted]"}`},
		{"bearer credential alone", []string{"Bearer eyJhbGciOi.abc.def"}, "token eyJhbGciOi.abc.def is invalid", "token [redacted] is invalid"},
		{"basic password", []string{"Basic dXNlcjpodW50ZXIyMjI="}, "user:hunter222 denied", "user:[redacted] denied"},
		{"cookie value", []string{"session=0123456789abcdef; theme=dark"}, "your session 0123456789abcdef", "your session [redacted]"},
		{"scheme word stays", []string{"Bearer eyJhbGciOi.abc.def"}, "Bearer realm", "Bearer realm"},
		{"longest first", []string{"abcd", "abcdefgh"}, "abcdefgh", "[redacted]"},
		{"short values ignored", []string{"", "1", "on"}, "1 on", "1 on"},
		{"no values", nil, "nothing here", "nothing here"},
		{"url params without values", nil, "GET https://h/p?a=1&token=xyz&b=2", "GET https://h/p?a=1&token=[redacted]&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.values...).String(tt.in); got != tt.want {
				t.Errorf("New(%q).String(%q) = %q; want %q", tt.values, tt.in, got, tt.want)
			}
		})
	}
}

func TestNilRedactor(t *testing.T) {
	var r *Redactor
	if got, want := r.String("a?token=x"), "a?token=[redacted]"; got != want {
		t.Errorf("nil.String = %q; want %q", got, want)
	}
	if r.Contains("x") || r.Len() != 0 {
		t.Errorf("nil Redactor knows values")
	}
	if got := r.HeaderValue("Authorization", "x"); got != Marker {
		t.Errorf("nil.HeaderValue(Authorization) = %q; want %q", got, Marker)
	}
	if got := r.HeaderValue("Content-Type", "text/html"); got != "text/html" {
		t.Errorf("nil.HeaderValue(Content-Type) = %q; want unchanged", got)
	}
	if r.With("abcdefgh").String("abcdefgh") != Marker {
		t.Errorf("nil.With did not add the value")
	}
}

func TestRedactorError(t *testing.T) {
	r := New("hunter2hunter2")
	base := &url.Error{Op: "Get", URL: "https://x/?p=hunter2hunter2", Err: fs.ErrPermission}
	err := r.Error(base)
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Error() = %q; still holds the secret", err)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(redacted, ErrPermission) = false; want the chain kept")
	}
	if r.Error(nil) != nil {
		t.Errorf("Error(nil) != nil")
	}
	plain := errors.New("harmless")
	if r.Error(plain) != plain { //nolint:errorlint // identity: an error holding no secret is returned as it is
		t.Errorf("Error(harmless) wrapped an error that holds no secret")
	}
}

func TestHeaderValue(t *testing.T) {
	r := New().WithHeaders("X-Tenant")
	tests := []struct {
		name, value, want string
	}{
		{"Authorization", "Bearer x", Marker},
		{"authorization", "Bearer x", Marker},
		{"Set-Cookie", "a=b", Marker},
		{"X-Api-Key", "k", Marker},
		{"X-Amz-Security-Token", "t", Marker},
		{"Proxy-Authorization", "Basic x", Marker},
		{"X-My-Secret", "v", Marker},
		{"x-tenant", "acme", Marker}, // set by the spec
		{"Content-Type", "text/html", "text/html"},
		{"Location", "https://h/?X-Amz-Signature=abc", "https://h/?X-Amz-Signature=[redacted]"},
		{"Access-Control-Allow-Credentials", "true", "true"},
		{"Www-Authenticate", `Bearer realm="x"`, `Bearer realm="x"`},
		{"Content-Security-Policy", "default-src 'self'", "default-src 'self'"},
	}
	for _, tt := range tests {
		if got := r.HeaderValue(tt.name, tt.value); got != tt.want {
			t.Errorf("HeaderValue(%q, %q) = %q; want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestIsSecretParam(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"token", true}, {"access_token", true}, {"id_token", true}, {"key", true}, {"api_key", true},
		{"apikey", true}, {"apiKey", true}, {"secret", true}, {"client_secret", true}, {"password", true},
		{"passwd", true}, {"pwd", true}, {"signature", true}, {"sig", true}, {"X-Amz-Signature", true},
		{"X-Amz-Credential", true}, {"X-Amz-Security-Token", true}, {"x-amz-security-token", true},
		{"X-Goog-Signature", true}, {"code", true}, {"auth", true}, {"session_id", true},
		{"page", false}, {"q", false}, {"region", false}, {"X-Amz-Date", false}, {"X-Amz-Expires", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsSecretParam(tt.name); got != tt.want {
			t.Errorf("IsSecretParam(%q) = %t; want %t", tt.name, got, tt.want)
		}
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"presigned S3", "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101&X-Amz-Date=20250101T000000Z&X-Amz-Signature=abc123&X-Amz-Security-Token=FQo",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[redacted]&X-Amz-Date=20250101T000000Z&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]"},
		{"quoted in an error", `Get "https://h/x?token=abc&page=2": dial tcp: refused`, `Get "https://h/x?token=[redacted]&page=2": dial tcp: refused`},
		{"fragment", "https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=[redacted]&state=1"},
		{"userinfo", "https://alice:pa55word@h/p", "https://alice:[redacted]@h/p"},
		{"escaped name", "https://h/?api%5Fkey=abc", "https://h/?api%5Fkey=[redacted]"},
		{"harmless", "https://h/p?page=2&q=x", "https://h/p?page=2&q=x"},
		{"empty value", "https://h/p?token=&q=x", "https://h/p?token=&q=x"},
		{"not a url", "a = b and c", "a = b and c"},
	}
	for _, tt := range tests {
		if got := URLs(tt.in); got != tt.want {
			t.Errorf("%s: URLs(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestURLValues(t *testing.T) {
	got := URLValues("https://bob:pw%21x@h/p?token=a%2Bb&page=2#sig=zz")
	want := map[string]bool{"a%2Bb": true, "a+b": true, "zz": true, "pw%21x": true, "pw!x": true}
	for _, v := range got {
		delete(want, v)
	}
	if len(want) != 0 {
		t.Errorf("URLValues = %q; missing %v", got, want)
	}
	for _, v := range got {
		if v == "2" {
			t.Errorf("URLValues = %q; holds the value of page, which is no credential", got)
		}
	}
}

func FuzzRedactor(f *testing.F) {
	f.Add("s3cr3t-value", "prefix s3cr3t-value suffix https://h/?token=x")
	f.Add("Bearer abcdefghij", `{"auth":"Bearer abcdefghij"}`)
	f.Add("a b/c+d", "a+b%2Fc%2Bd")
	f.Fuzz(func(t *testing.T, secret, text string) {
		r := New(secret)
		out := r.String(text + secret + text)
		if len(secret) >= MinLen && strings.Contains(out, secret) && !strings.Contains(Marker, secret) {
			// A secret may only survive as part of a marker it overlaps.
			rest := strings.ReplaceAll(out, Marker, "\x00")
			if strings.Contains(rest, secret) {
				t.Errorf("New(%q).String(...) = %q; still holds the secret", secret, out)
			}
		}
	})
}
