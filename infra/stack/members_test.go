package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
)

var testMembers = &Members{
	OrganizationID:      "o-abcdef1234",
	OrganizationalUnits: []string{"ou-ab12-cdef3456"},
	Accounts:            []string{"222222222222"},
	Regions:             []string{"eu-west-1", "us-east-1"},
	DelegatedAdmin:      true,
}

// TestMembersFromContext checks the "members" context is read strictly,
// every problem named.
func TestMembersFromContext(t *testing.T) {
	for _, tc := range []struct {
		name, ctx, says string
	}{
		{"neither organization nor accounts", `{"regions": ["eu-west-1"]}`, "organizationId / accounts"},
		{"bad organization id", `{"organizationId": "org-1", "regions": ["eu-west-1"]}`, "organizationId=\"org-1\""},
		{"OUs without organization", `{"accounts": ["222222222222"], "organizationalUnits": ["ou-ab12-cdef3456"], "regions": ["eu-west-1"]}`, "set organizationId too"},
		{"bad account", `{"accounts": ["2222"], "regions": ["eu-west-1"]}`, "accounts[0]"},
		{"no regions", `{"accounts": ["222222222222"]}`, "regions: required"},
		{"unknown field", `{"accounts": ["222222222222"], "regions": ["eu-west-1"], "ou": []}`, "unknown field"},
		{"bad external id", `{"accounts": ["222222222222"], "regions": ["eu-west-1"], "verifyExternalId": "a b"}`, "verifyExternalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MembersFromContext(func(string) any { return tc.ctx })
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("MembersFromContext(%s) = %v; want an error saying %q", tc.ctx, err, tc.says)
			}
		})
	}
	m, err := MembersFromContext(func(string) any { return nil })
	if m != nil || err != nil {
		t.Errorf("MembersFromContext(unset) = %v, %v; want nil, nil", m, err)
	}
}

