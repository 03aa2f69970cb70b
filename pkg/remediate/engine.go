package remediate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/strict"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// AlarmAPI is the part of *cloudwatch.Client the engine uses: alarm
// state, to verify an outcome, and alarm tags, for rules that match on
// them.
type AlarmAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
}

var _ AlarmAPI = (*cloudwatch.Client)(nil)

// Decision is what the engine did about one alarm (or one resource).
type Decision string

// The decisions, as audited and as the Outcome dimension of the
// Remediations metric.
const (
	Fixed     Decision = "fixed"     // acted, and the action took and the alarm cleared
	Acted     Decision = "acted"     // acted; nothing to verify (notify)
	NotFixed  Decision = "not-fixed" // the call succeeded but the action did not take or the alarm stayed in ALARM: escalated
	Failed    Decision = "failed"    // the call (or reading what it needed) failed
	DryRun    Decision = "dry-run"   // would have acted: the exact call is in Call
	Skipped   Decision = "skipped"   // a safety check said no; Reason says which
	Escalated Decision = "escalated" // failed attempts exhausted: handed to people
	// Deferred: the invocation ran out of time before acting; nothing
	// was changed and the state change was released for Lambda's retry.
	Deferred Decision = "deferred"
	// Unverified: the call was made, but the invocation's deadline cut
	// verification short; escalated, never repeated.
	Unverified Decision = "unverified"
	Duplicate  Decision = "duplicate" // this state change was already handled
	Ignored    Decision = "ignored"   // no rule matches, or a state nothing acts on
	Recovered  Decision = "recovered" // the alarm is back to OK: incident closed
)

// severity ranks decisions to summarise several targets: the most severe
// one is the alarm's.
var severity = map[Decision]int{
	Ignored: 0, Duplicate: 1, Skipped: 2, DryRun: 3, Acted: 4, Fixed: 5, Recovered: 5, Escalated: 6, Unverified: 6, Failed: 7, Deferred: 7, NotFixed: 8,
}

// ErrOutOfTime marks a state change the engine gave up on because the
// invocation was about to reach its deadline before anything was done:
// Handle has released it, so a retry of the delivery handles it.
var ErrOutOfTime = errors.New("ran out of time before acting")

// DefaultMargin is the most time Handle keeps before the invocation's
// deadline to record its decision and release or keep its claim.
const DefaultMargin = 10 * time.Second

// TargetOutcome is the decision about one resource.
type TargetOutcome struct {
	Target   Target
	Decision Decision
	Reason   string
	// Call is the exact API call made, or that a dry run would make;
	// Called says whether it was made (attempted).
	Call   string
	Called bool
	// Observed is what verification saw last.
	Observed string
}

// Outcome is what Handle did about one alarm state change.
type Outcome struct {
	Alarm    string
	State    string
	Rule     string
	Action   string
	Decision Decision
	Reason   string
	Targets  []TargetOutcome
	// Escalated is set when the escalation topic was notified.
	Escalated bool
	// TimeToRecover is set on Recovered.
	TimeToRecover time.Duration
}

// Engine applies the policy to alarm state changes.
type Engine struct {
	Policy  *Policy
	Actions map[string]Action // Actions(clients)
	Store   *state.Store
	Alarms  AlarmAPI
	Notify  Notifier
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// DryRun forces dry run whatever the policy says (an env switch).
	DryRun bool
	// Region, if set, is the only region whose alarms are acted on: the
	// clients are regional.
	Region string
	// DeliveryTTL is how long a handled state change is remembered
	// (default 24h).
	DeliveryTTL time.Duration
	// Margin is kept before the invocation's deadline (ctx.Deadline) to
	// audit, notify and release or keep the claim before Lambda stops the
	// run: the work of Handle — reads, the call, verification — ends this
	// long before the deadline. Default DefaultMargin; never more than a
	// quarter of the time left, so a short timeout still leaves time to act.
	Margin time.Duration
	// RunbookBaseURL prefixes runbook links when the policy sets none.
	RunbookBaseURL string
	Now            func() time.Time
	// Sleep waits between verification polls; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Keys in the state table (see package state's key layout).
func deliveryKey(a Alarm) string { return "delivery#" + a.StateChangeKey() }
func cooldownKey(prefix string, r *Rule, t Target) string {
	return prefix + "cooldown#" + r.Name + "#" + t.Type + "#" + t.ID
}

// workContext bounds the engine's work by ctx's deadline less the margin.
func (e *Engine) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	m := e.Margin
	if m <= 0 {
		m = DefaultMargin
	}
	m = min(m, time.Until(d)/4)
	return context.WithDeadline(ctx, d.Add(-m))
}

