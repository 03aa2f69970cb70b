package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// CtxMembers is the context key of the member accounts (Members, as JSON).
const CtxMembers = "members"

// The roles the member stack creates in every member account, which verify
// and remediate assume there.
const (
	MemberVerifyRole    = "postdeploy-verify"
	MemberRemediateRole = remediate.DefaultMemberRoleName
)

// MemberBusName names the central bus member accounts forward their events
// to.
const MemberBusName = "postdeploy-members"

// The parameters of the member stack's template, which the StackSet fills
// in from this stack.
const (
	ParamVerifyRoleArn    = "CentralVerifyRoleArn"
	ParamRemediateRoleArn = "CentralRemediateRoleArn"
	ParamCentralBusArn    = "CentralBusArn"
	ParamRoleRegion       = "RoleRegion"
	// ParamVerifyExternalID is optional: the external id the member verify
	// role's trust requires (empty: none).
	ParamVerifyExternalID = "VerifyExternalId"
)

// Members are the member accounts the suite reaches, from the "members"
// context:
//
//	{"organizationId": "o-abc123defg", "organizationalUnits": ["ou-ab12-cdef3456"],
//	 "accounts": ["222222222222"], "regions": ["eu-west-1", "us-east-1"],
//	 "roleRegion": "eu-west-1", "delegatedAdmin": true}
type Members struct {
	// OrganizationID admits every account of the organization to the
	// central bus (aws:PrincipalOrgID) and to the roles verify and
	// remediate may assume (aws:ResourceOrgID).
	OrganizationID string `json:"organizationId,omitempty"`
	// OrganizationalUnits are the OUs the StackSet deploys the member
	// stack to, with automatic deployment to accounts that join them.
	OrganizationalUnits []string `json:"organizationalUnits,omitempty"`
	// Accounts are member accounts admitted by id (without an
	// organization, or besides it).
	Accounts []string `json:"accounts,omitempty"`
	// Regions are the regions the StackSet deploys the member stack to.
	Regions []string `json:"regions"`
	// RoleRegion is the one region whose stack instance creates the
	// (global) IAM roles (default: the first of Regions).
	RoleRegion string `json:"roleRegion,omitempty"`
	// DelegatedAdmin: this account is a delegated administrator for
	// StackSets (CallAs DELEGATED_ADMIN), not the management account.
	DelegatedAdmin bool `json:"delegatedAdmin,omitempty"`
	// VerifyExternalID, when set, is the sts:ExternalId the member verify
	// roles require; specs then name it (externalId).
	VerifyExternalID string `json:"verifyExternalId,omitempty"`
}

