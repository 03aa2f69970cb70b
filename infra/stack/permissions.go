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
}

// The scopes, and which scope each IAM action the registry declares
// belongs to. An action the registry declares that is not listed here
// stops the stack with an error naming it: decide its scope here.
var (
	scopeDescribe = remediationScope{sid: "RemediationReads", any: true,
		reason: "Describe APIs without resource-level permissions (ec2:DescribeInstances, ec2:DescribeInstanceStatus, autoscaling:DescribeAutoScalingGroups, cloudwatch:DescribeAlarms)"}
	scopeAlarms = remediationScope{sid: "RemediationAlarmTags", arns: []arn{{service: "cloudwatch", resource: "alarm:*"}},
		reason: "rules match on the tags of the alarm that fired, any alarm of this account and region"}
	scopeInstances = remediationScope{sid: "RemediationInstances", arns: []arn{{service: "ec2", resource: "instance/*"}},
		reason: "the instance is named by the alarm's InstanceId dimension; the opt-in tag and blast-radius cap bound it"}
	scopeServices = remediationScope{sid: "RemediationEcsServices", arns: []arn{{service: "ecs", resource: "service/*"}},
		reason: "the ECS service is named by the alarm's ClusterName/ServiceName dimensions; the opt-in tag bounds it"}
	scopeGroups = remediationScope{sid: "RemediationAutoScalingGroups", arns: []arn{{service: "autoscaling", resource: "autoScalingGroup:*:autoScalingGroupName/*"}},
		reason: "the group is named by the alarm's AutoScalingGroupName dimension; the opt-in tag and min/max bound it"}
	scopeDeployments = remediationScope{sid: "RemediationDeployments", arns: []arn{{service: "codedeploy", resource: "deploymentgroup:*"}, {service: "codedeploy", resource: "application:*"}},
		reason: "the CodeDeploy application and group are named by the policy rule; any of this account and region"}
	scopeFunctions = remediationScope{sid: "RemediationFunctions", arns: []arn{{service: "lambda", resource: "function:*"}},
		reason: "the function (and its alias) is named by the alarm's FunctionName dimension; the opt-in tag bounds it"}
	scopeAutomation = remediationScope{sid: "RemediationAutomation", arns: []arn{
		{service: "ssm", resource: "automation-definition/*", anyAccount: true},
		{service: "ssm", resource: "automation-execution/*"},
	}, reason: "the Automation runbook is named by the policy rule and may be AWS-owned (no account in its ARN); its executions are this account's"}
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
	"ecs:DescribeServices":                  scopeServices,
	"ecs:UpdateService":                     scopeServices,
	"autoscaling:SetDesiredCapacity":        scopeGroups,
	"codedeploy:GetDeployment":              scopeDeployments,
	"codedeploy:ListDeployments":            scopeDeployments,
	"codedeploy:ListTagsForResource":        scopeDeployments,
	"codedeploy:StopDeployment":             scopeDeployments,
	"lambda:GetAlias":                       scopeFunctions,
	"lambda:ListTags":                       scopeFunctions,
	"lambda:ListVersionsByFunction":         scopeFunctions,
	"lambda:UpdateAlias":                    scopeFunctions,
	"ssm:GetAutomationExecution":            scopeAutomation,
	"ssm:StartAutomationExecution":          scopeAutomation,
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
