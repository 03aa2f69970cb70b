package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
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
	// LeavesOutSuiteAlarms keeps the suite's own alarms out of the rule
	// the stack makes on its default bus (Stack.suiteAlarmsLeftOut).
	LeavesOutSuiteAlarms bool
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
		Description: "CloudWatch alarms entering ALARM or returning to OK, except Auto Scaling's target tracking alarms and the suite's own alarms",
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
		// Nor the suite's own alarms: they notify the escalation topic
		// through their alarm actions.
		LeavesOutSuiteAlarms: true,
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

// suiteAlarmsLeftOut is the "resources" condition that keeps the suite's
// own alarms (suiteAlarms: <stack>-<function>-errors, -throttles,
// -dead-letters) out of respond's alarm rule: they notify the escalation
// topic through their own alarm and OK actions — deliberately, so that a
// broken respond still pages — and respond would page them again, to the
// application topic with the application runbook.
//
// An alarm state change event's resources hold the alarm's ARN (CloudWatch
// User Guide, "Alarm events and EventBridge"). The condition is an
// anything-but on a prefix of that ARN: this account's and region's
// alarms named config.SuiteAlarmPrefix (EventBridge User Guide,
// "Comparison operators for use in event patterns in Amazon EventBridge",
// Anything-but (begins with), one prefix per field). The target tracking
// exclusion stays on detail.alarmName: conditions on different fields
// must all match, so each field can carry its own single-prefix
// anything-but (one field cannot exclude two prefixes with the documented
// single-prefix form, and $or would match either). Of a list, a pattern
// matches when any element matches ("Arrays in Amazon EventBridge event
// patterns"); CloudWatch's events name the one alarm. respond also leaves
// such an alarm to its actions should one reach it (pkg/respond
// SuiteAlarms, POSTDEPLOY_SUITE_ALARM_PREFIX).
func (s *Stack) suiteAlarmsLeftOut() *[]*string {
	return awsevents.Match_AnythingButPrefix(s.suiteAlarmARNPrefix())
}

// suiteAlarmARNPrefix starts the ARN of each of the suite's own alarms:
// arn:<partition>:cloudwatch:<region>:<account>:alarm:<stack>-.
func (s *Stack) suiteAlarmARNPrefix() *string {
	return s.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
		ResourceName: jsii.String(config.SuiteAlarmPrefix(*s.StackName())), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}
