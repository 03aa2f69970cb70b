package dynalite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/postdeploy/postdeploy/pkg/state"
)

// StartT starts a server for one test and closes it when the test ends.
// It skips the test when dynalite is not installed, except under CI.
func StartT(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start(context.Background())
	require(tb, err)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close dynalite: %v", err)
		}
	})
	return s
}

// Shared is one server for a whole test binary, declared from TestMain:
//
//	var db *dynalite.Shared
//
//	func TestMain(m *testing.M) {
//		db = dynalite.StartShared(context.Background())
//		os.Exit(db.Run(m))
//	}
//
// Each test then calls db.Server(t), or db.StateTable(t, prefix) for a
// fresh state table of its own. The server starts on the first
// Server call, so a test binary none of whose selected tests needs it
// (a fuzz worker, a -run filter) never starts one.
type Shared struct {
	tables atomic.Int64
	ctx    context.Context
	once   sync.Once
	mu     sync.Mutex
	srv    *Server
	err    error
}

// StartShared prepares the shared server; it starts on first use, and a
// start failure is reported by Server, to each test, where it can skip
// or fail.
func StartShared(ctx context.Context) *Shared {
	return &Shared{ctx: context.WithoutCancel(ctx)}
}

// Server returns the shared server, starting it on first use, or skips tb
// when dynalite is not installed (outside CI) and fails it on any other
// start error.
func (s *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	s.once.Do(func() {
		srv, err := Start(s.ctx)
		s.mu.Lock()
		s.srv, s.err = srv, err
		s.mu.Unlock()
	})
	s.mu.Lock()
	srv, err := s.srv, s.err
	s.mu.Unlock()
	require(tb, err)
	return srv
}

// Run runs the test binary's tests, then closes the server; its result
// is TestMain's exit code.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	_ = s.Close()
	return code
}

// StateTable creates a table with the state table's schema
// (state.CreateTable) on the shared server, named prefix-N with N unique
// in the test binary, and returns a client of the server and its name.
func (s *Shared) StateTable(tb testing.TB, prefix string) (*dynamodb.Client, string) {
	tb.Helper()
	c := s.Server(tb).Client()
	name := fmt.Sprintf("%s-%d", prefix, s.tables.Add(1))
	if err := state.CreateTable(context.Background(), c, name); err != nil {
		tb.Fatalf("create state table %s: %v", name, err)
	}
	return c, name
}

// Close stops the shared server if it was started.
func (s *Shared) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {}) // no start after Close
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.Close()
}

func require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
		tb.Skip("dynalite not installed: run make node")
		return
	}
	tb.Fatalf("start dynalite: %v", err)
}
