package remediate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/state"
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

// StateStore is the part of *state.Store the engine uses: claims for
// idempotency and cooldowns, hourly rate limits, incidents and the audit
// trail.
type StateStore interface {
	Claim(ctx context.Context, key string, ttl time.Duration, attrs map[string]string) (bool, error)
	Holder(ctx context.Context, key string) (state.Hold, bool, error)
	Release(ctx context.Context, key string) error
	Take(ctx context.Context, key string, limit int, window time.Duration) (ok bool, n int, err error)
	OpenIncident(ctx context.Context, id string, at time.Time, attrs map[string]string) (state.Incident, bool, error)
	RecordAttempt(ctx context.Context, id string) (int, error)
	MarkEscalated(ctx context.Context, id string) (bool, error)
	CloseIncident(ctx context.Context, id string, at time.Time) (state.Incident, bool, error)
	Audit(ctx context.Context, stream string, at time.Time, attrs map[string]string) error
}

var _ StateStore = (*state.Store)(nil)

// ErrOutOfTime marks a state change the engine gave up on because the
// invocation was about to reach its deadline before anything was done:
// Handle has released it, so a retry of the delivery handles it.
var ErrOutOfTime = errors.New("ran out of time before acting")

// DefaultMargin is the most time Handle keeps before the invocation's
// deadline to record its decision and release or keep its claim.
const DefaultMargin = 10 * time.Second

