package remediate

import (
	"context"
	"fmt"
	"time"
)

// Keys in the state table (see package state's key layout).
func deliveryKey(a Alarm) string { return "delivery#" + a.StateChangeKey() }
func cooldownKey(prefix string, r *Rule, t Target) string {
	return prefix + "cooldown#" + r.Name + "#" + t.Type + "#" + t.ID
}

// targetsOf renders the rule's parameters for the alarm and names the
// resources the action would touch; problem says why it cannot.
func targetsOf(r *Rule, act Action, a Alarm) (Params, []Target, string) {
	params, err := r.render(a)
	if err != nil {
		return nil, nil, err.Error()
	}
	targets, err := act.Targets(a, params)
	if err != nil {
		return nil, nil, err.Error()
	}
	return params, targets, ""
}

// target runs the safety checks and the action on one resource. called
// says whether a call was already made on another resource of this
// event: then running out of time here is a failure (the event is not
// retried, so that call is not repeated), not a deferral.
func (e *Engine) target(ctx context.Context, a Alarm, r *Rule, act Action, p Params, t Target, dry, called bool) TargetOutcome {
	to := TargetOutcome{Target: t}
	finish := func(d Decision, reason string) TargetOutcome {
		to.Decision, to.Reason = d, reason
		e.decided(ctx, a, r, to)
		return to
	}
	// outOfTime is the decision when ctx ended before the call was made.
	outOfTime := func(err error) TargetOutcome {
		if called {
			return finish(Failed, fmt.Sprintf("ran out of time before acting on %s (the function's deadline was near: %v); nothing was changed on it, and the delivery is not retried because this event's other resources were already acted on: act on %s by hand", t, err, t))
		}
		return finish(Deferred, deferredReason(t.String(), err))
	}
	// Opt-in, read from the resource's own service.
	ok, observed, err := act.OptedIn(ctx, t, e.Policy.OptInTag)
	if err != nil && ctx.Err() != nil {
		return outOfTime(err)
	}
	if err != nil {
		return finish(Failed, fmt.Sprintf("could not read the tags of %s, so it was not touched: %v", t, err))
	}
	if !ok {
		return finish(Skipped, fmt.Sprintf("%s is not opted in: %s; it was not touched", t, observed))
	}
	call, skip, err := act.Plan(ctx, t, p)
	if err != nil && ctx.Err() != nil {
		return outOfTime(err)
	}
	if err != nil {
		return finish(Failed, fmt.Sprintf("could not plan %s on %s: %v", r.Action, t, err))
	}
	if skip != "" {
		return finish(Skipped, "nothing to do: "+skip)
	}
	if id, ok := act.(Idempotent); ok {
		call = id.WithToken(call, idempotencyToken(a.StateChangeKey(), r.Action, t))
	}
	to.Call = call.String()

	// Limits. A dry run counts in its own keys, so it shows what the
	// limits would do without using up the real ones.
	prefix := ""
	if dry {
		prefix = "dryrun#"
	}
	now := e.Now()
	ck := cooldownKey(prefix, r, t)
	cd := e.Policy.cooldown(r)
	claimed, err := e.Store.Claim(ctx, ck, cd, map[string]string{"alarm": a.Name, "call": to.Call, "at": now.UTC().Format(time.RFC3339)})
	if err != nil && ctx.Err() != nil {
		return outOfTime(err)
	}
	if err != nil {
		return finish(Failed, fmt.Sprintf("could not check the cooldown of rule %s on %s, so nothing was done: %v", r.Name, t, err))
	}
	if !claimed {
		reason := fmt.Sprintf("cooldown: rule %s acted on %s less than %s ago", r.Name, t, cd)
		if h, ok, err := e.Store.Holder(ctx, ck); err == nil && ok {
			reason = fmt.Sprintf("cooldown: rule %s acted on %s at %s (for alarm %s); the next action is allowed after %s",
				r.Name, t, h.Attrs["at"], h.Attrs["alarm"], h.ExpiresAt.Format(time.RFC3339))
		}
		return finish(Skipped, reason)
	}
	limits := []struct {
		key, what string
		max       int
	}{
		{prefix + "rate#rule#" + r.Name, "rule " + r.Name, e.Policy.maxPerHour(r)},
		{prefix + "rate#global", "all rules together", e.Policy.Limits.GlobalPerHour},
	}
	for _, l := range limits {
		allowed, n, err := e.Store.Take(ctx, l.key, l.max, time.Hour)
		if err == nil && allowed {
			continue
		}
		_ = e.Store.Release(context.WithoutCancel(ctx), ck) // nothing was done: no cooldown
		if err != nil && ctx.Err() != nil {
			return outOfTime(err)
		}
		if err != nil {
			return finish(Failed, fmt.Sprintf("could not check the rate limit of %s, so nothing was done: %v", l.what, err))
		}
		return finish(Skipped, fmt.Sprintf("rate limit: %s already made %d of its %d actions allowed this hour", l.what, n, l.max))
	}

	if dry {
		return finish(DryRun, "dry run: would "+call.Note+" — "+to.Call)
	}
	if err := ctx.Err(); err != nil { // the last moment to back out
		_ = e.Store.Release(context.WithoutCancel(ctx), ck)
		return outOfTime(err)
	}
	to.Called = true
	res, err := act.Do(ctx, call)
	if err != nil && (ctx.Err() != nil || mayHaveLanded(err)) {
		// The request may have landed: never repeat it.
		why := "the function's deadline came before its answer"
		if to.AnswerAmbiguous = ctx.Err() == nil; to.AnswerAmbiguous {
			why = "its answer was an error that does not say the request was refused (a 5xx or a lost connection comes after the service may have acted)"
		}
		to.Decision, to.Reason = Unverified, fmt.Sprintf("%s was sent, but %s (%v): it may have taken effect. It is not repeated, so as never to act twice; check %s and the alarm now", call.API, why, err, t)
		e.escalate(ctx, a, r, to)
		e.decided(ctx, a, r, to)
		return to
	}
	if err != nil {
		to.Decision, to.Reason = Failed, fmt.Sprintf("%s failed: %v", call.API, err)
		e.failedAttempt(ctx, a, r, &to)
		e.decided(ctx, a, r, to)
		return to
	}
	v, verifiable := act.(Verifier)
	if !verifiable {
		return finish(Acted, res.Summary)
	}
	done, obs, alarmState, cut := e.verify(ctx, a, r, v, t, call, res)
	to.Observed = obs
	if done {
		return finish(Fixed, fmt.Sprintf("%s; verified: %s; alarm is OK", res.Summary, obs))
	}
	if cut {
		// Acted, but the deadline came first: not known to have failed,
		// so not a failed attempt; escalated so a person looks.
		to.Decision, to.Reason = Unverified, fmt.Sprintf("%s, but verification was cut short by the function's deadline: expected the action to take and the alarm back to OK within %s; observed so far: %s; alarm is %s. The call is not repeated for this state change; check %s and the alarm now",
			res.Summary, e.Policy.verifyTimeout(r), obs, alarmState, t)
		e.escalate(ctx, a, r, to)
		e.decided(ctx, a, r, to)
		return to
	}
	to.Decision, to.Reason = NotFixed, fmt.Sprintf("%s, but it did not fix the problem: expected the action to take and the alarm back to OK within %s; observed: %s; alarm is %s",
		res.Summary, e.Policy.verifyTimeout(r), obs, alarmState)
	// Never reported as fixed: escalated at once (once per incident).
	e.failedAttempt(ctx, a, r, &to)
	e.escalate(ctx, a, r, to)
	e.decided(ctx, a, r, to)
	return to
}
