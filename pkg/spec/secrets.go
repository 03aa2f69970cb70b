package spec

import (
	"slices"

	"github.com/postdeploy/postdeploy/pkg/redact"
)

// SecretValues returns the secret values the spec carries, so they can be
// kept out of every message, log line, output variable and event: the
// value of every header an http check sets on its probes (Authorization,
// Cookie, X-Api-Key — any header, since the spec is the only one to know
// which of its headers are secret), and the credential-looking query,
// fragment and userinfo values of every URL a check probes (see
// redact.URLValues). Values are as decoded, after #{VAR} substitution;
// the result is sorted and without duplicates.
func (s Spec) SecretValues() []string {
	var out []string
	for _, c := range s.Checks {
		if h := c.HTTP; h != nil {
			for _, v := range h.Headers {
				if v != "" {
					out = append(out, v)
				}
			}
			out = append(out, redact.URLValues(h.URL)...)
		}
		if h := c.Headers; h != nil {
			out = append(out, redact.URLValues(h.URL)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SecretHeaders returns the names of the headers the spec sets on its
// probes, sorted and without duplicates: evidence shows none of their
// values (redact.Redactor.WithHeaders).
func (s Spec) SecretHeaders() []string {
	var out []string
	for _, c := range s.Checks {
		if c.HTTP != nil {
			for k := range c.HTTP.Headers {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Redactor returns a redactor for the spec's secrets (SecretValues and
// SecretHeaders) and any extra values, such as SecureString parameters
// the spec's variables came from.
func (s Spec) Redactor(extra ...string) *redact.Redactor {
	return redact.New(append(s.SecretValues(), extra...)...).WithHeaders(s.SecretHeaders()...)
}
