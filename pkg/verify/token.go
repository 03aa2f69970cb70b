package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// MaxToken is CodePipeline's limit on a continuation token.
const MaxToken = 2048

const tokenVersion = 1

// maxEvidence is the most of a check's last evidence a token keeps.
const maxEvidence = 240

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
	for _, keep := range []int{maxEvidence, 120, 60, 24, 0} {
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

// DecodeToken reads a token written by EncodeToken. It checks the
// token's form only; Validate checks its values.
func DecodeToken(tok string) (State, error) {
	if len(tok) > MaxToken {
		return State{}, fmt.Errorf("continuation token is %d characters; verify writes at most %d", len(tok), MaxToken)
	}
	var s State
	dec := json.NewDecoder(strings.NewReader(tok))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return State{}, fmt.Errorf("continuation token is not one postdeploy wrote: %w", err)
	}
	if dec.More() {
		return State{}, errors.New("continuation token is not one postdeploy wrote: text after its JSON")
	}
	if s.Version != tokenVersion {
		return State{}, fmt.Errorf("continuation token version %d; this function reads version %d (was it upgraded mid-bake?)", s.Version, tokenVersion)
	}
	return s, nil
}

// Clock limits a token's bake start is checked against.
const (
	// MaxClockSkew is how far apart the clocks of two Lambda execution
	// environments may be: a bake start up to this far in the future is
	// taken as written a moment ago elsewhere.
	MaxClockSkew = time.Minute
	// JobReplyTimeout is how long CodePipeline waits for a Lambda invoke
	// action's job to report before the action times out (20 minutes),
	// and MaxActionTime how long the action may run in all (24 hours):
	// "Quotas in AWS CodePipeline",
	// https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html.
	JobReplyTimeout = 20 * time.Minute
	MaxActionTime   = 24 * time.Hour
)

// Validate checks the values of a decoded token against the spec it
// resumes and the clock, so that even a token verify wrote cannot make it
// do something a bake never does:
//   - one tally per check of the spec;
//   - a bake start that is neither in the future (the next sample would
//     lie beyond any invocation) nor older than the bake plus
//     CodePipeline's 20-minute reply timeout (every hand-over happens
//     before the bake's end, and the next job comes within 20 minutes or
//     the action has timed out), capped by the action's 24 hours;
//   - a sample count between 0 and what the bake allows: verify hands
//     over only while another sample is due within the bake, so at most
//     bake/interval samples precede a hand-over;
//   - per check, counts between 0 and the sample count that add up to it
//     (every sample gives every check one verdict), and errors in a
//     row no more than the errors counted.
func (s State) Validate(sp spec.Spec, now time.Time) error {
	if len(s.Checks) != len(sp.Checks) {
		return fmt.Errorf("continuation token holds %d check tallies; the spec has %d checks", len(s.Checks), len(sp.Checks))
	}
	if s.StartMS <= 0 {
		return fmt.Errorf("continuation token has no bake start (t=%d)", s.StartMS)
	}
	start := s.Start()
	if start.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("continuation token's bake start %s is in the future (now %s)", start.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	bake, interval := sp.Bake.D(), sp.Interval.D()
	if maxAge := min(bake+JobReplyTimeout, MaxActionTime) + MaxClockSkew; now.Sub(start) > maxAge {
		return fmt.Errorf("continuation token's bake start %s is %s ago; a %s bake resumes at most %s after it starts (CodePipeline times the action out first)", start.UTC().Format(time.RFC3339), now.Sub(start).Round(time.Second), bake, maxAge)
	}
	maxSamples := 0
	if interval > 0 {
		maxSamples = int(bake / interval)
	}
	if s.Samples < 0 || s.Samples > maxSamples {
		return fmt.Errorf("continuation token counts %d samples; a %s bake at %s intervals hands over after at most %d", s.Samples, bake, interval, maxSamples)
	}
	for i, c := range s.Checks {
		t := c.Tally
		name := sp.Checks[i].Name
		for _, n := range []int{t.Succeeded, t.Failed, t.Inconclusive, t.Errors, t.ConsecutiveErrors} {
			if n < 0 || n > s.Samples {
				return fmt.Errorf("continuation token's tally for check %q has a count of %d; counts lie between 0 and the %d samples taken", name, n, s.Samples)
			}
		}
		if t.Samples() != s.Samples {
			return fmt.Errorf("continuation token's tally for check %q counts %d verdicts over %d samples", name, t.Samples(), s.Samples)
		}
		if t.ConsecutiveErrors > t.Errors {
			return fmt.Errorf("continuation token's tally for check %q has %d errors in a row but %d errors in all", name, t.ConsecutiveErrors, t.Errors)
		}
		if n := utf8.RuneCountInString(c.Last); n > maxEvidence {
			return fmt.Errorf("continuation token's evidence for check %q is %d characters; verify keeps at most %d", name, n, maxEvidence)
		}
	}
	return nil
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
