package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Local runs a whole verification in one process — no CodePipeline job,
// no deadline to hand over at, no continuation token — for the postdeploy
// command line tool. It keeps the verify function's rules by sharing its
// code: samples on the same schedule (nextSlot), tallies them and stops
// early on a decided critical check the same way (State.record,
// failFastDue), and ends with the same verdict and message (newOutcome,
// successSummary, failureMessage).
type Local struct {
	// Now and Sleep are the clock (default time.Now, deadline.Sleep).
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// OnSample, when set, is told of every sample as it is taken: its
	// number (from 1), when it began and one result per check.
	OnSample func(n int, at time.Time, rs []verdict.Result)
	// SampleTimeout bounds one sample (default: the spec's interval, and
	// at least DefaultSampleTimeout).
	SampleTimeout time.Duration
}

// DefaultSampleTimeout is the least time Local gives one sample.
const DefaultSampleTimeout = time.Minute

// Report is a finished local verification.
type Report struct {
	// Verdict is the verification's: the worst of its critical checks'.
	Verdict verdict.Verdict
	// Passed is what the verify action would report: success for
	// Succeeded, or for Inconclusive and Error with limits.inconclusive:
	// pass.
	Passed bool
	// Message is verify's summary (passed) or failure message (not).
	Message string
	// Variables are the output variables verify would export.
	Variables map[string]string
	Samples   int
	Elapsed   time.Duration
	// Interrupted says the context ended the bake before it was over.
	Interrupted bool
	Checks      []CheckReport
}

// CheckReport is one check's end state.
type CheckReport struct {
	Name, Kind, Target string
	Critical           bool
	Verdict            verdict.Verdict
	Tally              verdict.Tally
	// Evidence is the latest sample that did not succeed, or the last
	// sample's when all did.
	Evidence string
}

// Run bakes s with suite (registry.Build of s) until the bake is over, a
// critical check is decided (limits.failFast), or ctx ends.
func (l Local) Run(ctx context.Context, s spec.Spec, suite check.Suite) Report {
	now, sleep := l.Now, l.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = deadline.Sleep
	}
	timeout := max(l.SampleTimeout, s.Interval.D())
	if l.SampleTimeout <= 0 {
		timeout = max(DefaultSampleTimeout, s.Interval.D())
	}
	start := now()
	st := NewState(start, "", len(s.Checks))
	last := make([]verdict.Result, len(s.Checks))
	bake, interval := s.Bake.D(), s.Interval.D()
	nextAt := start
	early, interrupted := false, false
	redact := func(s string) string { return suite.Redactor.String(s) }
	for {
		if wait := nextAt.Sub(now()); wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				interrupted = true
				break
			}
		}
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		sampleAt := now()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		results := suite.Run(sctx, check.Sample{BakeStart: start, Now: sampleAt, Number: st.Samples})
		cancel()
		st.record(results, last, redact)
		if l.OnSample != nil {
			l.OnSample(st.Samples, sampleAt, results)
		}
		if failFastDue(s, st) {
			early = true
			break
		}
		if interval <= 0 {
			break
		}
		nextAt = start.Add(time.Duration(nextSlot(start, sampleAt, now(), interval, st.Samples)) * interval)
		if nextAt.Sub(start) > bake {
			break
		}
	}
	o := newOutcome(s, st, last, "", now().Sub(start), early)
	r := Report{Verdict: o.Verdict, Passed: o.passes() && !interrupted, Samples: o.Samples, Elapsed: o.Elapsed, Interrupted: interrupted}
	switch {
	case interrupted:
		r.Message = fmt.Sprintf("Post-deploy verification was interrupted before its bake ended: no verdict (%s).\n", o.header()) + progressSummary(o, bake)
	case r.Passed:
		r.Message, r.Variables = successSummary(o), outputVariables(o)
	default:
		r.Message = failureMessage(o)
	}
	for _, c := range o.Checks {
		ev := c.Evidence
		if ev == "" {
			ev = redact(c.Last.Evidence())
		}
		r.Checks = append(r.Checks, CheckReport{Name: c.Name, Kind: c.Kind, Target: c.Target, Critical: c.Critical, Verdict: c.Verdict, Tally: c.Tally, Evidence: ev})
	}
	return r
}
