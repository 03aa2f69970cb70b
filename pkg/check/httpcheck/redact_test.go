package httpcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// The secrets a spec gives its probes in TestEvidenceNeverEchoesSecrets.
const (
	bearer   = "tok-Abc123456789"
	apiKey   = "key-Xyz987654321"
	querySig = "sig+Q/secret=777"
)

// TestEvidenceNeverEchoesSecrets: a server that reflects the request —
// headers, query, raw, JSON-escaped or URL-encoded, in its body or in a
// redirect — never gets a header value the spec sets or a credential from
// its URL into the evidence (Target, Observed, Expected).
func TestEvidenceNeverEchoesSecrets(t *testing.T) {
	mux := http.NewServeMux()
	// reflect answers 500 with everything it was sent.
	mux.HandleFunc("/reflect", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]any{"headers": r.Header, "query": r.URL.RawQuery, "sig": r.URL.Query().Get("X-Amz-Signature")})
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, string(b)+" raw="+r.Header.Get("Authorization")+" "+url.QueryEscape(r.Header.Get("X-Api-Key"))) //nolint:gosec // G705: the test server reflects its request on purpose, as text/plain
	})
	// loop redirects forever, to a URL carrying the request's credentials.
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?X-Amz-Signature="+url.QueryEscape(r.URL.Query().Get("X-Amz-Signature"))+"&token="+url.QueryEscape(r.Header.Get("X-Api-Key")), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	headers := map[string]string{"Authorization": "Bearer " + bearer, "X-Api-Key": apiKey}
	query := "?X-Amz-Signature=" + url.QueryEscape(querySig) + "&page=2"
	s, errs := New(Options{AllowLoopback: true}, items(
		httpCheck(spec.HTTP{URL: srv.URL + "/reflect" + query, Headers: headers}, ""),
		httpCheck(spec.HTTP{URL: srv.URL + "/reflect" + query, Headers: headers, Status: []int{500}}, `body contains "nothing"`),
		httpCheck(spec.HTTP{URL: srv.URL + "/loop" + query, Headers: headers, MaxRedirects: 2}, ""),
	))
	if len(errs) != 0 {
		t.Fatalf("New: %v", errs)
	}
	rs := s.Sample(t.Context(), check.Sample{})
	wants := []want{
		{verdict.Failed, []string{"status 500 is not accepted"}, nil},
		{verdict.Failed, []string{"expect was false; body:", "[redacted]"}, nil},
		{verdict.Failed, []string{"still redirected after 2 redirects", "X-Amz-Signature=[redacted]", "token=[redacted]"}, nil},
	}
	for i, r := range rs {
		wants[i].check(t, fmt.Sprintf("result %d", i), r)
		for _, secret := range []string{bearer, apiKey, querySig, url.QueryEscape(querySig), url.QueryEscape(apiKey)} {
			for field, text := range map[string]string{"Target": r.Target, "Observed": r.Observed, "Expected": r.Expected} {
				if strings.Contains(text, secret) {
					t.Errorf("result %d %s = %q; holds the secret %q", i, field, text, secret)
				}
			}
		}
	}
	if !strings.Contains(rs[0].Target, "X-Amz-Signature=[redacted]&page=2") {
		t.Errorf("result 0 Target = %q; want the URL with its signature redacted", rs[0].Target)
	}
}
