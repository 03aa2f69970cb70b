package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// MaxToken is CodePipeline's limit on a continuation token.
const MaxToken = 2048

const tokenVersion = 1

// State is what one invocation hands the next through the continuation
// token: when the bake started, the spec it was started with, and each
// check's tally.
type State struct {
	Version  int          `json:"v"`
	StartMS  int64        `json:"t"`
	Samples  int          `json:"n"`
	SpecHash string       `json:"h"`
	Checks   []CheckState `json:"c"`
}

// CheckState is one check's tally and the evidence of its last sample
// that did not succeed, so a failure seen in an earlier invocation can
// still be explained at the end.
type CheckState struct {
	verdict.Tally
	Last string `json:"l,omitempty"`
}

// Start returns when the bake started.
func (s State) Start() time.Time { return time.UnixMilli(s.StartMS) }

// NewState starts a bake now for a spec of n checks.
func NewState(now time.Time, specHash string, n int) State {
	return State{Version: tokenVersion, StartMS: now.UnixMilli(), SpecHash: specHash, Checks: make([]CheckState, n)}
}

// SpecHash identifies a spec's bytes, so a continuation notices when the
// spec changed mid-bake.
func SpecHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// EncodeToken renders s as a continuation token of at most MaxToken
// characters, shortening the kept evidence as needed.
func EncodeToken(s State) (string, error) {
	for _, keep := range []int{240, 120, 60, 24, 0} {
		t := s
		t.Checks = make([]CheckState, len(s.Checks))
		for i, c := range s.Checks {
			c.Last = shorten(c.Last, keep)
			t.Checks[i] = c
		}
		b, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("encode continuation token: %w", err)
		}
		if len(b) <= MaxToken {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("continuation token for %d checks exceeds %d characters", len(s.Checks), MaxToken)
}

// DecodeToken reads a token written by EncodeToken for a spec with n
// checks.
func DecodeToken(tok string, n int) (State, error) {
	var s State
	if err := json.Unmarshal([]byte(tok), &s); err != nil {
		return State{}, fmt.Errorf("continuation token is not one postdeploy wrote: %w", err)
	}
	if s.Version != tokenVersion {
		return State{}, fmt.Errorf("continuation token version %d; this function reads version %d (was it upgraded mid-bake?)", s.Version, tokenVersion)
	}
	if len(s.Checks) != n || s.StartMS <= 0 {
		return State{}, fmt.Errorf("continuation token holds %d checks; the spec has %d", len(s.Checks), n)
	}
	return s, nil
}

// CheckTokenFits reports, as a spec problem, a spec whose state cannot
// fit in a continuation token over its whole bake.
func CheckTokenFits(s spec.Spec) spec.Errors {
	samples := 1
	if s.Interval > 0 {
		samples = int(s.Bake.D()/s.Interval.D()) + 1
	}
	samples = samples*2 + 10 // room for re-deliveries and slow samples
	worst := NewState(time.Now(), SpecHash([]byte("x")), len(s.Checks))
	worst.Samples = samples
	for i := range worst.Checks {
		worst.Checks[i].Tally = verdict.Tally{Succeeded: samples, Failed: samples, Inconclusive: samples, Errors: samples, ConsecutiveErrors: samples}
	}
	var errs spec.Errors
	if _, err := EncodeToken(worst); err != nil {
		errs.Add("checks", "%d checks over a %s bake at %s intervals do not fit CodePipeline's %d-character continuation token: use fewer checks per action or a longer interval", len(s.Checks), s.Bake, s.Interval, MaxToken)
	}
	return errs
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}
