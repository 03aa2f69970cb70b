package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// CodeDeploy lifecycle hooks: verify answers them (pkg/verify/hook.go says
// why the same function, not a sibling). This file gives it exactly what
// that needs, and gives users what CodeDeploy needs to call it.

// HookActions are the CodeDeploy calls verify makes for a hook: three
// reads that confirm the hook and one status. Each acts on the deployment
// group (resource type deploymentgroup,
// arn:${Partition}:codedeploy:${Region}:${Account}:deploymentgroup:${ApplicationName}/${DeploymentGroupName};
// Service Authorization Reference, "Actions, resources, and condition
// keys for AWS CodeDeploy"), as respond's DeploymentReads do.
var HookActions = []string{
	"codedeploy:GetDeployment", "codedeploy:ListDeploymentTargets", "codedeploy:GetDeploymentTarget",
	"codedeploy:PutLifecycleEventHookExecutionStatus",
}

// ListenerReads are the Elastic Load Balancing reads that turn a hook's
// listener ARN into #{TEST_LISTENER_URL} / #{PROD_LISTENER_URL}
// (pkg/verify/hooklisteners.go). Neither supports resource-level
// permissions: the Service Authorization Reference ("Actions, resources,
// and condition keys for AWS Elastic Load Balancing V2") lists no
// resource type for DescribeListeners or DescribeLoadBalancers, so "*" is
// the only resource IAM applies them to. Both are reads of addresses and
// ports only.
var ListenerReads = []string{"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers"}

// HookClaimKeys is the partition-key pattern of verify's hook claims in
// the state table (pkg/verify/hookclaim.go): verify may write no other item.
const HookClaimKeys = "hook#*"

// HookSpecPath is where, under the spec parameter prefix, each deployment
// group's hook spec lives: <prefix>codedeploy/<application>/<group>.
const HookSpecPath = "codedeploy/"

// hooks grants verify the hook calls, the hand-over to itself and its
// claims, sets its hook configuration, and makes the managed policy a
// CodeDeploy service role needs to invoke it.
func (s *Stack) hooks() {
	f := s.Verify
	// The application's deployment groups are not known to the stack; a
	// hook's deployment is named by the event and confirmed with CodeDeploy
	// before anything else (pkg/verify/hookresolve.go).
	s.allowPattern(f, "AnswerCodeDeployHooks", HookActions, arn{service: "codedeploy", resource: "deploymentgroup:*"}, nil,
		"a hook's deployment group is named by the hook event and read back from CodeDeploy; verify answers hooks of any deployment group of this account and region that names it in its AppSpec")
	s.allowAny(f, "ReadHookListeners", ListenerReads,
		"Elastic Load Balancing's DescribeListeners and DescribeLoadBalancers support no resource-level permissions; verify reads a hook's listener only when its spec uses #{TEST_LISTENER_URL} or #{PROD_LISTENER_URL}")
	// One claim per hook step and status (pkg/state Claim: a conditional
	// PutItem), on items whose partition key starts "hook#" only
	// (dynamodb:LeadingKeys, "Using IAM policy conditions for fine-grained
	// access control", Amazon DynamoDB Developer Guide).
	allow(f, "ClaimHookSteps", []string{"dynamodb:PutItem"}, []*string{s.Table.TableArn()},
		map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{HookClaimKeys}}})
	// The hand-over invokes the function itself. A policy of its own: on
	// the role's default policy, which the function depends on, the
	// function's ARN would make a dependency cycle.
	awsiam.NewPolicy(s.Stack, jsii.String("VerifyHookHandOver"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{f.ExecutionRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("HandOverToItself"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{f.FunctionArn()},
		})},
	})
	f.AddEnvironment(jsii.String(config.EnvStateTable), s.Table.TableName(), nil)
	f.AddEnvironment(jsii.String(config.EnvHookSpecPrefix), jsii.String(s.Props.SpecParameterPrefix+HookSpecPath), nil)

	// CodeDeploy invokes a hook with the deployment group's service role
	// (an identity policy; no resource policy on the function is needed in
	// the same account). AWSCodeDeployRoleForECS allows lambda:InvokeFunction
	// on every function, but AWSCodeDeployRoleForLambda (and
	// AWSCodeDeployRoleForCloudFormation) only on functions named
	// CodeDeployHook_* (AWS Managed Policy Reference), which verify is not:
	// attach this policy to such a service role.
	invoker := awsiam.NewManagedPolicy(s.Stack, jsii.String("HookInvoker"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("postdeploy: lets a CodeDeploy service role invoke verify as a lifecycle hook (AWSCodeDeployRoleForLambda allows only CodeDeployHook_* functions)"),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("InvokeVerifyAsHook"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{f.FunctionArn()},
		})},
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("HookInvokerPolicyArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("attach to a CodeDeploy service role whose managed policy does not already let it invoke verify (AWSCodeDeployRoleForLambda)"),
		Value:       invoker.ManagedPolicyArn(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("HookSpecParameterPrefix"), &awscdk.CfnOutputProps{
		Description: jsii.String("a deployment group's hook spec is the SSM parameter <prefix><application>/<deployment group>"),
		Value:       jsii.String(s.Props.SpecParameterPrefix + HookSpecPath),
	})
}
