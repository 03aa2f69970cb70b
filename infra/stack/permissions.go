package stack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// remediationActions are the IAM actions remediate needs for its
// actions and engine: the union the action registry declares
// (remediate.Permissions), so least privilege has one source.
func remediationActions() []string { return remediate.Permissions() }

// A remediationScope is the resources a group of remediation actions may
// touch: ARN patterns in this account and region, or "*" for APIs that
// have no resource-level permissions.
type remediationScope struct {
	sid    string
	arns   []arn
	any    bool
	reason string
	// mutates: the actions change the resource (the Service
	// Authorization Reference's access level Write).
	mutates bool
	// optIn conditions the statement on the opt-in tag:
	// aws:ResourceTag/<key> equals <value>. Set on every mutating scope
	// whose resource type lists aws:ResourceTag/${TagKey} in the Service
	// Authorization Reference; noOptIn says why a mutating scope has no
	// such condition (README.md lists these actions).
	optIn   bool
	noOptIn string
}

// The scopes, and which scope each IAM action the registry declares
// belongs to. An action the registry declares that is not listed here
// stops the stack with an error naming it: decide its scope here. The
// resource types and condition keys are those of the Service
// Authorization Reference ("Actions, resources, and condition keys for
// <service>", https://docs.aws.amazon.com/service-authorization/latest/reference/).
var (
	scopeDescribe = remediationScope{sid: "RemediationReads", any: true,
		reason: "Describe APIs without resource-level permissions (ec2:DescribeInstances, ec2:DescribeInstanceStatus, autoscaling:DescribeAutoScalingGroups, cloudwatch:DescribeAlarms)"}
	scopeAlarms = remediationScope{sid: "RemediationAlarmTags", arns: []arn{{service: "cloudwatch", resource: "alarm:*"}},
		reason: "rules match on the tags of the alarm that fired, any alarm of this account and region"}
	// "Actions, resources, and condition keys for Amazon EC2":
	// RebootInstances acts on instance*, which takes aws:ResourceTag.
	scopeInstances = remediationScope{sid: "RemediationInstances", arns: []arn{{service: "ec2", resource: "instance/*"}}, mutates: true, optIn: true,
		reason: "the instance comes from the alarm's InstanceId dimension; IAM allows the reboot only on instances carrying the opt-in tag"}
	scopeServicesRead = remediationScope{sid: "RemediationEcsServicesRead", arns: []arn{{service: "ecs", resource: "service/*"}},
		reason: "the ECS service comes from the alarm's ClusterName/ServiceName dimensions; describing it reads its opt-in tag"}
	// "... for Amazon Elastic Container Service": UpdateService acts on
	// service*, which takes aws:ResourceTag.
	scopeServices = remediationScope{sid: "RemediationEcsServices", arns: []arn{{service: "ecs", resource: "service/*"}}, mutates: true, optIn: true,
		reason: "the ECS service comes from the alarm's ClusterName/ServiceName dimensions; IAM allows the update only on services carrying the opt-in tag"}
	// "... for Amazon EC2 Auto Scaling": SetDesiredCapacity acts on
	// autoScalingGroup*, which takes aws:ResourceTag (and
	// autoscaling:ResourceTag).
	scopeGroups = remediationScope{sid: "RemediationAutoScalingGroups", arns: []arn{{service: "autoscaling", resource: "autoScalingGroup:*:autoScalingGroupName/*"}}, mutates: true, optIn: true,
		reason: "the group comes from the alarm's AutoScalingGroupName dimension; IAM allows the change only on groups carrying the opt-in tag, min/max bound it"}
	scopeDeployments = remediationScope{sid: "RemediationDeployments", arns: []arn{{service: "codedeploy", resource: "deploymentgroup:*"}, {service: "codedeploy", resource: "application:*"}},
		reason: "the CodeDeploy application and group are named by the policy rule; reading them reads the group's opt-in tag"}
	// "... for AWS CodeDeploy": StopDeployment lists no resource type, so
	// "*" is the only resource IAM matches it with, and no tag condition
	// applies. (CodeDeploy's own permissions reference shows a
	// deployment group ARN; the authorization reference, and cfn-lint's
	// policy data built from it, do not.)
	scopeStopDeployment = remediationScope{sid: "RemediationStopDeployment", any: true, mutates: true,
		noOptIn: "the Service Authorization Reference lists no resource type for codedeploy:StopDeployment: only \"*\", no resource tag condition",
		reason:  "codedeploy:StopDeployment supports no resource-level permissions; remediate checks the deployment group's opt-in tag (ListTagsForResource) before it stops a deployment"}
	scopeFunctionsRead = remediationScope{sid: "RemediationFunctionsRead", arns: []arn{{service: "lambda", resource: "function:*"}},
		reason: "the function (and its alias) comes from the alarm's FunctionName dimension; reading it reads its opt-in tag"}
	// "... for AWS Lambda": UpdateAlias acts on function*, which takes
	// aws:ResourceTag (Lambda's ABAC: tags are on the function, and apply
	// to its versions and aliases).
	scopeFunctions = remediationScope{sid: "RemediationFunctions", arns: []arn{{service: "lambda", resource: "function:*"}}, mutates: true, optIn: true,
		reason: "the function comes from the alarm's FunctionName dimension; IAM allows the alias change only on functions carrying the opt-in tag"}
	// "... for AWS Systems Manager": StartAutomationExecution acts on the
	// runbook (document*, automation-definition) and the new
	// automation-execution*; aws:ResourceTag there is the runbook's tag,
	// not the instance's. The instance's opt-in tag is a condition of the
	// automation role's EC2 actions instead (automation.go). Its
	// resources are the runbooks Props.Runbooks names (runbookScope).
	scopeRunbooks = remediationScope{sid: "RemediationRunbooks", mutates: true,
		noOptIn: "ssm:StartAutomationExecution acts on the runbook and the execution; the target instance's opt-in tag is a condition of the automation role's EC2 actions",
		reason:  "any version of the runbooks the policy names, and the executions they start in this account"}
	scopeAutomationRead = remediationScope{sid: "RemediationAutomationExecutions", arns: []arn{{service: "ssm", resource: "automation-execution/*"}},
		reason: "the execution remediate started, by id"}
	// scopeTopics: sns:Publish is granted on the alert topics themselves
	// (grantTopics), not here.
	scopeTopics = remediationScope{sid: "topics"}
)

