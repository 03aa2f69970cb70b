package redact

import (
	"net/textproto"
	"strings"
)

// secretHeaders are headers whose value is a credential by nature.
var secretHeaders = map[string]bool{
	"Authorization":             true,
	"Proxy-Authorization":       true,
	"Cookie":                    true,
	"Set-Cookie":                true,
	"X-Api-Key":                 true,
	"X-Amz-Security-Token":      true,
	"X-Amz-Credential":          true,
	"X-Amz-Signature":           true,
	"X-Auth-Token":              true,
	"X-Csrf-Token":              true,
	"X-Xsrf-Token":              true,
	"X-Access-Token":            true,
	"X-Session-Token":           true,
	"X-Vault-Token":             true,
	"X-Goog-Api-Key":            true,
	"Ocp-Apim-Subscription-Key": true,
	// Not credentials although their names say so.
	"Www-Authenticate":                 false, // a challenge
	"Access-Control-Allow-Credentials": false, // "true"
	"Sec-Websocket-Key":                false, // a nonce the server hashes and returns
}

// credentialWords are the parts of a header or parameter name that mark
// its value as a credential.
var credentialWords = []string{
	"token", "secret", "passw", "passwd", "signature", "credential", "apikey",
	"accesskey", "privatekey", "clientsecret", "session", "auth", "jwt", "cookie",
}

// credentialNames are whole (normalized) parameter names that are
// credentials although they hold none of credentialWords.
var credentialNames = map[string]bool{
	"key": true, "sig": true, "pwd": true, "pass": true, "code": true, "sas": true,
	"xamzsignature": true, "xamzcredential": true, "xamzsecuritytoken": true,
	"xgoogsignature": true, "xgooglecredential": true,
}

// normalize lowercases name and drops '-', '_' and '.', so X-Amz-Signature,
// x_amz_signature and xAmzSignature compare equal.
func normalize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' || r == ' ' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func credentialLike(name string) bool {
	n := normalize(name)
	if n == "" {
		return false
	}
	if credentialNames[n] || strings.HasSuffix(n, "key") {
		return true
	}
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// IsSecretHeader reports whether a header's value is a credential by
// nature: Authorization, Proxy-Authorization, Cookie, Set-Cookie,
// X-Api-Key, X-Amz-Security-Token and the like, or any header whose name
// holds a credential word (token, secret, key, auth, session, …).
func IsSecretHeader(name string) bool {
	c := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
	if v, ok := secretHeaders[c]; ok {
		return v
	}
	return credentialLike(c)
}

// IsSecretParam reports whether a URL query parameter's value is a
// credential by its name: token, key, secret, password, signature,
// X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, apikey,
// access_token, sig, code and the like, in any case and with '-', '_' or
// '.' anywhere.
func IsSecretParam(name string) bool { return credentialLike(name) }
