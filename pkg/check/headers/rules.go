package headers

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/redact"
)

// MinHSTSMaxAge is the shortest Strict-Transport-Security max-age the
// hsts rule accepts: one year, in seconds.
const MinHSTSMaxAge = 31536000

// Finding is one failed rule: what was seen and how to fix it. It never
// carries a cookie's value.
type Finding struct {
	Rule string
	Seen string
	Fix  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s; fix: %s", f.Rule, f.Seen, f.Fix) }

// Rule is one passive check of a response's headers.
type Rule struct {
	// Name is the rule's name in require and skip.
	Name string
	// Checks says in a few words what the rule wants, for docs.
	Checks string
	// HTTPSOnly rules do not apply to a plain-http response.
	HTTPSOnly bool
	// eval returns the findings; none means the rule passed.
	eval func(h http.Header, cookies []*http.Cookie) []Finding
}

// Rules are the rules, in the order they are run and reported.
var Rules = []Rule{
	{Name: "hsts", Checks: "Strict-Transport-Security with max-age ≥ 1 year (https only)", HTTPSOnly: true, eval: hsts},
	{Name: "nosniff", Checks: "X-Content-Type-Options: nosniff", eval: nosniff},
	{Name: "csp", Checks: "an enforced Content-Security-Policy", eval: csp},
	{Name: "frame-options", Checks: "clickjacking protection: CSP frame-ancestors or X-Frame-Options DENY/SAMEORIGIN", eval: frameOptions},
	{Name: "server-version", Checks: "no version number in Server", eval: serverVersion},
	{Name: "powered-by", Checks: "no X-Powered-By, X-AspNet-Version or X-AspNetMvc-Version", eval: poweredBy},
	{Name: "cookie-secure", Checks: "every Set-Cookie has Secure", eval: cookieAttr("Secure", func(c *http.Cookie) bool { return c.Secure })},
	{Name: "cookie-httponly", Checks: "every Set-Cookie has HttpOnly", eval: cookieAttr("HttpOnly", func(c *http.Cookie) bool { return c.HttpOnly })},
	{Name: "cookie-samesite", Checks: "every Set-Cookie has SameSite=Lax or Strict (None only with Secure)", eval: cookieSameSite},
}

// RuleNames lists the rule names in order.
func RuleNames() []string {
	ns := make([]string, len(Rules))
	for i, r := range Rules {
		ns[i] = r.Name
	}
	return ns
}

func lookup(name string) (Rule, bool) {
	for _, r := range Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

func hsts(h http.Header, _ []*http.Cookie) []Finding {
	const fix = "send Strict-Transport-Security: max-age=31536000; includeSubDomains on every https response"
	v := h.Get("Strict-Transport-Security")
	if v == "" {
		return []Finding{{"hsts", "Strict-Transport-Security is missing", fix}}
	}
	for _, d := range strings.Split(v, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "max-age") {
			continue
		}
		age, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
		switch {
		case err != nil:
			return []Finding{{"hsts", fmt.Sprintf("Strict-Transport-Security: %s has an unreadable max-age", v), fix}}
		case age < MinHSTSMaxAge:
			return []Finding{{"hsts", fmt.Sprintf("Strict-Transport-Security: %s has max-age %d, under one year (%d)", v, age, MinHSTSMaxAge), fix}}
		}
		return nil
	}
	return []Finding{{"hsts", fmt.Sprintf("Strict-Transport-Security: %s has no max-age", v), fix}}
}

func nosniff(h http.Header, _ []*http.Cookie) []Finding {
	v := h.Get("X-Content-Type-Options")
	if strings.EqualFold(strings.TrimSpace(v), "nosniff") {
		return nil
	}
	return []Finding{{"nosniff", seen("X-Content-Type-Options", v), "send X-Content-Type-Options: nosniff"}}
}

func csp(h http.Header, _ []*http.Cookie) []Finding {
	const fix = "send a Content-Security-Policy (at least default-src 'self'; frame-ancestors 'none' for an API)"
	if strings.TrimSpace(h.Get("Content-Security-Policy")) != "" {
		return nil
	}
	if ro := h.Get("Content-Security-Policy-Report-Only"); ro != "" {
		return []Finding{{"csp", "only Content-Security-Policy-Report-Only is sent, which enforces nothing", fix}}
	}
	return []Finding{{"csp", "Content-Security-Policy is missing", fix}}
}

func frameOptions(h http.Header, _ []*http.Cookie) []Finding {
	for _, p := range h.Values("Content-Security-Policy") {
		for _, d := range strings.Split(p, ";") {
			if f := strings.Fields(d); len(f) > 0 && strings.EqualFold(f[0], "frame-ancestors") {
				return nil
			}
		}
	}
	switch v := strings.ToUpper(strings.TrimSpace(h.Get("X-Frame-Options"))); v {
	case "DENY", "SAMEORIGIN":
		return nil
	case "":
		return []Finding{{"frame-options", "neither Content-Security-Policy frame-ancestors nor X-Frame-Options is sent", "add frame-ancestors 'none' (or 'self') to the Content-Security-Policy, or send X-Frame-Options: DENY"}}
	default:
		return []Finding{{"frame-options", fmt.Sprintf("X-Frame-Options: %s is not DENY or SAMEORIGIN (ALLOW-FROM is ignored by browsers)", h.Get("X-Frame-Options")), "send X-Frame-Options: DENY or SAMEORIGIN, or use CSP frame-ancestors"}}
	}
}

// versionRe finds a version number: "nginx/1.25.3", "Apache 2.4", "v8".
var versionRe = regexp.MustCompile(`(?i)(/\s*v?\d|\bv?\d+\.\d+)`)

func serverVersion(h http.Header, _ []*http.Cookie) []Finding {
	v := h.Get("Server")
	if !versionRe.MatchString(v) {
		return nil
	}
	return []Finding{{"server-version", fmt.Sprintf("Server: %s discloses a version", v), "drop the version from Server (nginx: server_tokens off; Apache: ServerTokens Prod)"}}
}

// poweredByHeaders name the stack behind a service; none is needed by a
// client.
var poweredByHeaders = []string{"X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"}

func poweredBy(h http.Header, _ []*http.Cookie) []Finding {
	var fs []Finding
	for _, k := range poweredByHeaders {
		if v := h.Get(k); v != "" {
			fs = append(fs, Finding{"powered-by", fmt.Sprintf("%s: %s discloses the stack", k, v), fmt.Sprintf("stop sending %s (Express: app.disable('x-powered-by'); PHP: expose_php = Off)", k)})
		}
	}
	return fs
}

func cookieAttr(attr string, has func(*http.Cookie) bool) func(http.Header, []*http.Cookie) []Finding {
	rule := "cookie-" + strings.ToLower(attr)
	return func(_ http.Header, cs []*http.Cookie) []Finding {
		var fs []Finding
		for _, c := range cs {
			if !has(c) {
				fs = append(fs, Finding{rule, fmt.Sprintf("cookie %q is set without %s", c.Name, attr), fmt.Sprintf("add %s to the Set-Cookie of %q", attr, c.Name)})
			}
		}
		return fs
	}
}

func cookieSameSite(_ http.Header, cs []*http.Cookie) []Finding {
	var fs []Finding
	for _, c := range cs {
		switch {
		case c.SameSite == http.SameSiteLaxMode, c.SameSite == http.SameSiteStrictMode:
		case c.SameSite == http.SameSiteNoneMode && c.Secure:
		case c.SameSite == http.SameSiteNoneMode:
			fs = append(fs, Finding{"cookie-samesite", fmt.Sprintf("cookie %q has SameSite=None without Secure, which browsers reject", c.Name), fmt.Sprintf("add Secure to %q, or use SameSite=Lax", c.Name)})
		default:
			fs = append(fs, Finding{"cookie-samesite", fmt.Sprintf("cookie %q is set without a valid SameSite", c.Name), fmt.Sprintf("add SameSite=Lax (or Strict) to the Set-Cookie of %q", c.Name)})
		}
	}
	return fs
}

// cookies parses every Set-Cookie header. A line Go cannot parse is kept
// as a nameless cookie with no attributes, so it fails the cookie rules
// rather than slipping past them.
func cookies(h http.Header) []*http.Cookie {
	lines := h.Values("Set-Cookie")
	cs := make([]*http.Cookie, 0, len(lines))
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			name, _, ok := strings.Cut(l, "=")
			if !ok || strings.ContainsAny(name, ";, ") {
				name = "?" // never echo what may be a value
			}
			// G124: a stand-in for a cookie the server sent, never one we set.
			c = &http.Cookie{Name: strings.TrimSpace(name) + " (unparseable Set-Cookie)"} //nolint:gosec // G124: see above
		}
		cs = append(cs, c)
	}
	return cs
}

// seen quotes a response header for a finding; a header that is secret by
// nature (redact.IsSecretHeader) is named, not quoted.
func seen(name, v string) string {
	if v == "" {
		return name + " is missing"
	}
	return fmt.Sprintf("%s: %s", name, (*redact.Redactor)(nil).HeaderValue(name, v))
}
