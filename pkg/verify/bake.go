package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// maxInvocation is Lambda's longest function timeout, the deadline
// assumed when the context has none (tests, local runs).
const maxInvocation = 15 * time.Minute

// defaultSampleTime is how long a sample is assumed to need when no
// check says otherwise: one HTTP attempt's default timeout, and more
// than an AWS read normally takes.
const defaultSampleTime = 5 * time.Second

// maxGrace caps how long past the cutoff a check that ignores its
// context is awaited before it is abandoned (and twice that, a stuck
// setup step). The report's own bound (a quarter of the margin before
// the deadline) leaves room for it: grace is at most a tenth of the
// margin.
const maxGrace = 200 * time.Millisecond

// window is the part of one invocation verify may spend: work (loading
// the spec, sampling, waiting) ends at cutoff; the report follows in the
// margin and must be over by reportBy, a quarter of the margin before
// Lambda's deadline, so its outcome — landed, refused, cut off — is
// known while the invocation can still return it.
type window struct {
	start    time.Time
	end      time.Time // Lambda's deadline
	cutoff   time.Time
	reportBy time.Time
	margin   time.Duration
	// grace is how long past the cutoff a late check or a stuck setup
	// step is awaited before verify gives up on it and reports.
	grace time.Duration
}

func (v *Verifier) window(ctx context.Context) window {
	return newWindow(ctx, v.now(), v.SafetyMargin)
}

func newWindow(ctx context.Context, now time.Time, safetyMargin time.Duration) window {
	end, ok := ctx.Deadline()
	if !ok {
		end = now.Add(maxInvocation)
	}
	margin := deadline.Margin(end.Sub(now), safetyMargin)
	return window{
		start:    now,
		end:      end,
		cutoff:   end.Add(-margin),
		reportBy: end.Add(-margin / 4),
		margin:   margin,
		grace:    min(margin/10, maxGrace),
	}
}

// need is the least time a sample is given: no sample starts later than
// cutoff - need, so one is not started only to be cut off (its checks
// would count an Error each). It is the longest a single check attempt
// may take, but never more than a quarter of the invocation's working
// time, so every invocation can take a sample that is already due.
func (w window) need(s spec.Spec) time.Duration {
	longest := defaultSampleTime
	for _, c := range s.Checks {
		if c.HTTP != nil && c.HTTP.Timeout.D() > longest {
			longest = c.HTTP.Timeout.D()
		}
	}
	return max(0, min(longest, w.cutoff.Sub(w.start)/deadline.Fraction))
}

func (v *Verifier) reporter(log *slog.Logger, w window) reporter {
	return newReporter(v.CodePipeline, log, w, v.ReportAttempts, v.ReportBackoff, v.now, v.sleep)
}

// bake samples the checks on the spec's schedule (the bake start plus a
// multiple of the interval, up to the bake) until the bake ends, a critical check is
// decided (failFast), or the next sample is due later than this
// invocation can take it. It never waits past the cutoff: when the next
// sample is out of reach it hands over with a continuation token, after
// waiting at most until the moment from which the next invocation can
// still take that sample on time — so a long interval costs a few idle
// invocations, not a timed-out one, and a short one hands over at once.
func (v *Verifier) bake(ctx context.Context, inv *invocation, s spec.Spec, suite check.Suite, st State) decision {
	w := inv.w
	start := st.Start()
	bake, interval := s.Bake.D(), s.Interval.D()
	last := make([]verdict.Result, len(s.Checks))
	need := w.need(s)
	latest := w.cutoff.Add(-need) // no sample starts after this
	// The next invocation, started when this one hands over, can take a
	// sample due up to its own working time less need after its start.
	reach := w.cutoff.Sub(w.start) - need
	nextAt := start.Add(time.Duration(st.Samples) * interval)
	if now := v.now(); nextAt.Before(now) {
		nextAt = now
	}
	for {
		if nextAt.After(latest) {
			// Wait (never past the cutoff) until the next invocation can
			// reach the sample, so as not to spin through invocations
			// that would only hand over again.
			at := nextAt.Add(-reach)
			if at.After(w.cutoff) {
				at = w.cutoff
			}
			if wait := at.Sub(v.now()); wait > 0 {
				_ = v.sleep(ctx, wait)
			}
			return v.handOver(ctx, inv, s, st, last, start)
		}
		if wait := nextAt.Sub(v.now()); wait > 0 {
			if err := v.sleep(ctx, wait); err != nil {
				return v.handOver(ctx, inv, s, st, last, start)
			}
		}
		sampleAt := v.now()
		results := v.sample(ctx, inv, suite, check.Sample{BakeStart: start, Now: sampleAt, Number: st.Samples})
		// The evidence travels in the continuation token: redacted.
		st.record(results, last, inv.secrets.String)
		for _, r := range results {
			v.Metrics.Emit(map[string]string{"Kind": r.Kind}, telemetry.Value{Name: telemetry.MetricCheckDuration, Unit: telemetry.UnitMilliseconds, Value: float64(r.Duration.Milliseconds())})
		}
		inv.log.DebugContext(ctx, "sample taken", "sample", st.Samples, "verdicts", verdictList(results))
		if failFastDue(s, st) {
			return v.finish(ctx, inv, s, st, last, start, true)
		}
		if interval <= 0 {
			return v.finish(ctx, inv, s, st, last, start, false)
		}
		nextAt = start.Add(time.Duration(nextSlot(start, sampleAt, v.now(), interval, st.Samples)) * interval)
		if nextAt.Sub(start) > bake {
			return v.finish(ctx, inv, s, st, last, start, false)
		}
	}
}

