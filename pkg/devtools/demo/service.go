package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"
)

// Versions of the sample service.
const (
	versionHealthy = "healthy"
	versionBroken  = "broken"
)

// brokenDelay is how slowly the broken version answers.
const brokenDelay = 300 * time.Millisecond

// sampleService is the application the demo "deploys": an HTTP server on
// 127.0.0.1 with a healthy version (200, {"status":"UP"}, good security
// headers) and a broken one (503 {"status":"DOWN"}, slow, no security
// headers). Deploying a version switches which one answers.
type sampleService struct {
	srv     *httptest.Server
	version atomic.Value // string
	hits    atomic.Int64
}

func startSampleService() *sampleService {
	s := &sampleService{}
	s.version.Store(versionHealthy)
	// httptest listens on 127.0.0.1 only.
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the service's base URL, e.g. http://127.0.0.1:41234.
func (s *sampleService) URL() string { return s.srv.URL }

// deploy switches the version that answers.
func (s *sampleService) deploy(version string) { s.version.Store(version) }

func (s *sampleService) Close() { s.srv.Close() }

func (s *sampleService) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	v, _ := s.version.Load().(string)
	w.Header().Set("Content-Type", "application/json")
	if v == versionBroken {
		select {
		case <-time.After(brokenDelay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Server", "sample-api/2.0.0-broken")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "DOWN", "version": "2.0.0", "error": "database connection pool exhausted"})
		return
	}
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "UP", "version": "1.4.2"})
}
