package remediate

import "time"

// Decision is what the engine did about one alarm (or one resource).
type Decision string

// The decisions, as audited and as the Outcome dimension of the
// Remediations metric.
const (
	Fixed    Decision = "fixed"     // acted, and the action took and the alarm cleared
	Acted    Decision = "acted"     // acted; nothing to verify (notify)
	NotFixed Decision = "not-fixed" // the call succeeded but the action did not take or the alarm stayed in ALARM: escalated
	Failed   Decision = "failed"    // the call (or reading what it needed) failed
	DryRun   Decision = "dry-run"   // would have acted: the exact call is in Call
	Skipped  Decision = "skipped"   // a safety check said no; Reason says which
	// Refused: CloudWatch did not confirm the message (no such alarm,
	// another ARN, another account or region, not in the delivered
	// state now); nothing was decided on it.
	Refused   Decision = "refused"
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
	Ignored: 0, Duplicate: 1, Skipped: 2, Refused: 2, DryRun: 3, Acted: 4, Fixed: 5, Recovered: 5, Escalated: 6, Unverified: 6, Failed: 7, Deferred: 7, NotFixed: 8,
}

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
	// AnswerAmbiguous is set on Unverified when the call's answer was
	// an error that does not say whether the service acted (a 5xx, a
	// connection lost after sending), rather than the deadline.
	AnswerAmbiguous bool
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
