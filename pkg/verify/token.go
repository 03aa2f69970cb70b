package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// MaxToken is CodePipeline's limit on a continuation token: "Length
// Constraints: Minimum length of 1. Maximum length of 2048."
// (PutJobSuccessResult, continuationToken,
// https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html).
const MaxToken = 2048

// A token is "pd2.<MAC>.<state JSON>": the MAC is HMAC-SHA256, under the
// token key (see tokenkey.go), of "pd2." followed by the JSON, in
// unpadded base64url (43 characters). The JSON is the State, written as
// is (no base64) to leave most of the 2,048 characters for the tallies.
const (
	tokenTag     = "pd2"
	tokenVersion = 2
	macLen       = 43 // base64url of 32 bytes, unpadded
	// tokenOverhead is what the tag and the MAC add to the JSON.
	tokenOverhead = len(tokenTag) + 1 + macLen + 1
)

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

func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(tokenTag + "."))
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// Encode renders s as a signed continuation token of at most MaxToken
// characters, shortening the kept evidence as needed.
func (k TokenKeys) Encode(s State) (string, error) {
	if k.IsZero() {
		return "", errors.New("encode continuation token: no token key")
	}
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
		if len(b)+tokenOverhead <= MaxToken {
			payload := string(b)
			return tokenTag + "." + base64.RawURLEncoding.EncodeToString(mac(k.current, payload)) + "." + payload, nil
		}
	}
	return "", fmt.Errorf("continuation token for %d checks exceeds %d characters", len(s.Checks), MaxToken)
}

// Decode reads a token written by Encode under the current or the
// previous key. It refuses, naming the cause, a token too large, not in
// verify's format, whose MAC matches neither key (compared in constant
// time), or whose content has unknown fields or another version. It
// checks the token's form and origin only; Validate checks its values.
func (k TokenKeys) Decode(tok string) (State, error) {
	if len(tok) > MaxToken {
		return State{}, fmt.Errorf("continuation token is %d characters; verify writes at most %d", len(tok), MaxToken)
	}
	tag, rest, _ := strings.Cut(tok, ".")
	sig, payload, ok := strings.Cut(rest, ".")
	switch {
	case strings.HasPrefix(tok, "{"):
		return State{}, errors.New("continuation token is unsigned (the format of an older postdeploy, or not written by verify)")
	case tag != tokenTag || !ok:
		return State{}, fmt.Errorf("continuation token is not one verify wrote (it does not start with %q)", tokenTag+".")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return State{}, errors.New("continuation token's signature is malformed: it was not written by verify")
	}
	if k.IsZero() {
		return State{}, errors.New("no token key to check the continuation token's signature")
	}
	authentic := hmac.Equal(got, mac(k.current, payload))
	if !authentic && k.previous != nil {
		authentic = hmac.Equal(got, mac(k.previous, payload))
	}
	if !authentic {
		return State{}, errors.New("continuation token's signature does not match this stack's token key: it was altered, or written by another stack or under a key since rotated out")
	}
	var s State
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return State{}, fmt.Errorf("continuation token is signed but does not decode (was verify upgraded mid-bake?): %w", err)
	}
	if dec.More() {
		return State{}, errors.New("continuation token is signed but has text after its content")
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

// sizingKeys sign the worst-case token CheckTokenFits measures (a MAC
// has the same length under any key).
var sizingKeys = TokenKeys{current: make([]byte, MinTokenKeyBytes)}

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
	if _, err := sizingKeys.Encode(worst); err != nil {
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
