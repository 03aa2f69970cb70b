package redact_test

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/redact"
)

func ExampleRedactor_String() {
	// The values a spec sets on its probes, and the headers it sends.
	r := redact.New("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig").WithHeaders("X-Tenant")

	// A server that reflects the token, and a redirect to a presigned URL.
	fmt.Println(r.String(`401: token eyJhbGciOiJIUzI1NiJ9.e30.sig expired`))
	fmt.Println(r.String(`302 to https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Date=20250101T000000Z`))
	fmt.Println(r.HeaderValue("Set-Cookie", "session=1234"))
	fmt.Println(r.HeaderValue("X-Tenant", "acme"))
	// Output:
	// 401: token [redacted] expired
	// 302 to https://b.s3.amazonaws.com/k?X-Amz-Signature=[redacted]&X-Amz-Date=20250101T000000Z
	// [redacted]
	// [redacted]
}
