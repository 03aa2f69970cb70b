package dynalite

import (
	"errors"
	"fmt"
	"testing"
)

// recorder is a testing.TB that records Skip and Fatalf instead of
// stopping the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestRequire(t *testing.T) {
	notInstalled := fmt.Errorf("%w (looked for /x/node_modules/.bin/dynalite)", ErrNotInstalled)
	tests := []struct {
		name          string
		ci            string
		err           error
		skip, failure bool
	}{
		{"started", "", nil, false, false},
		{"not installed on a laptop: skip", "", notInstalled, true, false},
		{"not installed under CI: fail", "true", notInstalled, false, true},
		{"other start failure: fail", "", errors.New("dynalite exited"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			require(r, tt.err)
			if (r.skipped != "") != tt.skip || (r.failed != "") != tt.failure {
				t.Errorf("require(CI=%q, %v): skipped %q, failed %q; want skip %v, fail %v", tt.ci, tt.err, r.skipped, r.failed, tt.skip, tt.failure)
			}
			if tt.skip && r.skipped != "dynalite not installed: run make node" {
				t.Errorf("skip message %q; want %q", r.skipped, "dynalite not installed: run make node")
			}
		})
	}
}
