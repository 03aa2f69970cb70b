package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// Marker replaces every redacted value.
const Marker = "[redacted]"

// MinLen is the shortest value a Redactor replaces. Shorter values ("1",
// "on", "gzip"-sized words are kept at 4) carry no secret worth the damage
// that replacing every occurrence would do to a message.
const MinLen = 4

// minPartLen is the shortest part of a compound value (the credential of
// "Bearer <token>", a cookie's value) replaced on its own.
const minPartLen = 8

// Redactor replaces known secret values in text. The zero value and nil
// know no values but still redact credential-looking URL parameters. A
// Redactor is immutable and safe for concurrent use.
type Redactor struct {
	values  []string // sorted, longest first, without duplicates
	headers map[string]bool
	rep     *strings.Replacer
}

// New returns a Redactor for values. Empty values and values shorter than
// MinLen are ignored. Besides each value it replaces the forms a server or
// an encoder may turn it into: URL query and path escaping, JSON string
// escaping, and, for compound values, their parts: the credential after an
// auth scheme ("Bearer <token>", the password inside "Basic <base64>"),
// and each value of "name=value" pairs (cookies).
func New(values ...string) *Redactor {
	return (*Redactor)(nil).With(values...)
}

// With returns a Redactor that also replaces values (r may be nil).
func (r *Redactor) With(values ...string) *Redactor {
	set := map[string]bool{}
	var headers map[string]bool
	if r != nil {
		for _, v := range r.values {
			set[v] = true
		}
		headers = r.headers
	}
	for _, v := range values {
		for _, f := range forms(v) {
			if len(f) >= MinLen {
				set[f] = true
			}
		}
	}
	return build(set, headers)
}

// WithHeaders returns a Redactor that also treats the named headers as
// secret: HeaderValue redacts their whole value (a spec's own headers).
func (r *Redactor) WithHeaders(names ...string) *Redactor {
	set := map[string]bool{}
	headers := map[string]bool{}
	if r != nil {
		for _, v := range r.values {
			set[v] = true
		}
		for h := range r.headers {
			headers[h] = true
		}
	}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			headers[strings.ToLower(n)] = true
		}
	}
	return build(set, headers)
}

func build(set map[string]bool, headers map[string]bool) *Redactor {
	vs := make([]string, 0, len(set))
	for v := range set {
		vs = append(vs, v)
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: longest first, so a value is replaced whole and not as
	// a shorter value it contains.
	sort.Slice(vs, func(i, j int) bool {
		if len(vs[i]) != len(vs[j]) {
			return len(vs[i]) > len(vs[j])
		}
		return vs[i] < vs[j]
	})
	r := &Redactor{values: vs, headers: headers}
	if len(vs) > 0 {
		pairs := make([]string, 0, 2*len(vs))
		for _, v := range vs {
			pairs = append(pairs, v, Marker)
		}
		r.rep = strings.NewReplacer(pairs...)
	}
	return r
}

// Len reports how many strings (values and their forms) r replaces.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	return len(r.values)
}

// String returns s with every known value (in any of its forms) replaced
// by Marker, and with credential-looking URL parameters and userinfo
// passwords redacted (see URLs). A nil Redactor does the latter only.
func (r *Redactor) String(s string) string {
	if r != nil && r.rep != nil {
		s = r.rep.Replace(s)
	}
	return URLs(s)
}

// Strings returns String of each of ss, in a new slice.
func (r *Redactor) Strings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.String(s)
	}
	return out
}

// Contains reports whether s holds a value r replaces, in any of its
// forms (tests use it to assert that nothing leaks).
func (r *Redactor) Contains(s string) bool {
	if r == nil {
		return false
	}
	for _, v := range r.values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// Error returns err with its message redacted, or nil for nil. errors.Is
// and errors.As still see the original chain through Unwrap; only the
// message is rewritten.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := r.String(msg)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// HeaderValue returns the value of header name as it may be shown: Marker
// for a header that is secret by nature (IsSecretHeader) or one r was told
// of with WithHeaders, otherwise String(value).
func (r *Redactor) HeaderValue(name, value string) string {
	if value == "" {
		return value
	}
	if IsSecretHeader(name) || (r != nil && r.headers[strings.ToLower(strings.TrimSpace(name))]) {
		return Marker
	}
	return r.String(value)
}

// forms returns v and the forms it may appear in once encoded or taken
// apart.
func forms(v string) []string {
	if len(v) < MinLen {
		return nil
	}
	out := []string{v}
	out = append(out, encodings(v)...)
	for _, p := range parts(v) {
		out = append(out, p)
		out = append(out, encodings(p)...)
	}
	return out
}

// encodings are the escaped forms of v that differ from it.
func encodings(v string) []string {
	var out []string
	add := func(s string) {
		if s != v {
			out = append(out, s)
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	add(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1])) // json.Marshal escapes <, >, & too
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		s := strings.TrimSuffix(sb.String(), "\n")
		add(s[1 : len(s)-1])
	}
	return out
}

// authSchemes are the words before a credential in an Authorization
// header; they are not secret themselves.
var authSchemes = map[string]bool{
	"basic": true, "bearer": true, "digest": true, "negotiate": true, "ntlm": true,
	"token": true, "apikey": true, "aws4-hmac-sha256": true, "hoba": true, "mutual": true,
	"vapid": true, "scram-sha-1": true, "scram-sha-256": true, "dpop": true,
}

// parts returns the secret parts of a compound value: the credential
// after an auth scheme (and the password inside a Basic credential), and
// the values of name=value pairs separated by ';', ',' or spaces.
func parts(v string) []string {
	var out []string
	add := func(p string) {
		p = strings.Trim(strings.TrimSpace(p), `"`)
		if len(p) >= minPartLen && p != v && !authSchemes[strings.ToLower(p)] {
			out = append(out, p)
		}
	}
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ';' || r == ',' })
	if len(fields) > 1 && authSchemes[strings.ToLower(fields[0])] {
		cred := strings.TrimSpace(v[len(fields[0]):])
		add(cred)
		if strings.EqualFold(fields[0], "basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pass, ok := strings.Cut(string(dec), ":"); ok {
					add(pass)
				}
			}
		}
	}
	for _, f := range fields {
		add(f)
		if _, val, ok := strings.Cut(f, "="); ok {
			add(val)
		}
	}
	return out
}
