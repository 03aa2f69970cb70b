package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// remediate audits every decision in the state table under the alarm's
// ARN (pkg/state: "audit#<alarm ARN>"), with the state change's time as
// CloudWatch gave it: the drill finds the decision on its own state
// change there, including the ones remediate does not notify (no rule
// matches).

// auditDecision is remediate's decision on the drill's state change.
type auditDecision struct {
	decisions        []string
	rule, call       string
	called, drill    bool
	dryRun, anyRules bool
}

// stateChangeSlack absorbs the rounding between CloudWatch's timestamps
// and the notification's StateChangeTime (milliseconds).
const stateChangeSlack = time.Second

// decision reads the audit trail of the alarm for records of the ALARM
// state change at `changed`.
func decision(ctx context.Context, trail AuditTrail, alarmARN string, changed time.Time) (auditDecision, bool, error) {
	recs, err := trail.Trail(ctx, alarmARN, 0)
	if err != nil {
		return auditDecision{}, false, fmt.Errorf("read remediate's audit trail of %s: %w", alarmARN, err)
	}
	var d auditDecision
	found := false
	for _, r := range recs {
		at, err := time.Parse(time.RFC3339Nano, r.Attrs["stateChangeTime"])
		if err != nil || r.Attrs["state"] != contract.StateAlarm {
			continue
		}
		if diff := at.Sub(changed); diff > stateChangeSlack || diff < -stateChangeSlack {
			continue
		}
		found = true
		if dec := r.Attrs["decision"]; dec != "" && !slices.Contains(d.decisions, dec) {
			d.decisions = append(d.decisions, dec)
		}
		if r.Attrs["rule"] != "" {
			d.rule, d.anyRules = r.Attrs["rule"], true
		}
		if r.Attrs["call"] != "" {
			d.call = r.Attrs["call"]
		}
		d.called = d.called || r.Attrs["called"] == "true"
		d.drill = d.drill || r.Attrs["drill"] == "true"
		d.dryRun = d.dryRun || r.Attrs["dryRun"] == "true"
	}
	return d, found, nil
}

// describe is the decision for the table: "dry-run (rule x, drill)".
func (d auditDecision) describe() string {
	s := strings.Join(d.decisions, "+")
	var notes []string
	if d.rule != "" {
		notes = append(notes, "rule "+d.rule)
	}
	if d.drill {
		notes = append(notes, "drill")
	}
	if d.called {
		notes = append(notes, "CALLED "+d.call)
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}