// record counts one sample's results: each check's tally, its latest
// result in last, and, for a result that did not succeed, its evidence
// (through redact) as the check's Last.
func (st *State) record(results, last []verdict.Result, redact func(string) string) {
	st.Samples++
	for i, r := range results {
		st.Checks[i].Add(r.Verdict)
		if r.Verdict != verdict.Succeeded {
			st.Checks[i].Last = redact(fmt.Sprintf("sample %d: %s", st.Samples, r.Evidence()))
		}
		last[i] = r
	}
}

// limitsOf is the spec's limits as the tallies apply them.
func limitsOf(s spec.Spec) verdict.Limits {
	return verdict.Limits{FailureLimit: s.Limits.FailureLimit, ConsecutiveErrorLimit: *s.Limits.ConsecutiveErrorLimit}
}

// failFastDue reports whether limits.failFast ends the bake now: a
// critical check's verdict is already decided.
func failFastDue(s spec.Spec, st State) bool {
	if !*s.Limits.FailFast {
		return false
	}
	limits := limitsOf(s)
	for i, c := range s.Checks {
		if _, decided := st.Checks[i].Decided(limits); decided && c.IsCritical() {
			return true
		}
	}
	return false
}

// nextSlot is the schedule slot k (due at start + k·interval) of the
// sample after one that began at began and ended at ended, the samples-th
// of the bake: the first slot after the one it began in that has not
// already passed when it ended. So a sample that began a little late does
// not push the rest of the bake later (its last sample would fall outside
// it), one that ran longer than an interval skips the slots it overran
// instead of sampling back to back to catch up, and the slot is never
// below the count of samples taken (a bake start slightly ahead of this
// clock must not make it sample again at once).
func nextSlot(start, began, ended time.Time, interval time.Duration, samples int) int64 {
	after := int64(began.Sub(start)/interval) + 1
	due := ended.Sub(start) / interval // slots passed by the end
	if ended.Sub(start)%interval != 0 {
		due++
	}
	return max(after, int64(due), int64(samples))
}

// errCutoff is the cause of a sample context that reached the cutoff.
var errCutoff = errors.New("the invocation's cutoff (deadline less the safety margin) was reached")

// sample takes one sample of the suite under a context that ends at the
// cutoff. A check that does not return by then (plus a short grace) is
// abandoned: its result is an Error saying so, and the report is not
// delayed by it.
func (v *Verifier) sample(ctx context.Context, inv *invocation, suite check.Suite, at check.Sample) []verdict.Result {
	w := inv.w
	sctx, cancel := context.WithDeadlineCause(ctx, w.cutoff, errCutoff)
	defer cancel()
	done := make(chan []verdict.Result, 1)
	go func() { done <- suite.Run(sctx, at) }()
	select {
	case rs := <-done:
		return rs
	case <-sctx.Done():
	}
	t := time.NewTimer(w.grace)
	defer t.Stop()
	select {
	case rs := <-done:
		return rs
	case <-t.C:
	}
	inv.log.WarnContext(ctx, "checks still running at the cutoff were abandoned", "sample", at.Number+1)
	out := make([]verdict.Result, suite.Count)
	for _, g := range suite.Groups {
		for _, it := range g.Items {
			out[it.Index] = verdict.Result{Check: it.Check.Name, Kind: g.Kind, Verdict: verdict.Error,
				Observed: "the check did not finish before the invocation's cutoff (the function's deadline less its safety margin) and was abandoned",
				Duration: v.now().Sub(at.Now)}
		}
	}
	return out
}
