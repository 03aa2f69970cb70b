package respond

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// AlarmEngine is the part of *remediate.Engine respond uses.
type AlarmEngine interface {
	Handle(ctx context.Context, a remediate.Alarm) (remediate.Outcome, error)
}

var _ AlarmEngine = (*remediate.Engine)(nil)

// EngineRemediator hands alarm state changes to the remediation engine.
// The engine claims each state change in the state table, so an alarm
// that also reaches functions/remediate over SNS is acted on once.
type EngineRemediator struct {
	Engine AlarmEngine
}

var _ Remediator = EngineRemediator{}

// Remediate runs the engine on the alarm and summarises the outcome in
// one line.
func (r EngineRemediator) Remediate(ctx context.Context, a contract.Alarm) (string, error) {
	out, err := r.Engine.Handle(ctx, a)
	if err != nil {
		return "", fmt.Errorf("remediation engine: %w", err)
	}
	return outcomeLine(out), nil
}

// outcomeLine says what the engine decided, for the alarm notification.
func outcomeLine(o remediate.Outcome) string {
	switch o.Decision {
	case remediate.Ignored:
		return "none (" + cmp.Or(o.Reason, "no rule of the remediation policy matches this alarm") + ")"
	case remediate.Duplicate:
		return "already handled for this state change (see the remediation notification)"
	}
	var b strings.Builder
	b.WriteString(string(o.Decision))
	if o.Action != "" {
		fmt.Fprintf(&b, " by %s", o.Action)
	}
	if o.Rule != "" {
		fmt.Fprintf(&b, " (rule %s)", o.Rule)
	}
	if o.Reason != "" {
		b.WriteString(": " + o.Reason)
	}
	for i, t := range o.Targets {
		if i == 3 {
			b.WriteString("; and " + notify.Count(len(o.Targets)-3, "more target", "more targets"))
			break
		}
		fmt.Fprintf(&b, "; %s %s %s", t.Target.Type, t.Target.ID, t.Decision)
		if t.Call != "" {
			b.WriteString(" [" + t.Call + "]")
		}
	}
	if o.Escalated {
		b.WriteString("; escalated")
	}
	return b.String()
}
