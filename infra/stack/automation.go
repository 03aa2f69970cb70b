package stack

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

// The automation role: the role ssm.runbook passes as a runbook's
// AutomationAssumeRole, so Systems Manager runs the runbook with it
// rather than with remediate's own permissions ("If no role is
// specified, Systems Manager Automation uses the permissions of the user
// that starts this runbook", AWS-RestartEC2Instance in the Systems
// Manager Automation Runbook Reference). remediate may pass exactly this
// role, and only to Systems Manager (iam:PassRole conditioned on
// iam:PassedToService, IAM User Guide "Grant a user permissions to pass a
// role to an AWS service").

// AutomationRolePrefix starts the automation role's name; the region
// follows ("postdeploy-automation-eu-west-1"), because role names are
// global to the account and the stack may be deployed in several regions.
// The shipped policy's ssm.runbook rule names it:
// arn:aws:iam::{{.AccountID}}:role/postdeploy-automation-{{.Region}}.
const AutomationRolePrefix = "postdeploy-automation-"

// runbookGrant is what the automation role needs to run one runbook.
type runbookGrant struct {
	// onInstances act on the target instance; IAM allows them only on
	// instances carrying the opt-in tag (aws:ResourceTag on the instance
	// resource type, "Actions, resources, and condition keys for Amazon
	// EC2").
	onInstances []string
	// describe have no resource-level permissions.
	describe []string
}

// runbookPermissions are the runbooks the stack knows the needs of.
// AWS-RestartEC2Instance stops and starts the instance
// (aws:changeInstanceState), waiting on its state and status checks.
var runbookPermissions = map[string]runbookGrant{
	"AWS-RestartEC2Instance": {
		onInstances: []string{"ec2:StartInstances", "ec2:StopInstances"},
		describe:    []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances"},
	},
}

func knownRunbooks() []string { return strict.SortedKeys(runbookPermissions) }

// amazonOwned reports whether a runbook name is one only AWS can create:
// SSM reserves the prefixes aws, amazon and amzn (CreateDocument, Name).
// Such runbooks' ARNs carry no account ("The account ID shouldn't be
// specified in the Amazon Resource Name (ARN) for Amazon owned public
// documents", Systems Manager User Guide, "Setting up identity based
// policies examples").
func amazonOwned(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "aws") || strings.HasPrefix(n, "amazon") || strings.HasPrefix(n, "amzn")
}

// runbookARNs are the resources ssm:StartAutomationExecution may name for
// the configured runbooks: each document, each of its automation
// definitions (any version: $DEFAULT, $LATEST or a number), and the
// executions it starts.
func (s *Stack) runbookARNs() []arn {
	var out []arn
	for _, r := range s.Props.Runbooks {
		owner := arn{service: "ssm"}
		if amazonOwned(r) {
			owner.noAccount = true
		}
		doc, def := owner, owner
		doc.resource = "document/" + r
		def.resource = "automation-definition/" + r + ":*"
		out = append(out, doc, def)
		if owner.noAccount {
			// The definition may be recorded in the caller's account.
			out = append(out, arn{service: "ssm", resource: def.resource})
		}
	}
	return append(out, arn{service: "ssm", resource: "automation-execution/*"})
}

// automationRole makes the role runbooks run with. Only Systems Manager
// may assume it, and only for automation executions of this account and
// region (aws:SourceAccount and aws:SourceArn, IAM User Guide "The
// confused deputy problem").
func (s *Stack) automationRole() {
	if len(s.Props.Runbooks) == 0 {
		return
	}
	principal := awsiam.NewServicePrincipal(jsii.String("ssm.amazonaws.com"), nil).WithConditions(&map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
		"ArnLike":      map[string]any{"aws:SourceArn": arn{service: "ssm", resource: "automation-execution/*"}.token()},
	})
	role := awsiam.NewRole(s.Stack, jsii.String("AutomationRole"), &awsiam.RoleProps{
		RoleName:    awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(AutomationRolePrefix), awscdk.Aws_REGION()}),
		AssumedBy:   principal,
		Description: jsii.String("postdeploy: the role remediate's ssm.runbook actions pass as AutomationAssumeRole; acts only on instances carrying the opt-in tag"),
	})
	var onInstances, describe []string
	for _, r := range s.Props.Runbooks {
		g := runbookPermissions[r]
		onInstances = append(onInstances, g.onInstances...)
		describe = append(describe, g.describe...)
	}
	onInstances, describe = uniqueSorted(onInstances), uniqueSorted(describe)
	add := func(sid string, actions []string, resource *string, cond map[string]any) {
		p := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &[]*string{resource}}
		if cond != nil {
			p.Conditions = &cond
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(p))
	}
	instances := arn{service: "ec2", resource: "instance/*"}
	if len(onInstances) > 0 {
		add("RunbookOptedInInstances", onInstances, instances.token(), optInCondition(s.Props.OptInTag))
	}
	if len(describe) > 0 {
		add("RunbookDescribe", describe, jsii.String("*"), nil)
	}
	suppress(role, true,
		suppression("AwsSolutions-IAM5", "RunbookOptedInInstances ("+strings.Join(onInstances, ", ")+"): the runbook acts on the instance the alarm names; IAM allows it only on instances carrying the opt-in tag "+s.Props.OptInTag.String(),
			"Resource::"+instances.nag()),
		suppression("AwsSolutions-IAM5", "RunbookDescribe ("+strings.Join(describe, ", ")+"): EC2 Describe APIs support no resource-level permissions",
			"Resource::*"),
	)
	s.AutomationRole = role
}

func uniqueSorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
