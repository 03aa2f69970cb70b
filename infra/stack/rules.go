package stack

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Route is one EventBridge rule that sends events to respond.
type Route struct {
	// ID is the rule's construct id.
	ID string
	// Description says what the rule catches, for the console.
	Description string
	Source      string
	DetailTypes []string
	// Detail narrows the match on the event's detail (an EventBridge
	// pattern), or nil for every event of those types.
	Detail map[string]any
	// OnSuiteBus puts the rule on the bus verify publishes to instead of
	// the default bus.
	OnSuiteBus bool
}

// TargetTrackingAlarmPrefix starts the names of the alarms Application
// Auto Scaling and EC2 Auto Scaling create for target tracking scaling
// policies.
const TargetTrackingAlarmPrefix = "TargetTracking-"

// Routes are every event pattern respond handles, named by the constants
// the functions switch on: aws-lambda-go's for the pipeline services,
// pkg/contract's for alarm state changes and verify's verdicts, pkg/triage's for the security
// services. The detail filters drop only what respond ignores (an alarm
// going to INSUFFICIENT_DATA, pipelines and deployments that did not
// fail). AWS services publish to the default bus; verify's verdicts go
// to the suite's bus.
var Routes = []Route{
	{
		ID:          "AlarmStateChange",
		Description: "CloudWatch alarms entering ALARM or returning to OK, except Auto Scaling's target tracking alarms",
		Source:      contract.AlarmSource,
		DetailTypes: []string{contract.DetailTypeAlarmStateChange},
		Detail: map[string]any{
			"state": map[string]any{"value": []any{"ALARM", "OK"}},
			// Target tracking scaling policies create and manage alarms
			// named TargetTracking-<resource>-AlarmHigh/AlarmLow-<id>
			// that change state as a matter of course; they are scaling
			// signals, not incidents. Anything-but (begins with):
			// EventBridge User Guide, "Comparison operators for use in
			// event patterns in Amazon EventBridge".
			"alarmName": []any{map[string]any{"anything-but": map[string]any{"prefix": TargetTrackingAlarmPrefix}}},
		},
	},
	{
		ID:          "PipelineFailed",
		Description: "CodePipeline executions and actions that failed",
		Source:      events.CodePipelineEventSource,
		DetailTypes: []string{events.CodePipelineExecutionEventDetailType, events.CodePipelineActionEventDetailType},
		Detail:      map[string]any{"state": []any{string(events.CodePipelineStateFailed)}},
	},
	{
		ID:          "DeploymentFailed",
		Description: "CodeDeploy deployments that failed",
		Source:      events.CodeDeployEventSource,
		DetailTypes: []string{events.CodeDeployDeploymentEventDetailType},
		Detail:      map[string]any{"state": []any{string(events.CodeDeployDeploymentStateFailure)}},
	},
	{
		ID:          "BuildFailed",
		Description: "CodeBuild builds that failed, faulted or timed out",
		Source:      events.CodeBuildEventSource,
		DetailTypes: []string{events.CodeBuildStateChangeDetailType},
		Detail: map[string]any{"build-status": []any{
			string(events.CodeBuildPhaseStatusFailed), string(events.CodeBuildPhaseStatusFault), string(events.CodeBuildPhaseStatusTimedOut),
		}},
	},
	{
		ID:          "VerificationCompleted",
		Description: "postdeploy verify's verdicts",
		Source:      contract.VerificationSource,
		DetailTypes: []string{contract.VerificationDetailType},
		OnSuiteBus:  true,
	},
	{
		ID:          "EcrImageScan",
		Description: "ECR basic image scan results",
		Source:      triage.SourceEventECR,
		DetailTypes: []string{triage.DetailECRScan},
	},
	{
		ID:          "Inspector2",
		Description: "Amazon Inspector findings and scan results",
		Source:      triage.SourceEventInspector,
		DetailTypes: []string{triage.DetailInspectorFinding, triage.DetailInspectorScan},
	},
	{
		ID:          "GuardDuty",
		Description: "GuardDuty findings",
		Source:      triage.SourceEventGuardDuty,
		DetailTypes: []string{triage.DetailGuardDutyFinding},
	},
	{
		ID:          "SecurityHub",
		Description: "Security Hub findings, ASFF and OCSF (V2)",
		Source:      triage.SourceEventSecurityHub,
		DetailTypes: []string{triage.DetailSecurityHubASFF, triage.DetailSecurityHubOCSF},
	},
}