// Engine applies the policy to alarm state changes.
type Engine struct {
	Policy  *Policy
	Actions map[string]Action // Actions(clients)
	Store   StateStore        // a *state.Store
	Alarms  AlarmAPI
	Notify  Notifier
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// DryRun forces dry run whatever the policy says (an env switch).
	DryRun bool
	// Region, if set, is the only region whose alarms are acted on: the
	// clients are regional.
	Region string
	// Members, when set, lets the engine act on alarms of the policy's
	// member accounts and regions through a role there (accounts.go).
	Members *Members
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

// DefaultDeliveryTTL is how long a handled state change is remembered
// when Engine.DeliveryTTL is unset.
const DefaultDeliveryTTL = 24 * time.Hour

// SetDefaults settles, once, what an Engine built without NewEngine left
// unset: Log (slog.Default), Now (time.Now), Sleep (a timer that honours
// ctx), DeliveryTTL (DefaultDeliveryTTL) and Margin (DefaultMargin).
// NewEngine calls it; the engine's methods never re-decide them.
func (e *Engine) SetDefaults() *Engine {
	if e.Log == nil {
		e.Log = slog.Default()
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = deadline.Sleep
	}
	if e.DeliveryTTL <= 0 {
		e.DeliveryTTL = DefaultDeliveryTTL
	}
	if e.Margin <= 0 {
		e.Margin = DefaultMargin
	}
	return e
}

// workContext bounds the engine's work by ctx's deadline less the margin.
func (e *Engine) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	cutoff, _, ok := deadline.Cutoff(ctx, time.Now(), e.Margin)
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, cutoff)
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
	if m, out, stop, err := e.member(ctx, a); stop || err != nil {
		return out, err
	} else if m != nil {
		return m.Handle(ctx, a)
	}
	out := Outcome{Alarm: a.Name, State: a.NewState}
	switch a.NewState {
	case contract.StateOK:
		return e.recovered(ctx, a)
	case contract.StateAlarm, contract.StateInsufficientData:
	default:
		out.Decision, out.Reason = Ignored, fmt.Sprintf("unknown state %q: nothing acts on it", a.NewState)
		e.Log.WarnContext(ctx, "alarm skipped", "alarm", a.Name, "state", a.NewState, "reason", out.Reason)
		return out, nil
	}

	// Idempotency first: SNS and EventBridge deliver at least once, and
	// concurrent invocations race; one claim per state change acts.
	key := deliveryKey(a)
	claimed, err := e.Store.Claim(ctx, key, e.DeliveryTTL, map[string]string{"alarm": a.Name, "state": a.NewState})
	if err != nil {
		return out, fmt.Errorf("claim state change of alarm %s: %w", a.Name, err)
	}
	if !claimed {
		out.Decision, out.Reason = Duplicate, "this state change ("+a.NewState+" at "+a.Timestamp.Format(time.RFC3339)+") was already handled"
		e.Log.InfoContext(ctx, "duplicate delivery skipped", "alarm", a.Name, "state", a.NewState, "stateChangeTime", a.Timestamp)
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

func (e *Engine) handleClaimed(ctx context.Context, msg Alarm) (Outcome, error) {
	// Never act on a message alone: from here on, the alarm is
	// CloudWatch's (confirm.go).
	a, current, out, ok, err := e.confirmed(ctx, msg)
	if !ok {
		return out, err
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
	dry := e.DryRun || e.Policy.DryRun || rule.DryRun || drill(a)

	// The alarm must be in the delivered state now: deliveries arrive
	// late and out of order, and a message may not be CloudWatch's.
	if current != a.NewState {
		o := e.refuse(ctx, a, rule, staleReason(a, current), true)
		o.Rule, o.Action = rule.Name, rule.Action
		return o, nil
	}

	inc, _, err := e.Store.OpenIncident(ctx, a.ARN, a.Timestamp, map[string]string{"alarm": a.Name, "rule": rule.Name, "action": rule.Action})
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

// recovered closes the alarm's incident on its OK transition and
// reports the time to recover, once CloudWatch confirms the alarm is OK.
func (e *Engine) recovered(ctx context.Context, msg Alarm) (Outcome, error) {
	a, current, out, ok, err := e.confirmed(ctx, msg)
	if !ok {
		return out, err
	}
	if current != contract.StateOK {
		// A late OK of an alarm that fired again: audited and counted;
		// not notified, as no OK but a recovery ever is.
		return e.refuse(ctx, a, nil, staleReason(a, current), false), nil
	}
	inc, closed, err := e.Store.CloseIncident(ctx, a.ARN, a.Timestamp)
	if err != nil {
		return out, err
	}
	if !closed {
		out.Decision, out.Reason = Ignored, "no open incident for this alarm"
		e.Log.InfoContext(ctx, "alarm OK, no open incident", "alarm", a.Name)
		return out, nil
	}
	ttr := max(a.Timestamp.Sub(inc.OpenedAt), 0)
	// The rule and action come from the incident record: what handled
	// this incident, even if the policy has changed since.
	r := e.incidentRule(inc.Attrs["rule"], inc.Attrs["action"])
	out.Decision, out.TimeToRecover = Recovered, ttr
	out.Reason = fmt.Sprintf("alarm back to OK after %s (%d failed remediation attempts)", ttr.Round(time.Second), inc.Attempts)
	if r != nil {
		out.Rule, out.Action = r.Name, r.Action
		out.Reason += fmt.Sprintf("; the incident was handled by rule %s with action %s", r.Name, r.Action)
	}
	if !drill(a) { // a drill's restore is no recovery
		e.Metrics.Emit(nil, telemetry.Value{Name: telemetry.MetricTimeToRecover, Unit: telemetry.UnitSeconds, Value: ttr.Seconds()})
	}
	e.decided(ctx, a, r, TargetOutcome{Decision: Recovered, Reason: out.Reason})
	return out, nil
}

// incidentRule is the rule an incident record names, with the action it
// records (incidents opened before the action was recorded take the
// policy's): the policy's rule of that name when it still has that
// action, else a rule carrying only the recorded name and action. nil
// when the record names no rule.
func (e *Engine) incidentRule(name, action string) *Rule {
	if name == "" {
		return nil
	}
	r := e.rule(name)
	switch {
	case r != nil && (action == "" || r.Action == action):
		return r
	case action == "":
		return &Rule{Name: name, Action: "(not recorded)"}
	}
	return &Rule{Name: name, Action: action}
}

// confirmed is confirm behind the region check. ok is false when the
// caller must stop and return out and err: CloudWatch could not be read
// (err), or did not confirm the message (out is the Refused decision,
// recorded and notified). Otherwise a is the alarm as CloudWatch defines
// it, current its state now, and out the outcome to fill in.
func (e *Engine) confirmed(ctx context.Context, msg Alarm) (a Alarm, current string, out Outcome, ok bool, err error) {
	out = Outcome{Alarm: msg.Name, State: msg.NewState}
	refusal := ""
	if e.Region != "" && msg.Region != e.Region {
		refusal = fmt.Sprintf("the alarm is in region %s; this function acts on its own region's alarms (%s) only", msg.Region, e.Region)
	} else if a, current, refusal, err = e.confirm(ctx, msg); err != nil {
		return Alarm{}, "", out, false, err
	}
	if refusal != "" {
		return Alarm{}, "", e.refuse(ctx, msg, nil, refusal, true), false, nil
	}
	return a, current, out, true, nil
}

// staleReason says why an alarm CloudWatch reports in another state than
// the delivered one is not acted on.
func staleReason(a Alarm, current string) string {
	return fmt.Sprintf("CloudWatch reports alarm %s in state %s now, not %s as delivered (state change of %s): a late delivery, or a message CloudWatch did not send; nothing is decided on it",
		a.Name, current, a.NewState, a.Timestamp.Format(time.RFC3339))
}

// refuse records a message CloudWatch did not confirm as a Refused
// decision: logged, audited, counted and, when notify is set, notified.
func (e *Engine) refuse(ctx context.Context, a Alarm, r *Rule, reason string, notify bool) Outcome {
	to := TargetOutcome{Decision: Refused, Reason: reason}
	if notify {
		e.decided(ctx, a, r, to)
	} else {
		e.counted(ctx, a, r, to)
	}
	return Outcome{Alarm: a.Name, State: a.NewState, Decision: Refused, Reason: reason, Targets: []TargetOutcome{to}}
}
