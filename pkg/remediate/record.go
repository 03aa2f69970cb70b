package remediate

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/postdeploy/postdeploy/pkg/strict"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// decided records one decision: the log, the audit trail in the state
// table, the metric and a notification. Recording never fails the
// decision: a failure to record is logged.
func (e *Engine) decided(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) {
	ctx = context.WithoutCancel(ctx)
	e.counted(ctx, a, r, to)
	if to.Decision == Duplicate || to.Decision == Ignored || to.Decision == Deferred {
		return // a deferred state change is notified when its retry decides
	}
	if e.Notify == nil {
		return
	}
	if _, err := e.Notify.Send(ctx, e.alert(a, r, to, false).Message()); err != nil {
		e.Log.ErrorContext(ctx, "could not notify the decision", "alarm", a.Name, "decision", to.Decision, "error", err)
	}
}

// counted records one decision in the log, the audit trail and the
// Remediations metric, without a notification.
func (e *Engine) counted(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) {
	ctx = context.WithoutCancel(ctx)
	e.audit(ctx, a, r, to)
	action := ""
	if r != nil {
		action = r.Action
	}
	e.Metrics.Emit(map[string]string{"Action": action, "Outcome": string(to.Decision)},
		telemetry.Value{Name: telemetry.MetricRemediations, Unit: telemetry.UnitCount, Value: 1})
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
		attrs["dryRun"] = strconv.FormatBool(e.DryRun || e.Policy.DryRun || r.DryRun || drill(a))
		if drill(a) {
			attrs["drill"] = "true"
		}
	}
	level := slog.LevelInfo
	switch to.Decision {
	case Failed, NotFixed, Escalated, Unverified:
		level = slog.LevelError
	case Skipped, Deferred, Refused:
		level = slog.LevelWarn
	}
	args := make([]any, 0, 2*len(attrs))
	for _, k := range strict.SortedKeys(attrs) {
		args = append(args, k, attrs[k])
	}
	e.Log.Log(ctx, level, "remediation decision", args...)
	if err := e.Store.Audit(context.WithoutCancel(ctx), a.ARN, e.Now(), attrs); err != nil {
		e.Log.ErrorContext(ctx, "could not write the audit record", "alarm", a.Name, "error", err)
	}
}

func targetString(t Target) string {
	if t.Type == "" {
		return ""
	}
	return t.String()
}

// failedAttempt counts a failed attempt and escalates when the incident
// has had MaxAttempts.
func (e *Engine) failedAttempt(ctx context.Context, a Alarm, r *Rule, to *TargetOutcome) {
	ctx = context.WithoutCancel(ctx)
	n, err := e.Store.RecordAttempt(ctx, a.ARN)
	if err != nil {
		e.Log.ErrorContext(ctx, "could not count the failed attempt", "alarm", a.Name, "error", err)
		return
	}
	to.Reason += fmt.Sprintf(" (failed attempt %d of %d)", n, e.Policy.Limits.MaxAttempts)
	if n >= e.Policy.Limits.MaxAttempts {
		e.escalate(ctx, a, r, *to)
	}
}

// escalate notifies the escalation topic once per incident; true if this
// call sent it.
func (e *Engine) escalate(ctx context.Context, a Alarm, r *Rule, to TargetOutcome) bool {
	ctx = context.WithoutCancel(ctx)
	first, err := e.Store.MarkEscalated(ctx, a.ARN)
	if err != nil {
		e.Log.ErrorContext(ctx, "could not mark the incident escalated; escalating anyway", "alarm", a.Name, "error", err)
		first = true
	}
	if !first || e.Notify == nil {
		return false
	}
	if _, err := e.Notify.Send(ctx, e.alert(a, r, to, true).Message()); err != nil {
		e.Log.ErrorContext(ctx, "could not send the escalation", "alarm", a.Name, "error", err)
		return false
	}
	return true
}
