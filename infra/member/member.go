// Package member is the small stack postdeploy deploys to every member
// account and region of an organization (through the central stack's
// service-managed StackSet, or by hand to one account): the roles verify
// and remediate assume there, and the rules that forward the account's
// alarms and events to the central bus.
//
//   - postdeploy-verify: trusted by the central verify function's role
//     only; reads alarms, metrics and image findings.
//   - postdeploy-remediate: trusted by the central remediate function's
//     role only; the same least-privilege statements as remediate's own
//     role (from the action registry), every mutating one conditioned on
//     the opt-in tag where IAM supports it.
//   - the roles are global: only the stack instance in RoleRegion creates
//     them (a CloudFormation condition), the others forward events only.
//   - one rule per route respond and remediate handle (stack.Routes) on
//     the account's default bus, whose target is the central bus, through
//     a role EventBridge assumes with events:PutEvents on that bus only.
package member

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/postdeploy/postdeploy/infra/stack"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// Props configure the member stack.
type Props struct {
	awscdk.StackProps
	// OptInTag is the remediation policy's opt-in tag (default
	// stack.DefaultOptInTag): the member remediate role may mutate only
	// resources carrying it.
	OptInTag remediate.Tag
}

// Stack is the member stack and the parts tests reach.
type Stack struct {
	awscdk.Stack
	VerifyRole, RemediateRole awsiam.CfnRole
	// Forward are the forwarding rules by route id.
	Forward map[string]awsevents.Rule
	// Skipped are the remediation actions the member role does not have,
	// with why.
	Skipped map[string]string
}

// New builds the member stack. Its parameters (stack.Param*) are filled in
// by the central stack's StackSet, or by hand.
func New(scope constructs.Construct, id string, p Props) (*Stack, error) {
	if p.OptInTag.Key == "" {
		p.OptInTag = stack.DefaultOptInTag
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("postdeploy member account: roles for the central verify and remediate, forwarding of alarms and events to the central bus")
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Forward: map[string]awsevents.Rule{}}
	param := func(name, desc string) *string {
		return awscdk.NewCfnParameter(s.Stack, jsii.String(name), &awscdk.CfnParameterProps{Type: jsii.String("String"), Description: jsii.String(desc)}).ValueAsString()
	}
	verifyPrincipal := param(stack.ParamVerifyRoleArn, "ARN of the central verify function's role: the only principal the verify role trusts")
	remediatePrincipal := param(stack.ParamRemediateRoleArn, "ARN of the central remediate function's role: the only principal the remediate role trusts")
	bus := param(stack.ParamCentralBusArn, "ARN of the central postdeploy-members event bus")
	roleRegion := param(stack.ParamRoleRegion, "The one region whose stack instance creates the (global) IAM roles")
	inRoleRegion := awscdk.NewCfnCondition(s.Stack, jsii.String("InRoleRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), roleRegion),
	})

	stmts, skipped, err := stack.MemberRemediation(p.OptInTag)
	if err != nil {
		return nil, fmt.Errorf("member stack %s: %w", id, err)
	}
	s.Skipped = skipped
	externalID := awscdk.NewCfnParameter(s.Stack, jsii.String(stack.ParamVerifyExternalID), &awscdk.CfnParameterProps{
		Type: jsii.String("String"), Default: jsii.String(""), NoEcho: jsii.Bool(false),
		Description: jsii.String("Optional sts:ExternalId the verify role requires; specs then set externalId"),
	}).ValueAsString()
	s.VerifyRole = s.role("VerifyRole", stack.MemberVerifyRole, verifyPrincipal, inRoleRegion, verifyStatements(), externalID)
	s.RemediateRole = s.role("RemediateRole", stack.MemberRemediateRole, remediatePrincipal, inRoleRegion, stmts, nil)
	s.forward(bus)
	return s, nil
}

// verifyStatements are what verify's checks read in a member account:
// alarms and metrics (no resource-level permissions), Inspector findings
// (none either), ECR scan findings of any repository of the account.
func verifyStatements() []stack.MemberStatement {
	st := func(sid string, actions []string, res string, reason string) stack.MemberStatement {
		return stack.MemberStatement{
			Statement: awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String(sid), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings(actions...), Resources: jsii.Strings(res)}),
			Wildcards: map[string]string{res: sid + ": " + reason},
		}
	}
	ecr := stack.MemberStatement{
		Statement: awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadImageScanFindings"), Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("ecr:DescribeImageScanFindings"),
			Resources: &[]*string{awscdk.Fn_Join(jsii.String(""), &[]*string{
				jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":ecr:*:"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":repository/*"),
			})}}),
		Wildcards: map[string]string{"arn:<AWS::Partition>:ecr:*:<AWS::AccountId>:repository/*": "ReadImageScanFindings: a spec names the repository of the image it deploys, any repository of the account, in any region (the role is global)"},
	}
	return []stack.MemberStatement{
		st("ReadMetricsAndAlarms", []string{"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"}, "*", "CloudWatch GetMetricData and DescribeAlarms support no resource-level permissions"),
		st("ReadInspectorFindings", []string{"inspector2:ListFindings"}, "*", "Inspector2 ListFindings supports no resource-level permissions"),
		ecr,
	}
}