// Handle decides and acts on one alarm state change. The error is for
// failures of the engine's own dependencies (state table, tag reads)
// before anything was done, and for running out of time before acting
// (ErrOutOfTime): the state change is released so a retry of the
// delivery handles it. Everything else — skips, failed actions,
// escalations, an action whose verification the deadline cut short — is
// an Outcome, audited and notified, and the state change stays claimed,
// so nothing is ever done twice.
//
// The work is bounded by ctx's deadline less Margin, which leaves the
// time to record the decision and release or keep the claim.
func (e *Engine) Handle(ctx context.Context, a Alarm) (Outcome, error) {
	out := Outcome{Alarm: a.Name, State: a.NewState}
	switch a.NewState {
	case StateOK:
		return e.recovered(ctx, a)
	case StateAlarm, StateInsufficientData:
	default:
		out.Decision, out.Reason = Ignored, fmt.Sprintf("unknown state %q: nothing acts on it", a.NewState)
		e.log().WarnContext(ctx, "alarm skipped", "alarm", a.Name, "state", a.NewState, "reason", out.Reason)
		return out, nil
	}

	// Idempotency first: SNS and EventBridge deliver at least once, and
	// concurrent invocations race; one claim per state change acts.
	key := deliveryKey(a)
	ttl := e.DeliveryTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	claimed, err := e.Store.Claim(ctx, key, ttl, map[string]string{"alarm": a.Name, "state": a.NewState})
	if err != nil {
		return out, fmt.Errorf("claim state change of alarm %s: %w", a.Name, err)
	}
	if !claimed {
		out.Decision, out.Reason = Duplicate, "this state change ("+a.NewState+" at "+a.Timestamp.Format(time.RFC3339)+") was already handled"
		e.log().InfoContext(ctx, "duplicate delivery skipped", "alarm", a.Name, "state", a.NewState, "stateChangeTime", a.Timestamp)
		return out, nil
	}
	work, cancel := e.workContext(ctx)
	defer cancel()
	out, err = e.handleClaimed(work, a)
	if err != nil {
		if work.Err() != nil && !errors.Is(err, ErrOutOfTime) {
			// Time ran out before a rule could act (matching, the
			// incident): record it, then release like any other error.
			to := TargetOutcome{Decision: Deferred, Reason: deferredReason("", err)}
			e.decided(ctx, a, e.rule(out.Rule), to)
			out.Decision, out.Reason, out.Targets = Deferred, to.Reason, []TargetOutcome{to}
			err = fmt.Errorf("%w: %w", ErrOutOfTime, err)
		}
		// Nothing was done: let a retry of this delivery handle it.
		if rerr := e.Store.Release(context.WithoutCancel(ctx), key); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return out, err
	}
	return out, nil
}

// deferredReason says why nothing was done, for the audit trail.
func deferredReason(t string, err error) string {
	on := ""
	if t != "" {
		on = " on " + t
	}
	return fmt.Sprintf("ran out of time before acting%s (the function's deadline was near: %v); nothing was changed, and the state change was released so Lambda's retry of the delivery handles it", on, err)
}

// rule returns the policy's rule of that name, or nil.
func (e *Engine) rule(name string) *Rule {
	for i := range e.Policy.Rules {
		if name != "" && e.Policy.Rules[i].Name == name {
			return &e.Policy.Rules[i]
		}
	}
	return nil
}

