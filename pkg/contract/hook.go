package contract

// CodeDeployHookEvent is the payload CodeDeploy invokes a lifecycle hook
// function with, for the Lambda and Amazon ECS compute platforms: the
// deployment's id and the hook execution's id, nothing else. The hook
// function reports its result with PutLifecycleEventHookExecutionStatus,
// passing both back ("AppSpec 'hooks' section", the sample validation
// functions for ECS and Lambda deployments,
// https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html).
// aws-lambda-go has no type for it (its events.CodeDeployEvent is the
// EventBridge/CloudWatch Events deployment state change, another shape).
//
// Nothing in it is trusted: the ids say which hook execution to look up,
// and everything else (the deployment's application, group and compute
// platform, which lifecycle event is running and since when) is read from
// CodeDeploy.
type CodeDeployHookEvent struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
	// Continuation is set only on the invocations verify sends itself to
	// carry a bake past one invocation: a continuation token in verify's
	// signed "pd2." format, bound to this hook execution. CodeDeploy never
	// sets it.
	Continuation string `json:"PostdeployContinuation,omitempty"`
}

// The lifecycle events a Lambda validation function can hook, per compute
// platform ("AppSpec 'hooks' section": "List of lifecycle event hooks for
// an Amazon ECS deployment" and "... for an AWS Lambda deployment").
var (
	ECSHooks    = []string{"BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"}
	LambdaHooks = []string{"BeforeAllowTraffic", "AfterAllowTraffic"}
)
