package headers

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/httpcheck"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func headersCheck(h spec.Headers) spec.Check { return spec.Check{Name: "baseline", Headers: &h} }

func items(cs ...spec.Check) []check.Item {
	its := make([]check.Item, len(cs))
	for i, c := range cs {
		its[i] = check.Item{Index: i, Check: c}
	}
	return its
}

func TestNewErrors(t *testing.T) {
	_, errs := New(httpcheck.Options{}, items(
		headersCheck(spec.Headers{URL: "https://ok.example/", Require: []string{"hsts", "nosniff"}}),
		headersCheck(spec.Headers{URL: "https://ok.example/", Require: []string{"nosniff", "hst"}, Skip: []string{"csp", "cookies"}}),
		headersCheck(spec.Headers{URL: "http://plain.example/", Require: []string{"hsts"}}),
		headersCheck(spec.Headers{URL: "https://ok.example/", Require: []string{"csp"}, Skip: []string{"csp"}}),
		headersCheck(spec.Headers{URL: "https://ok.example/", Skip: RuleNames()}),
		spec.Check{Name: "with expect", Headers: &spec.Headers{URL: "https://ok.example/"}, Expect: "status == 200"},
		spec.Check{Name: "no block"},
	))
	valid := "(rules: hsts, nosniff, csp, frame-options, server-version, powered-by, cookie-secure, cookie-httponly, cookie-samesite)"
	want := spec.Errors{
		{Path: "checks[1].headers.skip[1]", Msg: `unknown rule "cookies" ` + valid},
		{Path: "checks[1].headers.require[1]", Msg: `unknown rule "hst" ` + valid},
		{Path: "checks[2].headers.require[0]", Msg: `rule "hsts" needs an https:// url (browsers ignore it over plain http); probe the https URL or drop "hsts"`},
		{Path: "checks[3].headers.require[0]", Msg: `rule "csp" is also in skip; remove it from one of them`},
		{Path: "checks[4].headers.skip", Msg: "skips every rule, so the check checks nothing; remove the check or keep a rule"},
		{Path: "checks[5].expect", Msg: "headers checks take no expect (choose rules with headers.require and headers.skip); remove it"},
		{Path: "checks[6].headers", Msg: "missing: this check has no headers block"},
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("New(...) errors (-want +got):\n%s", diff)
	}
}

func TestNewSelectsRules(t *testing.T) {
	tests := []struct {
		name string
		h    spec.Headers
		want string
	}{
		{"default is every rule", spec.Headers{URL: "https://x/"}, strings.Join(RuleNames(), ", ")},
		{"require picks, in rule order", spec.Headers{URL: "https://x/", Require: []string{"nosniff", "hsts", "nosniff"}}, "hsts, nosniff"},
		{"skip removes", spec.Headers{URL: "https://x/", Skip: []string{"csp", "frame-options", "cookie-httponly"}},
			"hsts, nosniff, server-version, powered-by, cookie-secure, cookie-samesite"},
	}
	for _, tt := range tests {
		s, errs := New(httpcheck.Options{}, items(headersCheck(tt.h)))
		if len(errs) != 0 {
			t.Fatalf("%s: New: %v", tt.name, errs)
		}
		ss, ok := s.(*Sampler)
		if !ok {
			t.Fatalf("%s: New returned %T; want *Sampler", tt.name, s)
		}
		if got := ss.targets[0].Expected(); got != "security header rules pass: "+tt.want {
			t.Errorf("%s: Expected() = %q; want rules %q", tt.name, got, tt.want)
		}
	}
}

func secure(w http.ResponseWriter) {
	for k, v := range good() {
		w.Header()[k] = v
	}
}

