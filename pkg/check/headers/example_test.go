package headers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/headers"
	"github.com/postdeploy/postdeploy/pkg/check/httpcheck"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.25.3")
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}))
	defer srv.Close()

	// The example's server listens on loopback, which only local runs
	// may probe (AllowLoopback, from POSTDEPLOY_LOCAL_PROBES=loopback).
	sampler, errs := headers.New(httpcheck.Options{AllowLoopback: true}, []check.Item{
		{Index: 0, Check: spec.Check{Name: "baseline", Headers: &spec.Headers{URL: srv.URL, Require: []string{"nosniff", "server-version"}}}},
	})
	if errs != nil {
		fmt.Println(errs)
		return
	}
	r := sampler.Sample(context.Background(), check.Sample{Now: time.Now()})[0]
	fmt.Println(r.Verdict)
	fmt.Println(r.Observed)
	// Output:
	// Failed
	// status 200: 1 of 2 rules failed (server-version); server-version: Server: nginx/1.25.3 discloses a version; fix: drop the version from Server (nginx: server_tokens off; Apache: ServerTokens Prod)
}

func ExampleNew_unknownRule() {
	_, errs := headers.New(httpcheck.Options{}, []check.Item{
		{Index: 3, Check: spec.Check{Name: "baseline", Headers: &spec.Headers{URL: "https://app.example.com/", Require: []string{"hsts", "hst"}}}},
	})
	fmt.Println(errs[0])
	// Output:
	// checks[3].headers.require[1]: unknown rule "hst" (rules: hsts, nosniff, csp, frame-options, server-version, powered-by, cookie-secure, cookie-httponly, cookie-samesite)
}
