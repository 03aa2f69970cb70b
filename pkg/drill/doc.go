// Package drill proves the alert paths of a deployed postdeploy stack
// work, by triggering them: the alert drill (`make drill`).
//
// Against a stack (by name, in the caller's account and region, with the
// caller's credentials) it:
//
//  1. finds the stack's alarms, topics, dashboards and state table through
//     CloudFormation (DescribeStacks, ListStackResources); a stack that
//     does not exist, or is not a postdeploy stack of this version, is a
//     clear error (ErrNoStack, ErrOtherVersion);
//  2. subscribes a temporary SQS queue to every topic of the stack (a
//     queue policy lets only those topics send to it; Unsubscribe and
//     DeleteQueue afterwards);
//  3. for each alarm, one at a time: remembers its state, sets it to ALARM
//     with SetAlarmState and the reason contract.DrillReason, and waits
//     until CloudWatch's notification arrives on the alarm's topic, respond
//     has routed it (its notification on a topic) — except the suite's own
//     alarms (named <stack>-…), whose alarm actions notify the escalation
//     topic and which respond must not notify again (RespondNotRouted; a
//     notification from respond about one is a problem) — and, where remediate is
//     subscribed to the topic, remediate has decided on it (its audit
//     record in the state table, in dry run: remediate recognises the
//     drill by the state reason it reads back from CloudWatch). An alarm
//     already in ALARM is left alone; one that cannot be set (permissions)
//     is reported by name and the drill goes on;
//  4. restores every alarm it set to its previous state, also when
//     interrupted (the caller cancels ctx; restoring runs on a context
//     that outlives it). CloudWatch would anyway: "Metric alarms returns
//     to their actual state quickly, often within seconds" (CloudWatch
//     API Reference, SetAlarmState:
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html);
//  5. checks that each dashboard widget's metrics had data in the last day
//     (GetDashboard, GetMetricData), flagging empty widgets.
//
// Report.Write prints the table (alarm, topic, notified in N s, respond,
// remediate decision); Report.OK is false when any alert path is broken.
package drill
