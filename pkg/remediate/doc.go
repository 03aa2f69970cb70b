// Package remediate fixes known failures when a CloudWatch alarm fires —
// safely, verifiably, and with a full audit trail.
//
// Handler receives remediate's Lambda payloads and dispatches them by
// shape (handler.go): SNS records and EventBridge alarm events go to the
// engine; anything else is logged, counted and dropped.
//
// An Alarm comes from the SNS notification CloudWatch publishes
// (contract.DecodeSNSMessage, contract.AlarmFromSNS) or from the EventBridge "CloudWatch
// Alarm State Change" event (contract.AlarmFromEventBridge): metric alarms with one
// metric or metric math, and composite alarms. Engine.Handle matches it
// against the Policy (ParsePolicy: YAML or JSON, validated strictly, every
// problem reported with its path), whose first matching Rule names an
// Action from the explicit registry (registry.go) with parameters
// templated from the alarm ("{{.Dimensions.ServiceName}}": literal text
// and field references only, evaluated by this package — see
// template.go — so that text/template's reflective executor does not
// switch off the linker's dead-code elimination of SDK methods).
//
// The safety layer, in the order Handle applies it:
//
//  1. idempotency: the state change (alarm ARN, new state, state change
//     time) is claimed with a conditional write in the state table, so
//     at-least-once delivery and concurrent invocations act once;
//  2. CloudWatch, not the message (confirm.go): the alarm is read from
//     CloudWatch in the function's own account and region; it must
//     exist, have the message's ARN and be in the delivered state now,
//     and rules and parameters see CloudWatch's definition of it
//     (dimensions, metric-math metrics, a composite's child alarms),
//     never the message's. Anything else is Refused; an unreadable
//     CloudWatch is an error (Lambda retries), never a decision;
//  3. attempts: an incident (one per alarm, opened on ALARM, closed on OK
//     with time-to-recover emitted as an EMF metric) that has had
//     limits.maxAttempts failed attempts is escalated, not retried;
//  4. blast radius: an event that would touch more than
//     limits.blastRadius resources touches none;
//  5. opt-in: only a resource carrying the policy's optInTag, read
//     through the resource's own service API, is ever touched;
//  6. the action plans its exact API call (reads only); a plan with
//     nothing to do (already at the bound) is skipped;
//  7. cooldown per (rule, resource), then the rule's hourly cap, then the
//     global hourly cap — conditional writes, so concurrent invocations
//     cannot exceed them;
//  8. dry run (policy, rule, or the function's switch): the planned call
//     is reported, no mutating API is called, and limits count in
//     separate dry-run keys;
//  9. the call, then verification within a bounded wait: the action's own
//     check (service stable, capacity reached, runbook succeeded) and the
//     alarm back to OK. A call that succeeded while the alarm stays in
//     ALARM is reported not-fixed and escalated, never as fixed.
//
// All of it is bounded by the invocation's deadline less Engine.Margin.
// Time running out before the call is Deferred: audited, the state
// change released and ErrOutOfTime returned, so the delivery's retry
// acts. Time running out after the call was sent is Unverified: audited,
// escalated, and the state change kept, so the call is never repeated.
//
// Every decision is logged, written to the state table's audit trail for
// the alarm, counted in the Remediations metric, and (except duplicates
// and alarms no rule matches) notified to SNS as a message for a person.
//
// Permissions lists every IAM action the registered actions and the
// engine need; the CDK stack builds the function's role from it.
package remediate
