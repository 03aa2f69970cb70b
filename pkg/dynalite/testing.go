package dynalite

import (
	"context"
	"errors"
	"os"
	"testing"
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

// Shared is one server for a whole test binary, started from TestMain:
//
//	var db *dynalite.Shared
//
//	func TestMain(m *testing.M) {
//		db = dynalite.StartShared(context.Background())
//		code := m.Run()
//		db.Close()
//		os.Exit(code)
//	}
//
// Each test then calls db.Server(t).
type Shared struct {
	srv *Server
	err error
}

// StartShared starts the server; a failure is reported by Server, to each
// test, rather than here where no test can be skipped or failed.
func StartShared(ctx context.Context) *Shared {
	s, err := Start(ctx)
	return &Shared{srv: s, err: err}
}

// Server returns the shared server, or skips tb when dynalite is not
// installed (outside CI) and fails it on any other start error.
func (s *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	require(tb, s.err)
	return s.srv
}

// Close stops the shared server.
func (s *Shared) Close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}

func require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
		tb.Skip("dynalite not installed: run make node")
	}
	tb.Fatalf("start dynalite: %v", err)
}