func (e *Engine) handleClaimed(ctx context.Context, a Alarm) (Outcome, error) {
	out := Outcome{Alarm: a.Name, State: a.NewState}
	if e.Region != "" && a.Region != e.Region {
		out.Decision, out.Reason = Ignored, fmt.Sprintf("alarm is in region %s; this function acts in %s only", a.Region, e.Region)
		e.audit(ctx, a, nil, TargetOutcome{Decision: Ignored, Reason: out.Reason})
		return out, nil
	}
	rule, err := e.match(ctx, &a)
	if err != nil {
		return out, err
	}
	if rule == nil {
		out.Decision, out.Reason = Ignored, "no rule of the policy matches this alarm"
		e.audit(ctx, a, nil, TargetOutcome{Decision: Ignored, Reason: out.Reason})
		return out, nil
	}
	out.Rule, out.Action = rule.Name, rule.Action
	dry := e.DryRun || e.Policy.DryRun || rule.DryRun

	// Deliveries can arrive late or out of order: never act on an alarm
	// that has already recovered.
	st, stErr := e.alarmState(ctx, a.Name)
	if stErr != nil {
		e.log().WarnContext(ctx, "could not read the alarm's current state; deciding on the delivered one", "alarm", a.Name, "error", stErr)
	}
	if stErr == nil && st == StateOK {
		to := TargetOutcome{Decision: Skipped, Reason: fmt.Sprintf("the alarm is already back to OK (this %s delivery is from %s): nothing to fix", a.NewState, a.Timestamp.Format(time.RFC3339))}
		e.decided(ctx, a, rule, to)
		out.Decision, out.Reason, out.Targets = Skipped, to.Reason, []TargetOutcome{to}
		return out, nil
	}

	inc, _, err := e.Store.OpenIncident(ctx, a.ARN, a.Timestamp, map[string]string{"alarm": a.Name, "rule": rule.Name})
	if err != nil {
		return out, err
	}
	if limit := e.Policy.Limits.MaxAttempts; inc.Attempts >= limit && !dry {
		to := TargetOutcome{Decision: Escalated, Reason: fmt.Sprintf("%d failed remediation attempts since %s (limit %d): automation stands down until the alarm returns to OK", inc.Attempts, inc.OpenedAt.Format(time.RFC3339), limit)}
		out.Escalated = e.escalate(ctx, a, rule, to)
		e.decided(ctx, a, rule, to)
		out.Decision, out.Reason, out.Targets = Escalated, to.Reason, []TargetOutcome{to}
		return out, nil
	}

	act, ok := e.Actions[rule.Action]
	if !ok {
		to := TargetOutcome{Decision: Failed, Reason: fmt.Sprintf("action %q is not available in this engine (valid: %s)", rule.Action, strings.Join(Names(), ", "))}
		e.decided(ctx, a, rule, to)
		out.Decision, out.Reason, out.Targets = Failed, to.Reason, []TargetOutcome{to}
		return out, nil
	}
	// A rule that cannot be applied to this alarm is a decision (failed,
	// audited, notified), not an error to retry: a retry would fail alike.
	params, targets, problem := targetsOf(rule, act, a)
	if problem != "" {
		to := TargetOutcome{Decision: Failed, Reason: "cannot work out what to act on: " + problem + "; fix the rule's params in the policy"}
		e.decided(ctx, a, rule, to)
		out.Decision, out.Reason, out.Targets = Failed, to.Reason, []TargetOutcome{to}
		return out, nil
	}
	if radius := e.Policy.Limits.BlastRadius; len(targets) > radius {
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = t.String()
		}
		to := TargetOutcome{Decision: Skipped, Reason: fmt.Sprintf("blast radius: this event would act on %d resources (%s); the limit is %d, so none was touched", len(targets), strings.Join(names, ", "), radius)}
		e.decided(ctx, a, rule, to)
		out.Decision, out.Reason, out.Targets = Skipped, to.Reason, []TargetOutcome{to}
		return out, nil
	}
	called, deferred := false, false
	for _, t := range targets {
		to := e.target(ctx, a, rule, act, params, t, dry, called)
		out.Targets = append(out.Targets, to)
		called = called || to.Called
		deferred = deferred || to.Decision == Deferred
		if to.Decision == NotFixed || to.Decision == Escalated || to.Decision == Unverified {
			out.Escalated = true
		}
	}
	for _, to := range out.Targets {
		if out.Decision == "" || severity[to.Decision] > severity[out.Decision] {
			out.Decision, out.Reason = to.Decision, to.Reason
		}
	}
	if deferred { // only when no call was made: see target
		return out, fmt.Errorf("alarm %s, rule %s: %w", a.Name, rule.Name, ErrOutOfTime)
	}
	return out, nil
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
	to.Call = call.String()

	// Limits. A dry run counts in its own keys, so it shows what the
	// limits would do without using up the real ones.
	prefix := ""
	if dry {
		prefix = "dryrun#"
	}
	now := e.now()
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
	if err != nil && ctx.Err() != nil {
		// The request may have landed: never repeat it.
		to.Decision, to.Reason = Unverified, fmt.Sprintf("%s was sent, but the function's deadline came before its answer (%v): it may have taken effect. It is not repeated, so as never to act twice; check %s and the alarm now", call.API, err, t)
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

// failedAttempt counts a failed attempt and escalates when the incident
// has had MaxAttempts.
func (e *Engine) failedAttempt(ctx context.Context, a Alarm, r *Rule, to *TargetOutcome) {
	ctx = context.WithoutCancel(ctx)
	n, err := e.Store.RecordAttempt(ctx, a.ARN)
	if err != nil {
		e.log().ErrorContext(ctx, "could not count the failed attempt", "alarm", a.Name, "error", err)
		return
	}
	to.Reason += fmt.Sprintf(" (failed attempt %d of %d)", n, e.Policy.Limits.MaxAttempts)
	if n >= e.Policy.Limits.MaxAttempts {
		e.escalate(ctx, a, r, *to)
	}
}

// verify waits, within the rule's verify timeout and ctx (which ends
// the margin before the invocation's deadline), for the action to take
// and the alarm to return to OK. cut says ctx ended first.
func (e *Engine) verify(ctx context.Context, a Alarm, r *Rule, v Verifier, t Target, c Call, res Result) (done bool, observed, alarmState string, cut bool) {
	deadline := e.now().Add(e.Policy.verifyTimeout(r))
	interval := e.Policy.verifyInterval(r)
	var actionDone bool
	observed, alarmState = "not checked", a.NewState
	for {
		if !actionDone {
			done, obs, err := v.Verify(ctx, t, c, res)
			switch {
			case errors.Is(err, ErrFailed):
				return false, obs, alarmState, false
			case err != nil:
				observed = "could not check: " + err.Error()
			default:
				actionDone, observed = done, obs
			}
		}
		if actionDone {
			st, err := e.alarmState(ctx, a.Name)
			if err != nil {
				e.log().WarnContext(ctx, "could not read alarm state", "alarm", a.Name, "error", err)
			} else {
				alarmState = st
			}
			if alarmState == StateOK {
				return true, observed, alarmState, false
			}
		}
		if ctx.Err() != nil {
			return false, observed, alarmState, true
		}
		left := deadline.Sub(e.now())
		if left <= 0 {
			if !actionDone {
				observed = "after waiting, the action had still not taken: " + observed
			}
			return false, observed, alarmState, false
		}
		if err := e.sleep(ctx, min(interval, left)); err != nil || ctx.Err() != nil {
			return false, observed, alarmState, true
		}
	}
}

func (e *Engine) alarmState(ctx context.Context, name string) (string, error) {
	if e.Alarms == nil {
		return "", errors.New("no CloudWatch client")
	}
	out, err := e.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{name},
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		return "", fmt.Errorf("describe alarm %s: %w", name, err)
	}
	for _, m := range out.MetricAlarms {
		if aws.ToString(m.AlarmName) == name {
			return string(m.StateValue), nil
		}
	}
	for _, c := range out.CompositeAlarms {
		if aws.ToString(c.AlarmName) == name {
			return string(c.StateValue), nil
		}
	}
	return "", fmt.Errorf("describe alarm %s: not found", name)
}

