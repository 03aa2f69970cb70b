package main

// No secret echoes, through verify's real bootstrap: a server that
// reflects the credentials a spec sends (its Authorization header, a
// token in the query) in a failing answer does not get them into the
// job's failure message, the published event or the function's logs.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestVerifyReflectedCredentialsAreRedacted(t *testing.T) {
	requireFunction(t, "verify")
	const bearer = "eyJhbGciOiJIUzI1NiJ9.ZTJlLXNlY3JldA.e2e-signature-0123"
	const token = "e2e-query-credential-9f8e7d"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "rejected "+r.Header.Get("Authorization")+" for "+r.URL.RawQuery) //nolint:gosec // G705: the test server reflects its request on purpose, as text/plain
	}))
	t.Cleanup(srv.Close)
	spec := map[string]any{"bake": "0s", "checks": []map[string]any{{
		"name":   "private-api",
		"http":   map[string]any{"url": srv.URL + "/v1/me?access_token=" + token, "headers": map[string]string{"Authorization": "Bearer " + bearer}},
		"expect": "status == 200 && body contains \"ok\"",
	}}}
	b, _ := json.Marshal(map[string]any{"spec": spec})
	si, fn := startVerify(t, nil, verifyTestTimeout, localProbes)
	run, err := runPipelineJob(context.Background(), fn, si, newJobEvent(string(b)), demoPipeline, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Outcome() != "Failed (JobFailed)" {
		t.Fatalf("outcome %s; want Failed (JobFailed) (the server answers 401)", run.Outcome())
	}
	var out strings.Builder
	out.WriteString(run.Final.Message)
	for _, inv := range run.Invocations {
		out.Write(inv.Logs)
	}
	for _, p := range si.Events() {
		pb, _ := json.Marshal(p)
		out.Write(pb)
	}
	for _, secret := range []string{bearer, token} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("%q left the function:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(run.Final.Message, "private-api") {
		t.Errorf("failure message %q does not name the check", run.Final.Message)
	}
}