func TestSample(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) { secure(w) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.25.3")
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("Strict-Transport-Security", "max-age=60")
		w.Header().Add("Set-Cookie", "session=s3cr3t; Path=/; SameSite=Lax")
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	mux.HandleFunc("/unauthorized", func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.WriteHeader(http.StatusUnauthorized)
	})
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())

	// The plain server redirects /upgrade to the TLS server.
	mux.HandleFunc("/upgrade", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tlsSrv.URL+"/good", http.StatusMovedPermanently)
	})

	cases := []struct {
		name     string
		h        spec.Headers
		verdict  verdict.Verdict
		observed []string
		failed   float64
	}{
		{"good over TLS", spec.Headers{URL: tlsSrv.URL + "/good"}, verdict.Succeeded, []string{"status 200: 9 rules passed"}, 0},
		{"bad over TLS", spec.Headers{URL: tlsSrv.URL + "/bad"}, verdict.Failed, []string{
			"8 of 9 rules failed (hsts, nosniff, csp, frame-options, server-version, powered-by, cookie-secure, cookie-httponly)",
			"hsts: Strict-Transport-Security: max-age=60 has max-age 60, under one year",
			"server-version: Server: nginx/1.25.3 discloses a version; fix: drop the version from Server",
			`cookie-secure: cookie "session" is set without Secure; fix: add Secure`,
		}, 8},
		{"required subset", spec.Headers{URL: tlsSrv.URL + "/bad", Require: []string{"cookie-samesite"}}, verdict.Succeeded, []string{"1 rules passed (cookie-samesite)"}, 0},
		{"skip", spec.Headers{URL: tlsSrv.URL + "/bad", Skip: []string{"hsts", "nosniff", "csp", "frame-options", "server-version", "cookie-secure", "cookie-httponly"}},
			verdict.Failed, []string{"1 of 2 rules failed (powered-by)"}, 1},
		{"plain http: hsts not applicable", spec.Headers{URL: plain.URL + "/good"}, verdict.Succeeded, []string{"8 rules passed", "hsts not applicable to a plain-http response"}, 0},
		{"http redirected to https", spec.Headers{URL: plain.URL + "/upgrade"}, verdict.Succeeded, []string{"from " + tlsSrv.URL + "/good: 9 rules passed"}, 0},
		{"4xx is still judged", spec.Headers{URL: tlsSrv.URL + "/unauthorized"}, verdict.Succeeded, []string{"status 401: 9 rules passed"}, 0},
		{"5xx is not judged", spec.Headers{URL: tlsSrv.URL + "/error"}, verdict.Inconclusive, []string{"status 502", "not judged"}, 0},
		{"instance metadata refused", spec.Headers{URL: "http://169.254.169.254/"}, verdict.Error, []string{"refused to connect to 169.254.169.254", "allowLinkLocal"}, 0},
	}
	var cs []spec.Check
	for _, c := range cases {
		ch := headersCheck(c.h)
		ch.Name = c.name
		cs = append(cs, ch)
	}
	s, errs := New(httpcheck.Options{AllowLoopback: true, RootCAs: pool}, items(cs...))
	if len(errs) != 0 {
		t.Fatalf("New: %v", errs)
	}
	got := s.Sample(context.Background(), check.Sample{Now: time.Now()})
	if len(got) != len(cases) {
		t.Fatalf("Sample returned %d results; want %d", len(got), len(cases))
	}
	for i, c := range cases {
		r := got[i]
		t.Logf("%s: %v: %s", c.name, r.Verdict, r.Evidence())
		if r.Verdict != c.verdict {
			t.Errorf("%s: verdict = %v; want %v (observed %q)", c.name, r.Verdict, c.verdict, r.Observed)
		}
		for _, o := range c.observed {
			if !strings.Contains(r.Observed, o) {
				t.Errorf("%s: observed = %q; want it to contain %q", c.name, r.Observed, o)
			}
		}
		if strings.Contains(r.Observed, "s3cr3t") {
			t.Errorf("%s: observed = %q quotes a cookie value", c.name, r.Observed)
		}
		if r.Verdict == verdict.Failed && r.Values["rules_failed"] != c.failed {
			t.Errorf("%s: values[rules_failed] = %v; want %v", c.name, r.Values["rules_failed"], c.failed)
		}
		if r.Target != c.h.URL {
			t.Errorf("%s: target = %q; want %q", c.name, r.Target, c.h.URL)
		}
	}
}