// recovered closes the alarm's incident on its OK transition and
// reports the time to recover.
func (e *Engine) recovered(ctx context.Context, a Alarm) (Outcome, error) {
	out := Outcome{Alarm: a.Name, State: a.NewState}
	inc, closed, err := e.Store.CloseIncident(ctx, a.ARN, a.Timestamp)
	if err != nil {
		return out, err
	}
	if !closed {
		out.Decision, out.Reason = Ignored, "no open incident for this alarm"
		e.log().InfoContext(ctx, "alarm OK, no open incident", "alarm", a.Name)
		return out, nil
	}
	ttr := max(a.Timestamp.Sub(inc.OpenedAt), 0)
	out.Decision, out.TimeToRecover, out.Rule = Recovered, ttr, inc.Attrs["rule"]
	out.Reason = fmt.Sprintf("alarm back to OK after %s (%d failed remediation attempts)", ttr.Round(time.Second), inc.Attempts)
	e.Metrics.Emit(nil, telemetry.Value{Name: telemetry.MetricTimeToRecover, Unit: telemetry.UnitSeconds, Value: ttr.Seconds()})
	e.decided(ctx, a, e.rule(out.Rule), TargetOutcome{Decision: Recovered, Reason: out.Reason})
	return out, nil
}

// decided records one decision: the log, the audit trail in the state
// table, the metric and a notification. Recording never fails the
// decision: a failure to record is logged.
func (e *Engine) decided(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) {
	ctx = context.WithoutCancel(ctx)
	e.audit(ctx, a, r, to)
	action := ""
	if r != nil {
		action = r.Action
	}
	e.Metrics.Emit(map[string]string{"Action": action, "Outcome": string(to.Decision)},
		telemetry.Value{Name: telemetry.MetricRemediations, Unit: telemetry.UnitCount, Value: 1})
	if to.Decision == Duplicate || to.Decision == Ignored || to.Decision == Deferred {
		return // a deferred state change is notified when its retry decides
	}
	if e.Notify == nil {
		return
	}
	if _, err := e.Notify.Send(ctx, e.alert(a, r, to, false).Message()); err != nil {
		e.log().ErrorContext(ctx, "could not notify the decision", "alarm", a.Name, "decision", to.Decision, "error", err)
	}
}

