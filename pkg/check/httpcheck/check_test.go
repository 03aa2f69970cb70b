package httpcheck

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func httpCheck(h spec.HTTP, expect string) spec.Check {
	return spec.Check{Name: "probe", HTTP: &h, Expect: expect}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, errs := New(Options{AllowLoopback: true}, items(
		httpCheck(spec.HTTP{URL: "https://ok.example/"}, `status == 200`),
		httpCheck(spec.HTTP{URL: "https://ok.example/", Method: "GTE"}, `status ==`),
		httpCheck(spec.HTTP{URL: "https://ok.example/"}, `foo > 1`),
		httpCheck(spec.HTTP{URL: "https://ok.example/", Headers: map[string]string{"Bad Name": "x", "X-Ok": "a\r\nInjected: 1"}}, `status`),
		spec.Check{Name: "no block"},
	))
	var got []string
	for _, e := range errs {
		got = append(got, e.Path)
	}
	want := []string{
		"checks[1].http.method",
		"checks[1].expect",
		"checks[2].expect",
		`checks[3].http.headers["Bad Name"]`,
		`checks[3].http.headers["X-Ok"]`,
		"checks[3].expect",
		"checks[4].http",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("New(...) error paths (-want +got):\n%s\nall errors: %v", diff, errs)
	}
	for _, tt := range []struct{ path, want string }{
		{"checks[1].method", `unknown method "GTE" (methods: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)`},
		{"checks[2].expect", "unknown name foo"},
		{"checks[2].expect", "variables: status"},
		{"checks[3].expect", "expected bool, but got int"},
	} {
		found := false
		for _, e := range errs {
			if strings.HasPrefix(e.Path, strings.Split(tt.path, ".")[0]) && strings.Contains(e.Msg, tt.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("New(...) errors = %v; want one at %s containing %q", errs, tt.path, tt.want)
		}
	}
}

func TestNewAcceptsLowercaseMethod(t *testing.T) {
	s, errs := New(Options{AllowLoopback: true}, items(httpCheck(spec.HTTP{URL: "http://127.0.0.1/", Method: "post"}, "")))
	if len(errs) != 0 || s == nil {
		t.Fatalf("New(method post) = %v, %v; want a sampler, no errors", s, errs)
	}
	if m := sampler(t, s).probes[0].req.Method; m != http.MethodPost {
		t.Errorf("method = %q; want POST", m)
	}
}

// want is what a test expects of one result.
type want struct {
	verdict  verdict.Verdict
	observed []string // substrings of Observed
	values   map[string]float64
}

func (w want) check(t *testing.T, name string, r verdict.Result) {
	t.Helper()
	if r.Verdict != w.verdict {
		t.Errorf("%s: verdict = %v; want %v (observed %q)", name, r.Verdict, w.verdict, r.Observed)
	}
	for _, s := range w.observed {
		if !strings.Contains(r.Observed, s) {
			t.Errorf("%s: observed = %q; want it to contain %q", name, r.Observed, s)
		}
	}
	for k, v := range w.values {
		if got, ok := r.Values[k]; !ok || got != v {
			t.Errorf("%s: values[%q] = %v (present %v); want %v", name, k, got, ok, v)
		}
	}
}

// TestSample runs many kinds of probe in one sample, against real local
// servers, and checks each result lands in its place.
func TestSample(t *testing.T) {
	var flaky atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"UP","checks":3}`)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"DOWN"}`)
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if flaky.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"pad":"`+strings.Repeat("x", 2<<20)+`"}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "body": string(b), "token": r.Header.Get("X-Token"),
			"host": r.Host, "ua": r.Header.Get("User-Agent"),
		})
	})
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
	})
	plain := httptest.NewServer(mux)
	defer plain.Close()
	tlsSrv := quiet(httptest.NewTLSServer(mux))
	defer tlsSrv.Close()
	untrusted := untrustedTLSServer(t, mux)

	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())

	cases := []struct {
		name   string
		check  spec.Check
		want   want
		expect string // Expected, when the case cares
	}{
		{"200 with json expect", httpCheck(spec.HTTP{URL: plain.URL + "/ok"}, `status == 200 && json.status == "UP" && json.checks >= 3 && latency < duration("5s")`),
			want{verdict.Succeeded, []string{"status 200 in "}, map[string]float64{"status": 200, "attempts": 1}},
			"status any 2xx, expect `status == 200 && json.status == \"UP\" && json.checks >= 3 && latency < duration(\"5s\")`"},
		{"expect false quotes the body", httpCheck(spec.HTTP{URL: plain.URL + "/ok"}, `json.status == "DOWN"`),
			want{verdict.Failed, []string{"expect was false", `body: "{\"status\":\"UP\",\"checks\":3}"`}, nil}, ""},
		{"expect error on non-json body", httpCheck(spec.HTTP{URL: plain.URL + "/text"}, `json.status == "UP"`),
			want{verdict.Failed, []string{"expect could not be evaluated: cannot fetch status from <nil>", "json?.field"}, nil}, ""},
		{"503 fails", httpCheck(spec.HTTP{URL: plain.URL + "/down"}, ""),
			want{verdict.Failed, []string{"status 503 is not accepted (want any 2xx)"}, map[string]float64{"status": 503}}, "status any 2xx"},
		{"503 accepted when listed", httpCheck(spec.HTTP{URL: plain.URL + "/down", Status: []int{200, 503}}, ""),
			want{verdict.Succeeded, nil, nil}, "status 200 or 503"},
		{"503 is retried and still fails", httpCheck(spec.HTTP{URL: plain.URL + "/down", Retries: 2}, ""),
			want{verdict.Failed, []string{"on attempt 3"}, map[string]float64{"attempts": 3}}, ""},
		{"slow handler times out", httpCheck(spec.HTTP{URL: plain.URL + "/slow", Timeout: spec.Duration(50 * time.Millisecond)}, ""),
			want{verdict.Error, []string{"no response within the 50ms timeout"}, nil}, ""},
		{"maxLatency", httpCheck(spec.HTTP{URL: plain.URL + "/wait", MaxLatency: spec.Duration(time.Millisecond)}, ""),
			want{verdict.Failed, []string{"over maxLatency 1ms"}, nil}, "status any 2xx, latency ≤ 1ms"},
		{"redirect loop", httpCheck(spec.HTTP{URL: plain.URL + "/loop", MaxRedirects: 3}, ""),
			want{verdict.Failed, []string{"still redirected after 3 redirects", "raise maxRedirects"}, nil}, ""},
		{"redirect followed", httpCheck(spec.HTTP{URL: plain.URL + "/moved"}, `json.status == "UP"`),
			want{verdict.Succeeded, []string{"from " + plain.URL + "/ok"}, nil}, ""},
		{"redirects not followed", httpCheck(spec.HTTP{URL: plain.URL + "/moved", MaxRedirects: -1, Status: []int{301}}, ""),
			want{verdict.Succeeded, []string{"status 301"}, nil}, ""},
		{"huge body is capped", httpCheck(spec.HTTP{URL: plain.URL + "/huge"}, `len(body) == 1048576 && json == nil`),
			want{verdict.Succeeded, nil, nil}, ""},
		{"huge body truncation is named", httpCheck(spec.HTTP{URL: plain.URL + "/huge"}, `json?.pad != nil`),
			want{verdict.Failed, []string{"body truncated at 1 MiB"}, nil}, ""},
		{"method, body, headers, host", httpCheck(spec.HTTP{URL: plain.URL + "/echo", Method: "POST", Body: "hello", Headers: map[string]string{"X-Token": "t1", "Host": "api.example.com"}},
			`json.method == "POST" && json.body == "hello" && json.token == "t1" && json.host == "api.example.com" && json.ua == "postdeploy-verify/1"`),
			want{verdict.Succeeded, nil, nil}, ""},
		{"retries a 5xx until it succeeds", httpCheck(spec.HTTP{URL: plain.URL + "/flaky", Retries: 3}, `body == "ok"`),
			want{verdict.Succeeded, []string{"on attempt"}, nil}, ""},
		{"closed port", httpCheck(spec.HTTP{URL: closedPort(t), Retries: 1}, ""),
			want{verdict.Error, []string{"connection refused", "(2 attempts)"}, map[string]float64{"attempts": 2}}, ""},
		{"trusted TLS", httpCheck(spec.HTTP{URL: tlsSrv.URL + "/ok"}, `json.status == "UP"`),
			want{verdict.Succeeded, nil, nil}, ""},
		{"untrusted TLS", httpCheck(spec.HTTP{URL: untrusted.URL + "/ok", Retries: 2}, ""),
			want{verdict.Error, []string{"TLS certificate verification failed", "unknown authority"}, map[string]float64{"attempts": 1}}, ""},
		{"TLS to a plain server", httpCheck(spec.HTTP{URL: strings.Replace(plain.URL, "http://", "https://", 1) + "/ok"}, ""),
			want{verdict.Error, []string{"did not answer with TLS"}, nil}, ""},
		{"instance metadata refused", httpCheck(spec.HTTP{URL: "http://169.254.169.254/latest/meta-data/", Retries: 2}, ""),
			want{verdict.Error, []string{"refused to connect to 169.254.169.254", "set allowLinkLocal: true"}, map[string]float64{"attempts": 1}}, ""},
		{"redirect to instance metadata refused", httpCheck(spec.HTTP{URL: plain.URL + "/to-metadata"}, ""),
			want{verdict.Error, []string{"refused to connect to 169.254.169.254", "allowLinkLocal"}, nil}, ""},
		{"IPv6 metadata refused", httpCheck(spec.HTTP{URL: "http://[fd00:ec2::254]/latest/meta-data/"}, ""),
			want{verdict.Error, []string{"refused to connect to fd00:ec2::254"}, nil}, ""},
	}
	var cs []spec.Check
	for _, c := range cases {
		c.check.Name = c.name
		cs = append(cs, c.check)
	}
	s, errs := New(Options{AllowLoopback: true, RootCAs: pool, RetryBackoff: time.Millisecond}, items(cs...))
	if len(errs) != 0 {
		t.Fatalf("New: %v", errs)
	}
	defer sampler(t, s).CloseIdleConnections()
	got := s.Sample(context.Background(), check.Sample{Now: time.Now()})
	if len(got) != len(cases) {
		t.Fatalf("Sample returned %d results; want %d", len(got), len(cases))
	}
	for i, c := range cases {
		t.Logf("%s: %v: %s", c.name, got[i].Verdict, got[i].Evidence())
		c.want.check(t, c.name, got[i])
		if got[i].Target != cs[i].HTTP.URL {
			t.Errorf("%s: target = %q; want %q", c.name, got[i].Target, cs[i].HTTP.URL)
		}
		if c.expect != "" && got[i].Expected != c.expect {
			t.Errorf("%s: expected = %q; want %q", c.name, got[i].Expected, c.expect)
		}
	}
}

func TestSampleHonoursCancelledContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s, errs := New(Options{AllowLoopback: true}, items(
		httpCheck(spec.HTTP{URL: srv.URL, Retries: 5}, ""),
		httpCheck(spec.HTTP{URL: srv.URL}, ""),
	))
	if len(errs) != 0 {
		t.Fatalf("New: %v", errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i, r := range s.Sample(ctx, check.Sample{}) {
		want{verdict.Error, []string{"canceled"}, nil}.check(t, fmt.Sprintf("result %d", i), r)
	}
}

func TestDNSNameToLinkLocalRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")

	metadata := NewClient(Options{Resolver: fakeDNS([4]byte{169, 254, 169, 254})})
	_, err := metadata.Do(context.Background(), Request{URL: "http://imds.test:" + port + "/"})
	if v, msg := Explain(err, 0); v != verdict.Error || !strings.Contains(msg, "refused to connect to 169.254.169.254") {
		t.Errorf("Do(imds.test → 169.254.169.254) = %v: %q; want Error refusing 169.254.169.254", v, msg)
	}

	// The same name resolving to loopback connects: the refusal above is
	// the guard, not the fake resolver.
	local := NewClient(Options{AllowLoopback: true, Resolver: fakeDNS([4]byte{127, 0, 0, 1})})
	resp, err := local.Do(context.Background(), Request{URL: "http://imds.test:" + port + "/"})
	if err != nil || resp.Status != http.StatusOK {
		t.Errorf("Do(imds.test → 127.0.0.1) = %+v, %v; want status 200", resp, err)
	}
}

// TestSampleDeadlineIsNotTheCheckTimeout: when the sample's context ends
// first (the function's deadline), the evidence says so rather than
// blaming the check's own timeout.
func TestSampleDeadlineIsNotTheCheckTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	s, errs := New(Options{AllowLoopback: true}, items(httpCheck(spec.HTTP{URL: srv.URL, Timeout: spec.Duration(time.Minute)}, "")))
	if len(errs) != 0 {
		t.Fatalf("New: %v", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r := s.Sample(ctx, check.Sample{})[0]
	want{verdict.Error, []string{"reached the function's deadline"}, nil}.check(t, "deadline", r)
	if strings.Contains(r.Observed, "1m0s timeout") {
		t.Errorf("observed = %q; want no blame on the check's 1m timeout", r.Observed)
	}
}