// TestCentralStackWithMembers builds a second central stack with member
// accounts and checks: cdk-nag finds nothing; the member bus admits
// events:PutEvents only from the organization (the one "*" principal, with
// aws:PrincipalOrgID) and the listed account; member alarms go to
// remediate; verify and remediate may assume only their member roles;
// remediate knows its account; the StackSet is service-managed with
// automatic deployment and passes the central roles and bus.
func TestCentralStackWithMembers(t *testing.T) {
	synth(t) // writes the placeholder assets
	app := awscdk.NewApp(nil)
	s, err := New(app, "PostdeployWithMembers", Props{AssetDir: shared.dir})
	if err != nil {
		t.Fatal(err)
	}
	ma := AddMembers(s, testMembers, `{"Resources": {}}`)
	Check(app)
	tmpl := assertions.Template_FromStack(s.Stack, nil)
	tpl := *tmpl.ToJSON()
	notes := assertions.Annotations_FromStack(s.Stack)
	logical := func(c awscdk.CfnElement) string { return *s.GetLogicalId(c) }
	busID := logical(ma.Bus.Node().DefaultChild().(awscdk.CfnElement))
	of := func(typ string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for id, r := range tpl["Resources"].(map[string]any) {
			if r := r.(map[string]any); r["Type"] == typ {
				p, _ := r["Properties"].(map[string]any)
				out[id] = p
			}
		}
		return out
	}

	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, m := range append(*notes.FindError(jsii.String("*"), nag), *notes.FindWarning(jsii.String("*"), nag)...) {
			b, _ := json.Marshal(m)
			t.Errorf("cdk-nag: %s", b)
		}
	})
	t.Run("no open principal", func(t *testing.T) {
		if open := OpenPrincipals(tpl); len(open) > 0 {
			t.Errorf("Allow statements with a \"*\" principal not narrowed to the organization: %v", open)
		}
	})
	t.Run("member bus policy", func(t *testing.T) {
		var got []string
		for _, p := range of("AWS::Events::EventBusPolicy") {
			if fmt.Sprint(p["EventBusName"]) != fmt.Sprint(ref(busID)) {
				continue
			}
			st := p["Statement"].(map[string]any)
			got = append(got, fmt.Sprint(st["Principal"], " ", st["Condition"]))
		}
		want := map[string]bool{
			fmt.Sprint("*", " ", map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-abcdef1234"}}): true,
		}
		orgSeen, acctSeen := false, false
		for _, g := range got {
			switch {
			case want[g]:
				orgSeen = true
			case strings.Contains(g, ":iam::222222222222:root") && strings.HasSuffix(g, " <nil>"):
				acctSeen = true
			default:
				t.Errorf("member bus admits %s; want only the organization and account 222222222222", g)
			}
		}
		if !orgSeen || !acctSeen {
			t.Errorf("member bus policy statements %v; want the organization and account 222222222222", got)
		}
	})
	t.Run("member alarms go to remediate", func(t *testing.T) {
		rule := of("AWS::Events::Rule")[logical(ma.Rules["AlarmStateChange"].Node().DefaultChild().(awscdk.CfnElement))]
		targets := fmt.Sprint(rule["Targets"])
		remediateID := logical(s.Remediate.Function.Node().DefaultChild().(awscdk.CfnElement))
		if !strings.Contains(targets, remediateID) || fmt.Sprint(rule["EventBusName"]) != fmt.Sprint(ref(busID)) {
			t.Errorf("member alarm rule on %v targets %s; want remediate (%s) on the member bus", rule["EventBusName"], targets, remediateID)
		}
	})
	t.Run("assume only the member roles", func(t *testing.T) {
		for fn, role := range map[*Function]string{s.Verify: MemberVerifyRole, s.Remediate: MemberRemediateRole} {
			roleID := logical(fn.ExecutionRole.Node().DefaultChild().(awscdk.CfnElement))
			var found []string
			for _, p := range of("AWS::IAM::Policy") {
				if !strings.Contains(fmt.Sprint(p["Roles"]), roleID) {
					continue
				}
				for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					st := st.(map[string]any)
					if fmt.Sprint(st["Action"]) != "sts:AssumeRole" {
						continue
					}
					res := fmt.Sprint(st["Resource"])
					if !strings.Contains(res, ":role/"+role) {
						t.Errorf("%s may sts:AssumeRole on %s; want only %s roles", fn.Name, res, role)
					}
					if strings.Contains(res, ":iam::*:") && !strings.Contains(fmt.Sprint(st["Condition"]), "aws:ResourceOrgID:o-abcdef1234") {
						t.Errorf("%s may assume %s in any account without aws:ResourceOrgID", fn.Name, role)
					}
					found = append(found, res)
				}
			}
			if len(found) != 2 {
				t.Errorf("%s sts:AssumeRole statements = %v; want one for the listed account, one for the organization", fn.Name, found)
			}
		}
	})
	t.Run("remediate knows its account", func(t *testing.T) {
		fn := of("AWS::Lambda::Function")[logical(s.Remediate.Function.Node().DefaultChild().(awscdk.CfnElement))]
		env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		if fmt.Sprint(env[config.EnvAccountID]) != fmt.Sprint(ref("AWS::AccountId")) {
			t.Errorf("remediate %s = %v; want the stack's account", config.EnvAccountID, env[config.EnvAccountID])
		}
	})
	t.Run("service-managed StackSet", func(t *testing.T) {
		sets := of("AWS::CloudFormation::StackSet")
		if len(sets) != 1 {
			t.Fatalf("StackSets = %d; want 1", len(sets))
		}
		for _, p := range sets {
			for k, want := range map[string]string{
				"PermissionModel": "SERVICE_MANAGED",
				"CallAs":          "DELEGATED_ADMIN",
				"AutoDeployment":  fmt.Sprint(map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false}),
			} {
				if fmt.Sprint(p[k]) != want {
					t.Errorf("StackSet %s = %v; want %s", k, p[k], want)
				}
			}
			params := fmt.Sprint(p["Parameters"])
			for _, id := range []string{ParamVerifyRoleArn, ParamRemediateRoleArn, ParamCentralBusArn, ParamRoleRegion, ParamVerifyExternalID, busID, "ou-ab12-cdef3456"} {
				if !strings.Contains(params+fmt.Sprint(p["StackInstancesGroup"]), id) {
					t.Errorf("StackSet parameters/instances %s %v lack %s", params, p["StackInstancesGroup"], id)
				}
			}
		}
	})
}
