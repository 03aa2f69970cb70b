package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// paramPattern finds name=value pairs after '?', '&', ';' or '#' — the
// query and fragment parameters of a URL, wherever it appears in text.
var paramPattern = regexp.MustCompile(`([?&;#])([^=&;#?\s"'<>]+)=([^&;#\s"'<>]*)`)

// userinfoPattern finds the password of a URL's userinfo
// (scheme://user:password@host).
var userinfoPattern = regexp.MustCompile(`(://[^/?#@\s:"'<>]*:)([^/?#@\s"'<>]*)(@)`)

// URLs returns s with the value of every credential-looking URL parameter
// (IsSecretParam) and every userinfo password replaced by Marker. s may be
// a URL or text that quotes URLs (an error message, a Location header).
func URLs(s string) string {
	if strings.Contains(s, "=") {
		s = paramPattern.ReplaceAllStringFunc(s, func(m string) string {
			sub := paramPattern.FindStringSubmatch(m)
			name := sub[2]
			if un, err := url.QueryUnescape(name); err == nil {
				name = un
			}
			if sub[3] == "" || sub[3] == Marker || !IsSecretParam(name) {
				return m
			}
			return sub[1] + sub[2] + "=" + Marker
		})
	}
	if strings.Contains(s, "@") {
		s = userinfoPattern.ReplaceAllStringFunc(s, func(m string) string {
			sub := userinfoPattern.FindStringSubmatch(m)
			if sub[2] == "" || sub[2] == Marker {
				return m
			}
			return sub[1] + Marker + sub[3]
		})
	}
	return s
}

// URLValues returns the secret values a URL carries: the value of each
// credential-looking query or fragment parameter and the userinfo
// password, both as written and unescaped. A URL that does not parse is
// scanned as text.
func URLValues(raw string) []string {
	var out []string
	add := func(v string) {
		if v == "" {
			return
		}
		out = append(out, v)
		if un, err := url.QueryUnescape(v); err == nil && un != v {
			out = append(out, un)
		}
	}
	for _, sub := range paramPattern.FindAllStringSubmatch(raw, -1) {
		name := sub[2]
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if IsSecretParam(name) {
			add(sub[3])
		}
	}
	for _, sub := range userinfoPattern.FindAllStringSubmatch(raw, -1) {
		add(sub[2])
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}