var (
	orgIDPattern   = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouPattern      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	accountPattern = regexp.MustCompile(`^\d{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	// externalIDPattern is AssumeRole's ExternalId character set.
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// MembersFromContext reads the "members" context (nil when unset); the
// error names every problem.
func MembersFromContext(get func(key string) any) (*Members, error) {
	v := get(CtxMembers)
	if v == nil {
		return nil, nil
	}
	b, ok := v.(string)
	raw := []byte(b)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("context %s: %w", CtxMembers, err)
		}
	}
	if strings.TrimSpace(string(raw)) == "" {
		return nil, nil
	}
	var m Members
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("context %s: %w (see the README's \"Running across accounts\")", CtxMembers, err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Members) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("context "+CtxMembers+"."+format, args...))
	}
	if m.OrganizationID == "" && len(m.Accounts) == 0 {
		bad("organizationId / accounts: set the organization id, member account ids, or both: the central bus and the roles admit only these")
	}
	if m.OrganizationID != "" && !orgIDPattern.MatchString(m.OrganizationID) {
		bad("organizationId=%q: not an organization id (o- and 10–32 lower-case letters or digits)", m.OrganizationID)
	}
	if len(m.OrganizationalUnits) > 0 && m.OrganizationID == "" {
		bad("organizationalUnits: a service-managed StackSet deploys to an organization: set organizationId too")
	}
	for i, ou := range m.OrganizationalUnits {
		if !ouPattern.MatchString(ou) {
			bad("organizationalUnits[%d]=%q: not an OU id (ou-xxxx-xxxxxxxx) or a root id", i, ou)
		}
	}
	for i, a := range m.Accounts {
		if !accountPattern.MatchString(a) {
			bad("accounts[%d]=%q: not an account id (12 digits)", i, a)
		}
	}
	if len(m.Regions) == 0 {
		bad("regions: required: the regions whose events and alarms reach the suite")
	}
	for i, r := range m.Regions {
		if !regionPattern.MatchString(r) {
			bad("regions[%d]=%q: not a region code (e.g. eu-west-1)", i, r)
		}
	}
	if id := m.VerifyExternalID; id != "" && (len(id) < 2 || len(id) > 1224 || !externalIDPattern.MatchString(id)) {
		bad("verifyExternalId: must be 2 to 1224 letters, digits or _+=,.@:/- (AssumeRole's ExternalId)")
	}
	if m.RoleRegion != "" && !regionPattern.MatchString(m.RoleRegion) {
		bad("roleRegion=%q: not a region code", m.RoleRegion)
	}
	return errors.Join(errs...)
}

// roleRegion is the region whose member stack instance creates the roles.
func (m *Members) roleRegion() string {
	if m.RoleRegion != "" {
		return m.RoleRegion
	}
	return m.Regions[0]
}

// MemberAccess is what AddMembers added to the central stack.
type MemberAccess struct {
	// Bus receives the member accounts' forwarded events.
	Bus awsevents.EventBus
	// Rules route the bus's events to respond and remediate, by route id.
	Rules map[string]awsevents.Rule
	// StackSet deploys the member stack (nil without organizational
	// units: deploy the member stack to each account yourself).
	StackSet awscloudformation.CfnStackSet
}

// AddMembers opens the central stack to member accounts:
//   - a bus whose policy admits events:PutEvents only from the
//     organization (aws:PrincipalOrgID, the only case of a "*" principal)
//     or from listed accounts, with rules sending member alarms to
//     remediate and the other events respond handles to respond;
//   - sts:AssumeRole for verify and remediate on their member roles (by
//     name, in listed accounts or in any account of the organization,
//     aws:ResourceOrgID);
//   - remediate learns its own account (config.EnvAccountID);
//   - with organizational units, a service-managed StackSet with automatic
//     deployment that deploys memberTemplate (the member stack's template,
//     infra/member.Template) to every account of those OUs in every region.
func AddMembers(s *Stack, m *Members, memberTemplate string) *MemberAccess {
	ma := &MemberAccess{Rules: map[string]awsevents.Rule{}}
	ma.Bus = awsevents.NewEventBus(s.Stack, jsii.String("MemberBus"), &awsevents.EventBusProps{EventBusName: jsii.String(MemberBusName)})
	memberBusPolicy(ma.Bus, m)
	for _, r := range Routes {
		if r.OnSuiteBus {
			continue
		}
		pattern := r.Pattern()
		var targets []awsevents.IRuleTarget
		if r.ID == "AlarmStateChange" {
			// remediate confirms each alarm in its own account through the
			// member role; respond, when it remediates too, would race it
			// for the same state change, so it hears these only when not.
			targets = append(targets, lambdaTarget(s.Remediate))
			if !s.Props.RespondRemediates {
				targets = append(targets, lambdaTarget(s.Respond))
			}
		} else {
			targets = append(targets, lambdaTarget(s.Respond))
		}
		ma.Rules[r.ID] = awsevents.NewRule(s.Stack, jsii.String("Member"+r.ID+"Rule"), &awsevents.RuleProps{
			Description:  jsii.String("postdeploy, member accounts: " + r.Description),
			EventBus:     ma.Bus,
			EventPattern: pattern,
			Targets:      &targets,
		})
	}
	for _, f := range []struct {
		fn   *Function
		role string
	}{{s.Verify, MemberVerifyRole}, {s.Remediate, MemberRemediateRole}} {
		s.allowAssume(f.fn, f.role, m)
	}
	s.Remediate.Function.AddEnvironment(jsii.String(config.EnvAccountID), awscdk.Aws_ACCOUNT_ID(), nil)
	if len(m.OrganizationalUnits) > 0 {
		ma.StackSet = s.memberStackSet(m, ma.Bus, memberTemplate)
	}
	return ma
}

func lambdaTarget(f *Function) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(f.Function, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: f.DLQ,
		RetryAttempts:   jsii.Number(4),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
	})
}

// memberBusPolicy admits events:PutEvents from the organization
// (Principal "*" with aws:PrincipalOrgID, as the EventBridge User Guide's
// "Permissions for Amazon EventBridge event buses" shows for an
// organization) and from each listed account, and from no one else.
func memberBusPolicy(bus awsevents.EventBus, m *Members) {
	if m.OrganizationID != "" {
		bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OrganizationPutsEvents"),
			Effect:     awsiam.Effect_ALLOW,
			Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  &[]*string{bus.EventBusArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": m.OrganizationID}},
		}))
	}
	if len(m.Accounts) > 0 {
		ps := make([]awsiam.IPrincipal, len(m.Accounts))
		for i, a := range m.Accounts {
			ps[i] = awsiam.NewAccountPrincipal(jsii.String(a))
		}
		bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("MemberAccountsPutEvents"),
			Effect:     awsiam.Effect_ALLOW,
			Principals: &ps,
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  &[]*string{bus.EventBusArn()},
		}))
	}
}

// allowAssume lets f assume the member role of that name: in each listed
// account, and in any account of the organization (aws:ResourceOrgID: the
// role's account must belong to it; IAM User Guide, "AWS global condition
// context keys").
func (s *Stack) allowAssume(f *Function, role string, m *Members) {
	roleARN := func(account string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::" + account + ":role/" + role)})
	}
	if len(m.Accounts) > 0 {
		arns := make([]*string, len(m.Accounts))
		for i, a := range m.Accounts {
			arns[i] = roleARN(a)
		}
		allow(f, "AssumeMemberRole", []string{"sts:AssumeRole"}, arns, nil)
	}
	if m.OrganizationID != "" {
		allow(f, "AssumeOrganizationMemberRole", []string{"sts:AssumeRole"}, []*string{roleARN("*")},
			map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": m.OrganizationID}})
		suppress(f.ExecutionRole, true, suppression("AwsSolutions-IAM5",
			"AssumeOrganizationMemberRole: the "+role+" role the member stack creates, in any account of the organization (aws:ResourceOrgID); accounts that join the OUs get it by the StackSet's automatic deployment",
			"Resource::arn:<AWS::Partition>:iam::*:role/"+role))
	}
}

// memberStackSet deploys the member stack with a service-managed StackSet:
// automatic deployment to accounts that join the OUs (and removal from
// those that leave), the regions given, the IAM roles created in one of
// them only (IAM is global). CloudFormation User Guide, "Create a stack set
// with service-managed permissions"; AWS::CloudFormation::StackSet.
func (s *Stack) memberStackSet(m *Members, bus awsevents.EventBus, template string) awscloudformation.CfnStackSet {
	callAs := "SELF"
	if m.DelegatedAdmin {
		callAs = "DELEGATED_ADMIN"
	}
	param := func(k string, v *string) *awscloudformation.CfnStackSet_ParameterProperty {
		return &awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(k), ParameterValue: v}
	}
	return awscloudformation.NewCfnStackSet(s.Stack, jsii.String("MemberStackSet"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String("postdeploy-member"),
		Description:     jsii.String("postdeploy member accounts: the roles verify and remediate assume, and the rules forwarding events and alarms to the central bus"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(callAs),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled: jsii.Bool(true), RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		ManagedExecution: map[string]any{"Active": true},
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"),
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			RegionConcurrencyType: jsii.String("PARALLEL"), MaxConcurrentPercentage: jsii.Number(25), FailureTolerancePercentage: jsii.Number(0),
		},
		Parameters: []any{
			param(ParamVerifyRoleArn, s.Verify.ExecutionRole.RoleArn()),
			param(ParamRemediateRoleArn, s.Remediate.ExecutionRole.RoleArn()),
			param(ParamCentralBusArn, bus.EventBusArn()),
			param(ParamRoleRegion, jsii.String(m.roleRegion())),
			param(ParamVerifyExternalID, jsii.String(m.VerifyExternalID)),
		},
		StackInstancesGroup: []any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(m.OrganizationalUnits...)},
			Regions:           jsii.Strings(m.Regions...),
		}},
		TemplateBody: jsii.String(template),
	})
}

// Pattern is the route's EventBridge event pattern.
func (r Route) Pattern() *awsevents.EventPattern {
	p := &awsevents.EventPattern{Source: jsii.Strings(r.Source), DetailType: jsii.Strings(r.DetailTypes...)}
	if r.Detail != nil {
		d := r.Detail
		p.Detail = &d
	}
	return p
}
