// Package respond is the respond function's handler: it turns EventBridge
// events — CloudWatch alarm state changes, CodePipeline, CodeDeploy and
// CodeBuild failures, security findings (ECR, Inspector, GuardDuty,
// Security Hub) and the suite's own verification verdicts — into triaged,
// deduplicated notifications on the SNS topic of each alert kind and,
// where the policy says so, actions: a stage rollback after a failed
// verification, alarms handed to the remediation engine.
//
// The *Handler is a lambda.Handler: Handle identifies every payload
// before decoding it (payload.go), so one that is not JSON is counted as
// malformed and one that is not an EventBridge event is logged by its
// shape and counted. It routes on the event's Source and DetailType (the
// constants of aws-lambda-go and pkg/contract), decodes each detail once,
// claims a dedupe key in the state table, and stops its AWS calls a
// margin before the Lambda deadline (pkg/deadline) so a claim is always
// released when its notification could not be sent. A verification
// event is a claim, not proof: respond rolls back only after CodePipeline
// confirms that the named execution's verify action failed (confirm.go),
// and sends RollbackStage and StopDeployment once per decision. Triage
// lives in pkg/triage and rendering in pkg/notify.
package respond
