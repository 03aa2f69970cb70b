package httpcheck

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// BenchmarkSample100Probes takes samples of 100 http checks against local
// servers that each answer after 100 ms. Probes run concurrently, so a
// sample should take about one answer's time, not a hundred (target
// < 300 ms/sample).
func BenchmarkSample100Probes(b *testing.B) {
	benchmarkSample(b, httptest.NewServer)
}

// BenchmarkSample100ProbesTLS is the same over HTTPS: the first sample
// pays for the handshakes (ms/first-sample), later ones reuse the
// kept-alive connections (ms/sample).
func BenchmarkSample100ProbesTLS(b *testing.B) {
	benchmarkSample(b, httptest.NewTLSServer)
}

func benchmarkSample(b *testing.B, start func(http.Handler) *httptest.Server) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		_, _ = w.Write([]byte(`{"status":"UP"}`))
	})
	const servers, probes = 4, 100
	pool := x509.NewCertPool()
	var cs []spec.Check
	for i := range servers {
		srv := start(slow)
		b.Cleanup(srv.Close)
		if c := srv.Certificate(); c != nil {
			pool.AddCert(c)
		}
		for j := range probes / servers {
			c := httpCheck(spec.HTTP{URL: fmt.Sprintf("%s/health?probe=%d", srv.URL, j)}, `status == 200 && json.status == "UP"`)
			c.Name = fmt.Sprintf("probe-%d-%d", i, j)
			cs = append(cs, c)
		}
	}
	s, errs := New(Options{AllowLoopback: true, RootCAs: pool}, items(cs...))
	if len(errs) != 0 {
		b.Fatalf("New: %v", errs)
	}
	defer sampler(b, s).CloseIdleConnections()
	sample := func() {
		for i, r := range s.Sample(context.Background(), check.Sample{Now: time.Now()}) {
			if r.Verdict != verdict.Succeeded {
				b.Fatalf("probe %d: %v: %s", i, r.Verdict, r.Evidence())
			}
		}
	}
	// The first sample opens the connections (and, over TLS, pays for 100
	// handshakes); it is reported apart from the warm samples that follow.
	began := time.Now()
	sample()
	first := time.Since(began)
	began = time.Now()
	for b.Loop() {
		sample()
	}
	b.ReportMetric(float64(time.Since(began).Microseconds())/1000/float64(b.N), "ms/sample")
	b.ReportMetric(float64(first.Microseconds())/1000, "ms/first-sample")
}
