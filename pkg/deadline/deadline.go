// Package deadline is the one rule the three functions use to stop their
// work before Lambda's deadline: each keeps a margin to report, release
// or record what it did, so an invocation never ends mid-way with its
// outcome lost.
//
// The margin is the function's own cap (verify's safety margin,
// remediate's engine margin, respond's two seconds), but never more than
// a quarter of the time left, so a short timeout still leaves three
// quarters of the run for the work itself.
package deadline

import (
	"context"
	"time"
)

// Fraction is the most of the remaining time a margin may take: 1/Fraction.
const Fraction = 4

// Margin is how long before the deadline the work stops, given the time
// remaining and the function's cap: min(maxMargin, remaining/Fraction),
// never negative.
func Margin(remaining, maxMargin time.Duration) time.Duration {
	if remaining <= 0 || maxMargin <= 0 {
		return 0
	}
	return min(maxMargin, remaining/Fraction)
}

// Cutoff is ctx's deadline less its Margin, measured from now; ok is
// false when ctx has no deadline (tests, local runs).
func Cutoff(ctx context.Context, now time.Time, maxMargin time.Duration) (cutoff time.Time, margin time.Duration, ok bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}, 0, false
	}
	margin = Margin(d.Sub(now), maxMargin)
	return d.Add(-margin), margin, true
}

// WithCutoff returns a context that ends at Cutoff, with cause(margin) as
// its cause (context.Cause), so the caller can tell "stopped at the
// margin" from the invocation's own end. Without a deadline the returned
// context is bounded by ctx alone.
func WithCutoff(ctx context.Context, now time.Time, maxMargin time.Duration, cause func(margin time.Duration) error) (context.Context, context.CancelFunc) {
	cutoff, margin, ok := Cutoff(ctx, now, maxMargin)
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, cutoff, cause(margin))
}

// Sleep waits d, or until ctx ends, whichever comes first; it returns
// nil after a full wait, else ctx's cause (context.Cause). Every wait
// of the functions (verification polls, bake intervals, report and
// probe backoff) goes through it, so none outlives its context.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
