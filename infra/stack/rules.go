package stack

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

// The suite's own verification event, as verify publishes it.
const (
	VerifySource     = "postdeploy.verify"
	VerifyDetailType = "Post-Deploy Verification Completed"
)

// Routes are every event pattern respond handles. AWS services publish
// to the default bus; verify's verdicts go to the suite's bus.
var Routes = []Route{
	{
		ID:          "AlarmStateChange",
		Description: "CloudWatch alarms entering ALARM or returning to OK",
		Source:      "aws.cloudwatch",
		DetailTypes: []string{"CloudWatch Alarm State Change"},
		Detail:      map[string]any{"state": map[string]any{"value": []any{"ALARM", "OK"}}},
	},
	{
		ID:          "PipelineFailed",
		Description: "CodePipeline executions and actions that failed",
		Source:      "aws.codepipeline",
		DetailTypes: []string{"CodePipeline Pipeline Execution State Change", "CodePipeline Action Execution State Change"},
		Detail:      map[string]any{"state": []any{"FAILED"}},
	},
	{
		ID:          "DeploymentFailed",
		Description: "CodeDeploy deployments that failed",
		Source:      "aws.codedeploy",
		DetailTypes: []string{"CodeDeploy Deployment State-change Notification"},
		Detail:      map[string]any{"state": []any{"FAILURE"}},
	},
	{
		ID:          "BuildFailed",
		Description: "CodeBuild builds that failed",
		Source:      "aws.codebuild",
		DetailTypes: []string{"CodeBuild Build State Change"},
		Detail:      map[string]any{"build-status": []any{"FAILED"}},
	},
	{
		ID:          "VerificationCompleted",
		Description: "postdeploy verify's verdicts",
		Source:      VerifySource,
		DetailTypes: []string{VerifyDetailType},
		OnSuiteBus:  true,
	},
	{
		ID:          "EcrImageScan",
		Description: "ECR basic image scan results",
		Source:      "aws.ecr",
		DetailTypes: []string{"ECR Image Scan"},
	},
	{
		ID:          "Inspector2",
		Description: "Amazon Inspector findings and scan results",
		Source:      "aws.inspector2",
		DetailTypes: []string{"Inspector2 Finding", "Inspector2 Scan"},
	},
	{
		ID:          "GuardDuty",
		Description: "GuardDuty findings",
		Source:      "aws.guardduty",
		DetailTypes: []string{"GuardDuty Finding"},
	},
	{
		ID:          "SecurityHub",
		Description: "Security Hub findings, ASFF and OCSF (V2)",
		Source:      "aws.securityhub",
		DetailTypes: []string{"Security Hub Findings - Imported", "Findings Imported V2"},
	},
}
