// Package redact keeps secrets out of text that leaves the function:
// validation errors, check evidence, failure messages, output variables,
// logs and published events.
//
// A Redactor replaces known secret values — header values a spec sets,
// credential-looking query values, SecureString parameters — wherever they
// appear, also in the URL-encoded and JSON-escaped forms a server may
// reflect them in. Independently of the values it knows, it redacts the
// value of every URL query parameter (or fragment parameter) whose name
// looks like a credential and the password of a URL's userinfo, so a
// presigned URL a server redirects to is not echoed either.
//
// IsSecretHeader and IsSecretParam name what is secret by nature.
package redact
