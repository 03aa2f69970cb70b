package headers

import (
	"net/http"
	"strings"
	"testing"
)

// good is a header set every rule passes.
func good() http.Header {
	return http.Header{
		"Strict-Transport-Security": {"max-age=63072000; includeSubDomains; preload"},
		"X-Content-Type-Options":    {"nosniff"},
		"Content-Security-Policy":   {"default-src 'self'; frame-ancestors 'none'"},
		"Server":                    {"nginx"},
		"Set-Cookie":                {"session=abc; Path=/; Secure; HttpOnly; SameSite=Lax"},
	}
}

func with(h http.Header, k string, vs ...string) http.Header {
	h = h.Clone()
	if len(vs) == 0 {
		h.Del(k)
	} else {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	return h
}

func TestRules(t *testing.T) {
	tests := []struct {
		rule   string
		header http.Header
		// seen is a substring of the finding; "" means the rule passes.
		seen string
	}{
		{"hsts", good(), ""},
		{"hsts", with(good(), "Strict-Transport-Security", `max-age="31536000"`), ""},
		{"hsts", with(good(), "Strict-Transport-Security", "MAX-AGE=31536000"), ""},
		{"hsts", with(good(), "Strict-Transport-Security"), "Strict-Transport-Security is missing"},
		{"hsts", with(good(), "Strict-Transport-Security", "max-age=300"), "max-age 300, under one year (31536000)"},
		{"hsts", with(good(), "Strict-Transport-Security", "max-age=soon"), "unreadable max-age"},
		{"hsts", with(good(), "Strict-Transport-Security", "includeSubDomains"), "has no max-age"},

		{"nosniff", good(), ""},
		{"nosniff", with(good(), "X-Content-Type-Options", " NoSniff "), ""},
		{"nosniff", with(good(), "X-Content-Type-Options"), "X-Content-Type-Options is missing"},
		{"nosniff", with(good(), "X-Content-Type-Options", "sniff"), "X-Content-Type-Options: sniff"},

		{"csp", good(), ""},
		{"csp", with(good(), "Content-Security-Policy"), "Content-Security-Policy is missing"},
		{"csp", with(with(good(), "Content-Security-Policy"), "Content-Security-Policy-Report-Only", "default-src 'self'"), "only Content-Security-Policy-Report-Only"},

		{"frame-options", good(), ""},
		{"frame-options", with(with(good(), "Content-Security-Policy", "default-src 'self'"), "X-Frame-Options", "sameorigin"), ""},
		{"frame-options", with(good(), "Content-Security-Policy", "default-src 'self'"), "neither Content-Security-Policy frame-ancestors nor X-Frame-Options"},
		{"frame-options", with(with(good(), "Content-Security-Policy"), "X-Frame-Options", "ALLOW-FROM https://x.example"), "is not DENY or SAMEORIGIN"},

		{"server-version", good(), ""},
		{"server-version", with(good(), "Server"), ""},
		{"server-version", with(good(), "Server", "cloudflare"), ""},
		{"server-version", with(good(), "Server", "nginx/1.25.3"), "Server: nginx/1.25.3 discloses a version"},
		{"server-version", with(good(), "Server", "Apache/2.4.57 (Debian)"), "discloses a version"},
		{"server-version", with(good(), "Server", "Microsoft-IIS/10.0"), "discloses a version"},
		{"server-version", with(good(), "Server", "Jetty 9.4"), "discloses a version"},

		{"powered-by", good(), ""},
		{"powered-by", with(good(), "X-Powered-By", "Express"), "X-Powered-By: Express discloses the stack"},
		{"powered-by", with(good(), "X-Powered-By", "PHP/8.2.1"), "X-Powered-By: PHP/8.2.1"},
		{"powered-by", with(good(), "X-AspNet-Version", "4.0.30319"), "X-AspNet-Version: 4.0.30319"},

		{"cookie-secure", good(), ""},
		{"cookie-secure", with(good(), "Set-Cookie"), ""},
		{"cookie-secure", with(good(), "Set-Cookie", "a=1; Secure", "theme=dark; HttpOnly"), `cookie "theme" is set without Secure`},
		{"cookie-httponly", good(), ""},
		{"cookie-httponly", with(good(), "Set-Cookie", "session=s3cr3t; Secure"), `cookie "session" is set without HttpOnly`},
		{"cookie-samesite", good(), ""},
		{"cookie-samesite", with(good(), "Set-Cookie", "a=1; SameSite=Strict"), ""},
		{"cookie-samesite", with(good(), "Set-Cookie", "a=1; SameSite=None; Secure"), ""},
		{"cookie-samesite", with(good(), "Set-Cookie", "a=1; SameSite=None"), `cookie "a" has SameSite=None without Secure`},
		{"cookie-samesite", with(good(), "Set-Cookie", "a=1; Secure"), `cookie "a" is set without a valid SameSite`},
		{"cookie-samesite", with(good(), "Set-Cookie", "a=1; SameSite=bogus"), `cookie "a" is set without a valid SameSite`},
		{"cookie-secure", with(good(), "Set-Cookie", "garbage-without-equals"), `cookie "? (unparseable Set-Cookie)" is set without Secure`},
	}
	for _, tt := range tests {
		r, ok := lookup(tt.rule)
		if !ok {
			t.Fatalf("lookup(%q): no such rule", tt.rule)
		}
		fs := r.eval(tt.header, cookies(tt.header))
		var got string
		for _, f := range fs {
			got += f.String() + "\n"
			if f.Rule != tt.rule || f.Fix == "" {
				t.Errorf("%s(%v): finding %+v; want rule %q and a fix", tt.rule, tt.header, f, tt.rule)
			}
		}
		switch {
		case tt.seen == "" && len(fs) > 0:
			t.Errorf("%s(%v) = %q; want a pass", tt.rule, tt.header, got)
		case tt.seen != "" && !strings.Contains(got, tt.seen):
			t.Errorf("%s(%v) = %q; want a finding containing %q", tt.rule, tt.header, got, tt.seen)
		}
	}
}

// TestFindingsNeverQuoteCookieValues: cookie values can be session
// tokens, and findings end up in pipeline messages.
func TestFindingsNeverQuoteCookieValues(t *testing.T) {
	h := http.Header{"Set-Cookie": {"session=s3cr3t-token", "s3cr3t-bare-token", "x=s3cr3t; SameSite=None"}}
	for _, r := range Rules {
		for _, f := range r.eval(h, cookies(h)) {
			if strings.Contains(f.String(), "s3cr3t") {
				t.Errorf("rule %s finding %q quotes a cookie value", r.Name, f)
			}
		}
	}
}

func TestRuleNamesAreUniqueAndDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.Name] || r.Name == "" || r.Checks == "" || r.eval == nil {
			t.Errorf("rule %+v: want a unique name, a description and an eval", r)
		}
		seen[r.Name] = true
	}
}