var remediationScopes = map[string]remediationScope{
	"cloudwatch:DescribeAlarms":             scopeDescribe,
	"ec2:DescribeInstances":                 scopeDescribe,
	"ec2:DescribeInstanceStatus":            scopeDescribe,
	"autoscaling:DescribeAutoScalingGroups": scopeDescribe,
	"cloudwatch:ListTagsForResource":        scopeAlarms,
	"ec2:RebootInstances":                   scopeInstances,
	"ecs:DescribeServices":                  scopeServicesRead,
	"ecs:UpdateService":                     scopeServices,
	"autoscaling:SetDesiredCapacity":        scopeGroups,
	"codedeploy:GetDeployment":              scopeDeployments,
	"codedeploy:ListDeployments":            scopeDeployments,
	"codedeploy:ListTagsForResource":        scopeDeployments,
	"codedeploy:StopDeployment":             scopeStopDeployment,
	"lambda:GetAlias":                       scopeFunctionsRead,
	"lambda:ListTags":                       scopeFunctionsRead,
	"lambda:ListVersionsByFunction":         scopeFunctionsRead,
	"lambda:UpdateAlias":                    scopeFunctions,
	"ssm:GetAutomationExecution":            scopeAutomationRead,
	"ssm:StartAutomationExecution":          scopeRunbooks,
	"sns:Publish":                           scopeTopics,
}

// scopedRemediation groups actions by scope, in a stable order, and
// reports every action that has no scope.
func scopedRemediation(actions []string) ([]remediationScope, map[string][]string, error) {
	by := map[string][]string{}
	scopes := map[string]remediationScope{}
	var unknown []string
	for _, a := range actions {
		sc, ok := remediationScopes[a]
		if !ok {
			unknown = append(unknown, a)
			continue
		}
		if sc.sid == scopeTopics.sid {
			continue
		}
		by[sc.sid] = append(by[sc.sid], a)
		scopes[sc.sid] = sc
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("remediate's action registry declares IAM actions with no resource scope in infra/stack/permissions.go: %s; add each to remediationScopes with the narrowest resources its API accepts",
			strings.Join(unknown, ", "))
	}
	sids := make([]string, 0, len(scopes))
	for sid := range scopes {
		sids = append(sids, sid)
	}
	sort.Strings(sids)
	out := make([]remediationScope, len(sids))
	for i, sid := range sids {
		out[i] = scopes[sid]
		sort.Strings(by[sid])
	}
	return out, by, nil
}

// OptInExceptions lists the mutating IAM actions remediate's registry
// declares that IAM cannot condition on the opt-in tag, each with why;
// README.md names each one.
func OptInExceptions() map[string]string {
	out := map[string]string{}
	for _, a := range remediationActions() {
		if sc := remediationScopes[a]; sc.mutates && !sc.optIn {
			out[a] = sc.noOptIn
		}
	}
	return out
}

// optInCondition is the statement condition that requires the opt-in tag
// on the resource acted on.
func optInCondition(tag remediate.Tag) map[string]any {
	return map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + tag.Key: tag.Value}}
}