func (e *Engine) audit(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) {
	attrs := map[string]string{
		"alarm": a.Name, "state": a.NewState, "stateChangeTime": a.Timestamp.Format(time.RFC3339Nano),
		"decision": string(to.Decision), "reason": to.Reason,
	}
	if to.Call != "" {
		attrs["called"] = strconv.FormatBool(to.Called)
	}
	for k, v := range map[string]string{"target": targetString(to.Target), "call": to.Call, "observed": to.Observed} {
		if v != "" {
			attrs[k] = v
		}
	}
	if r != nil {
		attrs["rule"], attrs["action"] = r.Name, r.Action
		attrs["dryRun"] = strconv.FormatBool(e.DryRun || e.Policy.DryRun || r.DryRun)
	}
	level := slog.LevelInfo
	switch to.Decision {
	case Failed, NotFixed, Escalated, Unverified:
		level = slog.LevelError
	case Skipped, Deferred:
		level = slog.LevelWarn
	}
	args := make([]any, 0, 2*len(attrs))
	for _, k := range strict.SortedKeys(attrs) {
		args = append(args, k, attrs[k])
	}
	e.log().Log(ctx, level, "remediation decision", args...)
	if err := e.Store.Audit(context.WithoutCancel(ctx), a.ARN, e.now(), attrs); err != nil {
		e.log().ErrorContext(ctx, "could not write the audit record", "alarm", a.Name, "error", err)
	}
}

func targetString(t Target) string {
	if t.Type == "" {
		return ""
	}
	return t.String()
}

// escalate notifies the escalation topic once per incident; true if this
// call sent it.
func (e *Engine) escalate(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) bool {
	ctx = context.WithoutCancel(ctx)
	first, err := e.Store.MarkEscalated(ctx, a.ARN)
	if err != nil {
		e.log().ErrorContext(ctx, "could not mark the incident escalated; escalating anyway", "alarm", a.Name, "error", err)
		first = true
	}
	if !first || e.Notify == nil {
		return false
	}
	if _, err := e.Notify.Send(ctx, e.alert(a, r, to, true).Message()); err != nil {
		e.log().ErrorContext(ctx, "could not send the escalation", "alarm", a.Name, "error", err)
		return false
	}
	return true
}

var decisionTitle = map[Decision]string{
	Fixed: "Fixed", Acted: "Done", NotFixed: "NOT fixed", Failed: "Remediation failed", DryRun: "Dry run",
	Skipped: "Skipped", Escalated: "Escalated", Recovered: "Recovered", Unverified: "Acted, NOT verified", Deferred: "Deferred",
}

