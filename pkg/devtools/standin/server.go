package standin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Region is the region the stand-in claims to be, used in ARNs and Env.
const Region = "us-east-1"

// AccountID is the account the stand-in claims to be, used in ARNs.
const AccountID = "123456789012"

// Server is the local AWS stand-in: an HTTP server that answers the real
// aws-sdk-go-v2 clients on their wire protocols from in-memory state.
// Create it with New, then Start it (or mount it as an http.Handler).
type Server struct {
	opts options

	ln   net.Listener
	http *http.Server
	url  string
	wg   sync.WaitGroup

	connMu sync.Mutex
	conns  map[net.Conn]http.ConnState

	mu     sync.Mutex
	calls  []Call
	gen    int // bumped by ResetCalls, so finish never touches a newer call
	faults map[faultKey]*Fault
	st     *state
}

type options struct {
	addr    string
	now     func() time.Time
	observe func(Call)
}

// Option configures a Server.
type Option func(*options)

// WithAddr makes Start listen on addr (e.g. "127.0.0.1:4566") instead of
// a free loopback port.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithClock replaces time.Now: timestamps, generated metric series and
// deployment settling read this clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithObserver calls fn with every call once it is answered (from the
// request's goroutine, not under any lock), e.g. to stream a demo log.
func WithObserver(fn func(Call)) Option { return func(o *options) { o.observe = fn } }

// New builds a stand-in seeded from sc. It reports every problem in sc
// (joined) instead of starting with a half-loaded state.
func New(sc Scenario, opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0", now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	s := &Server{opts: o, faults: map[faultKey]*Fault{}}
	st, err := newState(sc, o.now())
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	s.st = st
	return s, nil
}

// Start listens and serves in the background until Close.
func (s *Server) Start() error {
	if s.ln != nil {
		return errors.New("standin: already started")
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", s.opts.addr)
	if err != nil {
		return fmt.Errorf("standin: listen on %s: %w", s.opts.addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.conns = map[net.Conn]http.ConnState{}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: s.trackConn}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln)
	}()
	return nil
}

// Close stops the server, lets requests in flight finish (5s at most) and
// waits for it; safe to call more than once.
func (s *Server) Close() {
	if s.http == nil {
		return
	}
	_ = s.ln.Close()
	s.http.SetKeepAlivesEnabled(false)
	// Like httptest: connections that are idle or were opened but never
	// used are closed now, so Shutdown does not wait out their timeout.
	s.connMu.Lock()
	for c, st := range s.conns {
		if st == http.StateNew || st == http.StateIdle {
			_ = c.Close()
		}
	}
	s.connMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = s.http.Close()
	}
	s.wg.Wait()
	s.http = nil
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = st
	}
}

// URL is the base URL to give clients (AWS_ENDPOINT_URL), e.g.
// http://127.0.0.1:39211. Empty before Start.
func (s *Server) URL() string { return s.url }

// Env returns the environment a child process needs to send every AWS SDK
// call to this stand-in with dummy credentials: AWS_ENDPOINT_URL, region,
// static keys, no profile or shared config files (a developer's ~/.aws
// must not redirect the demo), no instance metadata lookups. Append it
// after os.Environ() so it wins.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.url,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=standin",
		"AWS_SECRET_ACCESS_KEY=standin",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

func (s *Server) now() time.Time { return s.opts.now().UTC() }