// role creates a named role trusting exactly one principal ARN (the
// central function's role), with the statements inline, only in the role
// region.
func (s *Stack) role(id, name string, principal *string, cond awscdk.CfnCondition, stmts []stack.MemberStatement, externalID *string) awsiam.CfnRole {
	allow := func(condition map[string]any) map[string]any {
		st := map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": "sts:AssumeRole"}
		if condition != nil {
			st["Condition"] = condition
		}
		return st
	}
	var statement any = allow(nil)
	if externalID != nil {
		// With an external id set, the trust also requires it
		// (sts:ExternalId; IAM User Guide, "Access to AWS accounts owned by
		// third parties"); without, the statement is the plain one.
		hasID := awscdk.NewCfnCondition(s.Stack, jsii.String(id+"HasExternalId"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(externalID, jsii.String(""))),
		})
		statement = awscdk.Fn_ConditionIf(hasID.LogicalId(), allow(map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}}), allow(nil))
	}
	trust := map[string]any{"Version": "2012-10-17", "Statement": []any{statement}}
	ps := make([]awsiam.PolicyStatement, len(stmts))
	reasons := map[string][]string{}
	var order []string
	for i, st := range stmts {
		ps[i] = st.Statement
		for res, why := range st.Wildcards {
			if _, ok := reasons[res]; !ok {
				order = append(order, res)
			}
			reasons[res] = append(reasons[res], why)
		}
	}
	r := awsiam.NewCfnRole(s.Stack, jsii.String(id), &awsiam.CfnRoleProps{
		RoleName:                 jsii.String(name),
		Description:              jsii.String("postdeploy: assumed by the central " + name + " function's role only"),
		AssumeRolePolicyDocument: trust,
		MaxSessionDuration:       jsii.Number(3600),
		Policies: &[]any{&awsiam.CfnRole_PolicyProperty{
			PolicyName:     jsii.String(name),
			PolicyDocument: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &ps}),
		}},
	})
	r.CfnOptions().SetCondition(cond)
	ss := make([]*cdknag.NagPackSuppression, 0, len(order))
	for _, res := range order {
		a := []any{"Resource::" + res}
		ss = append(ss, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(strings.Join(reasons[res], "; ")), AppliesTo: &a})
	}
	if len(ss) > 0 {
		cdknag.NagSuppressions_AddResourceSuppressions(r, &ss, jsii.Bool(false))
	}
	return r
}

// forward adds, on the account's default bus, one rule per route the
// central functions handle, each sending its events to the central bus
// through a role EventBridge assumes (events:PutEvents on that bus only).
// EventBridge sets the forwarded event's account and region itself
// (EventBridge User Guide, "Sending and receiving events between AWS
// accounts in Amazon EventBridge").
func (s *Stack) forward(busARN *string) {
	central := awsevents.EventBus_FromEventBusArn(s.Stack, jsii.String("CentralBus"), busARN)
	role := awsiam.NewRole(s.Stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("postdeploy: EventBridge forwards this account's alarms and events to the central bus"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PutOnCentralBus"), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("events:PutEvents"), Resources: &[]*string{busARN},
	}))
	for _, r := range stack.Routes {
		if r.OnSuiteBus {
			continue
		}
		s.Forward[r.ID] = awsevents.NewRule(s.Stack, jsii.String("Forward"+r.ID), &awsevents.RuleProps{
			Description:  jsii.String("postdeploy: forward to the central bus: " + r.Description),
			EventPattern: r.Pattern(),
			Targets:      &[]awsevents.IRuleTarget{awseventstargets.NewEventBus(central, &awseventstargets.EventBusProps{Role: role})},
		})
	}
}

// MaxTemplateBody is the largest TemplateBody CloudFormation accepts
// (51,200 bytes; CloudFormation User Guide, "AWS CloudFormation quotas").
const MaxTemplateBody = 51200

// Template synthesizes the member stack on its own, without the CDK
// bootstrap parameter (member accounts are not bootstrapped) or metadata,
// and returns its template as JSON for the central stack's StackSet.
func Template(p Props) (string, error) {
	dir, err := os.MkdirTemp("", "postdeploy-member-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), AnalyticsReporting: jsii.Bool(false)})
	p.Synthesizer = awscdk.NewBootstraplessSynthesizer(nil)
	s, err := New(app, "PostdeployMember", p)
	if err != nil {
		return "", err
	}
	art := app.Synth(nil).GetStackByName(s.StackName())
	b, err := json.Marshal(art.Template())
	if err != nil {
		return "", fmt.Errorf("member template: %w", err)
	}
	if len(b) > MaxTemplateBody {
		return "", errors.New("member template is " + fmt.Sprint(len(b)) + " bytes, above CloudFormation's TemplateBody limit of 51,200")
	}
	return string(b), nil
}
