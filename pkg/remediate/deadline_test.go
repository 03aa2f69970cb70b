package remediate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// decisionsOf lists the decisions of an audit trail, oldest first.
func decisionsOf(trail []map[string]string) []string {
	var out []string
	for _, rec := range trail {
		out = append(out, rec["decision"])
	}
	return out
}

// The invocation's deadline (here: its ctx ending, as it does margin
// before Lambda's deadline) arriving before the call is made: the
// decision is audited as deferred, the state change released and the
// error returned, so Lambda's retry of the delivery acts — once.
func TestOutOfTimeBeforeActingReleasesForTheRetry(t *testing.T) {
	tests := []struct {
		name string
		// arm makes the deadline arrive during one of the reads before
		// the call; cancel ends the invocation's ctx.
		arm func(r *rig, cancel context.CancelFunc)
	}{
		{"during the opt-in read", func(r *rig, cancel context.CancelFunc) {
			r.ecs.hook = func(ctx context.Context, op string) error {
				r.ecs.hook = nil
				cancel()
				return fmt.Errorf("describe ECS service: %w", ctx.Err())
			}
		}},
		{"during the CloudWatch read that confirms the message", func(r *rig, cancel context.CancelFunc) {
			r.cw.hook = func(ctx context.Context) error {
				r.cw.hook = nil
				cancel()
				return fmt.Errorf("describe alarm: %w", ctx.Err())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testPolicy)
			a := ecsAlarm("api", "ALARM", start)
			r.cw.set(a.NewState)
			r.cw.define(a)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tt.arm(r, cancel)

			out, err := r.e.Handle(ctx, a)
			if !errors.Is(err, remediate.ErrOutOfTime) {
				t.Fatalf("Handle when time runs out before acting = %s (%s), %v; want an error wrapping ErrOutOfTime (the handler returns it so Lambda retries)", out.Decision, out.Reason, err)
			}
			if out.Decision != remediate.Deferred {
				t.Errorf("decision = %s (%s); want deferred", out.Decision, out.Reason)
			}
			if n := r.ecs.updateCount(); n != 0 {
				t.Errorf("UpdateService calls = %d; want 0 before the retry", n)
			}
			if got := r.n.kinds(); len(got) != 0 {
				t.Errorf("notifications = %v; want none for a deferral (the retry notifies its decision)", got)
			}
			if got, want := decisionsOf(r.trail(t, a)), []string{"deferred"}; !cmp.Equal(got, want) {
				t.Errorf("audit trail after the deadline = %v; want %v", got, want)
			}

			// Lambda's retry of the same delivery, a minute later, with
			// time to spare.
			r.clk.Add(time.Minute)
			retry := r.handle(t, a)
			if retry.Decision != remediate.Fixed {
				t.Errorf("retried delivery: %s (%s); want fixed (the first attempt released its claim)", retry.Decision, retry.Reason)
			}
			if got, want := updates(r.ecs), []string{"prod/api force=true"}; !cmp.Equal(got, want) {
				t.Errorf("ECS updates after the retry = %v; want %v (exactly once)", got, want)
			}
			if got, want := decisionsOf(r.trail(t, a)), []string{"deferred", "fixed"}; !cmp.Equal(got, want) {
				t.Errorf("audit trail after the retry = %v; want %v", got, want)
			}
			if again := r.handle(t, a); again.Decision != remediate.Duplicate {
				t.Errorf("a third delivery: %s (%s); want duplicate", again.Decision, again.Reason)
			}
		})
	}
}

// The deadline arriving after the call was made: the decision is
// "unverified", audited with called=true and escalated; the state change
// stays claimed, so a retry or redelivery never makes the call again.
func TestOutOfTimeAfterActingNeverActsTwice(t *testing.T) {
	tests := []struct {
		name string
		arm  func(r *rig, cancel context.CancelFunc)
		// wantObserved: verification ran, so its last observation is
		// audited.
		wantObserved bool
	}{
		{"during verification", func(r *rig, cancel context.CancelFunc) {
			r.ecs.unstable = true // the rollout never completes
			sleep := r.e.Sleep
			r.e.Sleep = func(ctx context.Context, d time.Duration) error {
				cancel() // the deadline arrives during the first wait
				_ = sleep(ctx, d)
				return ctx.Err()
			}
		}, true},
		{"before the call's answer", func(r *rig, cancel context.CancelFunc) {
			r.ecs.hook = func(ctx context.Context, op string) error {
				if op != "UpdateService" {
					return nil
				}
				cancel()
				return fmt.Errorf("update ECS service: %w", ctx.Err())
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testPolicy)
			a := ecsAlarm("api", "ALARM", start)
			r.cw.set(a.NewState)
			r.cw.define(a)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tt.arm(r, cancel)

			out, err := r.e.Handle(ctx, a)
			if err != nil {
				t.Fatalf("Handle when time runs out after acting = %v; want no error (a retry must not act again)", err)
			}
			if out.Decision != remediate.Unverified || !out.Escalated {
				t.Errorf("decision = %s, escalated %v (%s); want unverified and escalated", out.Decision, out.Escalated, out.Reason)
			}
			trail := r.trail(t, a)
			if got, want := decisionsOf(trail), []string{"unverified"}; !cmp.Equal(got, want) {
				t.Fatalf("audit trail = %v; want %v", got, want)
			}
			if got := trail[0]["called"]; got != "true" {
				t.Errorf("audited called = %q; want true", got)
			}
			if _, ok := trail[0]["observed"]; ok != tt.wantObserved {
				t.Errorf("audited observed present = %v; want %v (record: %v)", ok, tt.wantObserved, trail[0])
			}
			if got, want := r.n.kinds(), []notify.Kind{notify.Escalation, notify.HighCPU}; !cmp.Equal(got, want) {
				t.Errorf("notifications = %v; want %v (the escalation, then the decision)", got, want)
			}

			// Lambda's retry, or SNS redelivering: a duplicate.
			r.ecs.hook, r.e.Sleep = nil, r.clk.Sleep
			r.clk.Add(time.Minute)
			if again := r.handle(t, a); again.Decision != remediate.Duplicate {
				t.Errorf("redelivery after acting: %s (%s); want duplicate", again.Decision, again.Reason)
			}
			if n := r.ecs.updateCount(); n != 1 {
				t.Errorf("UpdateService calls = %d; want exactly 1", n)
			}
		})
	}
}
