package remediate

import (
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

var decisionTitle = map[Decision]string{
	Fixed: "Fixed", Acted: "Done", NotFixed: "NOT fixed", Failed: "Remediation failed", DryRun: "Dry run",
	Skipped: "Skipped", Refused: "Refused", Escalated: "Escalated", Recovered: "Recovered", Unverified: "Acted, NOT verified", Deferred: "Deferred",
}

// alert writes the notification of a decision for a person: what was
// checked, what was observed, what was expected, and what to do.
func (e *Engine) alert(a Alarm, r *Rule, to TargetOutcome, escalation bool) notify.Alert {
	kind, action, ruleName := notify.Kind(e.Policy.Defaults.Notify), "", ""
	if r != nil {
		kind, action, ruleName = e.Policy.notifyKind(r), r.Action, r.Name
	}
	sev := map[Decision]string{Fixed: "INFO", Acted: "INFO", DryRun: "INFO", Recovered: "INFO", Skipped: "LOW", Deferred: "LOW", Refused: "MEDIUM", Failed: "HIGH", NotFixed: "HIGH", Escalated: "HIGH", Unverified: "HIGH"}[to.Decision]
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
	if to.Decision == Refused { // what the message claimed, not a fact
		what = fmt.Sprintf("A message says alarm %s went %s at %s.", a.Name, a.NewState, a.Timestamp.Format(time.RFC3339))
		where = "as the message says: " + where
	}
	switch {
	case to.Decision == Recovered: // the reason names the incident's rule and action
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
	if a.Reason != "" && to.Decision != Refused { // a refused message's text is not evidence
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
	case Refused:
		al.Remediation = []string{"Nothing was done: CloudWatch did not confirm the message (see the reason). If the alarm is real and still in ALARM, " + byHand + ". If no CloudWatch alarm sent it, find out who can publish to the alarm topic or put events on the bus."}
	case Acted:
		al.Remediation = []string{"People were notified; " + byHand + "."}
	case Unverified:
		check := " Check the resource and the alarm now; if the alarm stays in ALARM, " + byHand + ". Automation does not repeat the call for this state change."
		al.Remediation = []string{"The call was made but the function ran out of time before it could verify the fix." + check,
			"Give the function a timeout above the rule's verifyTimeout plus about 15 s."}
		if to.AnswerAmbiguous {
			al.Remediation = []string{"The call was sent, and the service answered with an error that does not say whether it acted." + check}
		}
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
