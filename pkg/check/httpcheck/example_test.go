package httpcheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/httpcheck"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, `{"status":"UP"}`)
	}))
	defer srv.Close()

	// The example's server listens on loopback, which only local runs
	// may probe (AllowLoopback, from POSTDEPLOY_LOCAL_PROBES=loopback).
	sampler, errs := httpcheck.New(httpcheck.Options{AllowLoopback: true}, []check.Item{
		{Index: 0, Check: spec.Check{Name: "health", HTTP: &spec.HTTP{URL: srv.URL + "/health"},
			Expect: `status == 200 && json.status == "UP" && latency < duration("2s")`}},
		{Index: 1, Check: spec.Check{Name: "metadata", HTTP: &spec.HTTP{URL: "http://169.254.169.254/latest/meta-data/"}}},
	})
	if errs != nil {
		fmt.Println(errs)
		return
	}
	for _, r := range sampler.Sample(context.Background(), check.Sample{Now: time.Now()}) {
		fmt.Println(r.Verdict, r.Values["status"])
	}
	// Output:
	// Succeeded 200
	// Error 0
}

func ExampleNew_badExpression() {
	_, errs := httpcheck.New(httpcheck.Options{}, []check.Item{
		{Index: 3, Check: spec.Check{Name: "health", HTTP: &spec.HTTP{URL: "https://api.example.com/health"}, Expect: `stauts == 200`}},
	})
	fmt.Println(errs[0].Path)
	// Output:
	// checks[3].expect
}
