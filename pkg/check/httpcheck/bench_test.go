package httpcheck

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// BenchmarkSample100Probes takes samples of 100 http checks against local
// servers that each answer after 100 ms. Probes run concurrently, so a
// sample should take about one answer's time, not a hundred (target
// < 300 ms/sample).
func BenchmarkSample100Probes(b *testing.B) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		_, _ = w.Write([]byte(`{"status":"UP"}`))
	})
	const servers, probes = 4, 100
	var cs []spec.Check
	for i := range servers {
		srv := httptest.NewServer(slow)
		b.Cleanup(srv.Close)
		for j := range probes / servers {
			cs = append(cs, httpCheck(spec.HTTP{URL: fmt.Sprintf("%s/health?probe=%d", srv.URL, j), Timeout: spec.Duration(5 * time.Second)}, `status == 200 && json.status == "UP"`))
			cs[len(cs)-1].Name = fmt.Sprintf("probe-%d-%d", i, j)
		}
	}
	s, errs := New(Options{}, items(cs...))
	if len(errs) != 0 {
		b.Fatalf("New: %v", errs)
	}
	defer sampler(b, s).CloseIdleConnections()
	start := time.Now()
	for b.Loop() {
		for i, r := range s.Sample(context.Background(), check.Sample{Now: time.Now()}) {
			if r.Verdict.String() != "Succeeded" {
				b.Fatalf("probe %d: %v: %s", i, r.Verdict, r.Evidence())
			}
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/sample")
}