// FuzzRules feeds arbitrary response header values to every rule: a
// hostile server must not be able to panic the check, and every finding
// must name its rule and a fix.
func FuzzRules(f *testing.F) {
	f.Add("max-age=31536000", "nosniff", "default-src 'self'", "DENY", "nginx/1.2", "PHP/8", "a=1; Secure; HttpOnly; SameSite=None")
	f.Add("max-age=-1;max-age=99999999999999999999", "", "frame-ancestors", "ALLOW-FROM x", "", "", "=; ;;==")
	f.Add("", "\x00", ";;;", "", "v", "", "a=\"b; SameSite=; Secure=1")
	f.Fuzz(func(t *testing.T, sts, xcto, csp, xfo, server, poweredBy, setCookie string) {
		h := http.Header{
			"Strict-Transport-Security": {sts},
			"X-Content-Type-Options":    {xcto},
			"Content-Security-Policy":   {csp},
			"X-Frame-Options":           {xfo},
			"Server":                    {server},
			"X-Powered-By":              {poweredBy},
			"Set-Cookie":                {setCookie, setCookie + "; Secure"},
		}
		cs := cookies(h)
		if len(cs) != 2 {
			t.Fatalf("cookies(%q) = %d cookies; want 2 (one per Set-Cookie)", setCookie, len(cs))
		}
		for _, r := range Rules {
			for _, fd := range r.eval(h, cs) {
				if fd.Rule != r.Name || fd.Seen == "" || fd.Fix == "" {
					t.Fatalf("rule %s: finding %+v; want its rule name, what was seen and a fix", r.Name, fd)
				}
			}
		}
	})
}

// TestSeenNeverQuotesSecretHeaders: a finding names a header that is
// secret by nature (Set-Cookie, Authorization…) without its value.
func TestSeenNeverQuotesSecretHeaders(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Set-Cookie", "session=abc123", "Set-Cookie: [redacted]"},
		{"Authorization", "Bearer x", "Authorization: [redacted]"},
		{"X-Content-Type-Options", "sniff", "X-Content-Type-Options: sniff"},
		{"Location", "https://h/?token=abc", "Location: https://h/?token=[redacted]"},
		{"X-Frame-Options", "", "X-Frame-Options is missing"},
	}
	for _, tt := range tests {
		if got := seen(tt.name, tt.value); got != tt.want {
			t.Errorf("seen(%q, %q) = %q; want %q", tt.name, tt.value, got, tt.want)
		}
	}
}