// alert writes the notification of a decision for a person: what was
// checked, what was observed, what was expected, and what to do.
func (e *Engine) alert(a Alarm, r *Rule, to TargetOutcome, escalation bool) notify.Alert {
	kind, action, ruleName := notify.Kind(e.Policy.Defaults.Notify), "", ""
	if r != nil {
		kind, action, ruleName = e.Policy.notifyKind(r), r.Action, r.Name
	}
	sev := map[Decision]string{Fixed: "INFO", Acted: "INFO", DryRun: "INFO", Recovered: "INFO", Skipped: "LOW", Deferred: "LOW", Failed: "HIGH", NotFixed: "HIGH", Escalated: "HIGH", Unverified: "HIGH"}[to.Decision]
	title := decisionTitle[to.Decision] + ": alarm " + a.Name
	if escalation {
		kind, sev = notify.Escalation, "CRITICAL"
		title = "ESCALATION: alarm " + a.Name + " not fixed automatically"
	}
	if to.Target.Type != "" {
		title += " — " + action + " on " + to.Target.ID
	}
	where := fmt.Sprintf("account %s, region %s", a.AccountID, a.Region)
	if to.Target.Type != "" {
		where += ", " + to.Target.String()
	}
	what := fmt.Sprintf("Alarm %s went %s at %s.", a.Name, a.NewState, a.Timestamp.Format(time.RFC3339))
	switch {
	case ruleName != "" && to.Decision == Recovered:
		what += fmt.Sprintf(" The incident was handled by rule %s (action %s).", ruleName, action)
	case ruleName != "":
		what += fmt.Sprintf(" Rule %s matched; action %s.", ruleName, action)
	}
	what += " Decision: " + string(to.Decision) + " — " + to.Reason
	al := notify.Alert{
		Kind: kind, Severity: sev, Service: to.Target.ID, Title: title,
		What: what, Where: where,
		Event: "Remediation", ThreadID: a.ARN, Resources: []string{a.ARN},
		Attributes: map[string]string{"decision": string(to.Decision), "alarm": a.Name},
	}
	if r != nil && r.Description != "" {
		al.Why = r.Description
	}
	if a.Reason != "" {
		al.Evidence = append(al.Evidence, "Alarm reason: "+a.Reason)
	}
	if to.Call != "" {
		if to.Called {
			al.Evidence = append(al.Evidence, "API call made: "+to.Call)
		} else {
			al.Evidence = append(al.Evidence, "API call planned, not made: "+to.Call)
		}
	}
	if to.Observed != "" {
		al.Evidence = append(al.Evidence, "Verification observed: "+to.Observed)
	}
	byHand := "act by hand"
	if r != nil && r.Runbook != "" {
		byHand += ", following the runbook"
	}
	switch to.Decision {
	case Fixed, Recovered:
		al.Remediation = []string{"Nothing to do now; look for the cause before it recurs (the audit trail in the state table has every step)."}
	case DryRun:
		al.Remediation = []string{"Dry run: nothing was changed. To let automation act, set dryRun: false on the rule and in the policy (and unset the dry-run switch of the function)."}
	case Skipped:
		al.Remediation = []string{"Automation did not act (see the reason). If the alarm persists, " + byHand + "."}
	case Acted:
		al.Remediation = []string{"People were notified; " + byHand + "."}
	case Unverified:
		al.Remediation = []string{"The call was made but the function ran out of time before it could verify the fix. Check the resource and the alarm now; if the alarm stays in ALARM, " + byHand + ". Automation does not repeat the call for this state change.",
			"Give the function a timeout above the rule's verifyTimeout plus about 15 s."}
	case Deferred:
		al.Remediation = []string{"Nothing was changed; Lambda retries the delivery. If the retries run out too, " + byHand + ", and raise the function's timeout."}
	default:
		al.Remediation = []string{"Automation could not fix this: " + byHand + " now. Automation stands down for this incident once it has had its attempt limit, until the alarm returns to OK."}
	}
	if r != nil && r.Runbook != "" {
		base := e.Policy.RunbookBaseURL
		if base == "" {
			base = e.RunbookBaseURL
		}
		al.Apply(base, r.Runbook)
	}
	return al
}
