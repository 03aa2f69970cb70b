package member

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/stack"
)

func TestMain(m *testing.M) {
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		_ = os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synthMember builds the member stack with cdk-nag and returns its
// template and annotations; assertion failures arrive as panics.
func synthMember(t *testing.T) (map[string]any, assertions.Annotations) {
	t.Helper()
	app := awscdk.NewApp(nil)
	s, err := New(app, "PostdeployMember", Props{})
	if err != nil {
		t.Fatal(err)
	}
	stack.Check(app)
	tmpl := assertions.Template_FromStack(s.Stack, nil)
	return *tmpl.ToJSON(), assertions.Annotations_FromStack(s.Stack)
}

func byType(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// TestMemberStack synthesizes the member stack once and checks, each in
// its own subtest: cdk-nag finds nothing; the two roles trust exactly the
// central function role named by their parameter (no "*" principal
// anywhere), exist only in the role region, and the remediate role may
// mutate only opted-in resources; every route is forwarded to the central
// bus through a role allowed events:PutEvents on that bus only.
func TestMemberStack(t *testing.T) {
	tpl, notes := synthMember(t)
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, m := range append(*notes.FindError(jsii.String("*"), nag), *notes.FindWarning(jsii.String("*"), nag)...) {
			b, _ := json.Marshal(m)
			t.Errorf("cdk-nag: %s", b)
		}
	})
	t.Run("no open principal", func(t *testing.T) {
		if open := stack.OpenPrincipals(tpl); len(open) > 0 {
			t.Errorf("Allow statements with a \"*\" principal: %v", open)
		}
	})
	roles := byType(tpl, "AWS::IAM::Role")
	trusted := map[string]string{stack.MemberVerifyRole: stack.ParamVerifyRoleArn, stack.MemberRemediateRole: stack.ParamRemediateRoleArn}
	named := map[string]map[string]any{}
	for _, r := range roles {
		p := r["Properties"].(map[string]any)
		if n, ok := p["RoleName"].(string); ok {
			named[n] = r
		}
	}
	for name, param := range trusted {
		t.Run("trust of "+name, func(t *testing.T) {
			r, ok := named[name]
			if !ok {
				t.Fatalf("no role named %s (roles: %v)", name, named)
			}
			if r["Condition"] != "InRoleRegion" {
				t.Errorf("role %s Condition = %v; want InRoleRegion (IAM is global: one stack instance creates it)", name, r["Condition"])
			}
			sts := r["Properties"].(map[string]any)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
			if len(sts) != 1 {
				t.Fatalf("role %s trust = %v; want one statement", name, sts)
			}
			// The verify role's one statement is chosen by whether an
			// external id is set: both forms must trust the same principal.
			forms := []any{sts[0]}
			if iff, ok := sts[0].(map[string]any)["Fn::If"].([]any); ok {
				forms = iff[1:]
				if name != stack.MemberVerifyRole || !strings.Contains(fmt.Sprint(iff[1]), "sts:ExternalId:map[Ref:"+stack.ParamVerifyExternalID+"]") {
					t.Errorf("role %s trust Fn::If = %v; want only the verify role's, requiring sts:ExternalId = %s when set", name, iff, stack.ParamVerifyExternalID)
				}
			} else if name == stack.MemberVerifyRole {
				t.Errorf("verify role trust = %v; want it to require the external id when %s is set", sts[0], stack.ParamVerifyExternalID)
			}
			want := fmt.Sprint(map[string]any{"AWS": map[string]any{"Ref": param}})
			for _, f := range forms {
				if got := fmt.Sprint(f.(map[string]any)["Principal"]); got != want {
					t.Errorf("role %s trusts %s; want %s only", name, got, want)
				}
			}
		})
	}
	t.Run("mutations need the opt-in tag", func(t *testing.T) {
		r := named[stack.MemberRemediateRole]
		pols := r["Properties"].(map[string]any)["Policies"].([]any)
		mutating := map[string]bool{"ecs:UpdateService": true, "ec2:RebootInstances": true, "autoscaling:SetDesiredCapacity": true, "lambda:UpdateAlias": true}
		seen := 0
		for _, p := range pols {
			for _, st := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				acts := fmt.Sprint(st["Action"])
				for a := range mutating {
					if !strings.Contains(acts, a) {
						continue
					}
					seen++
					cond := fmt.Sprint(st["Condition"])
					if !strings.Contains(cond, "aws:ResourceTag/"+stack.DefaultOptInTag.Key) {
						t.Errorf("statement %v allows %s without the opt-in tag condition", st["Sid"], a)
					}
				}
				if strings.Contains(acts, "ssm:StartAutomationExecution") {
					t.Errorf("statement %v allows ssm:StartAutomationExecution; the member role has no runbooks", st["Sid"])
				}
			}
		}
		if seen != len(mutating) {
			t.Errorf("found %d of the %d mutating actions in the member remediate role", seen, len(mutating))
		}
	})
	t.Run("forwarding to the central bus", func(t *testing.T) {
		rules := byType(tpl, "AWS::Events::Rule")
		want := 0
		for _, r := range stack.Routes {
			if !r.OnSuiteBus {
				want++
			}
		}
		if len(rules) != want {
			t.Errorf("forwarding rules = %d; want one per route (%d)", len(rules), want)
		}
		for id, r := range rules {
			tg := r["Properties"].(map[string]any)["Targets"].([]any)
			if len(tg) != 1 || fmt.Sprint(tg[0].(map[string]any)["Arn"]) != fmt.Sprint(map[string]any{"Ref": stack.ParamCentralBusArn}) || tg[0].(map[string]any)["RoleArn"] == nil {
				t.Errorf("rule %s targets %v; want the central bus parameter, through a role", id, tg)
			}
		}
	})
}

// TestTemplateForTheStackSet checks the StackSet's template has no CDK
// bootstrap parameter (member accounts are not bootstrapped), takes the
// parameters the central stack fills in, and fits TemplateBody's limit.
func TestTemplateForTheStackSet(t *testing.T) {
	body, err := Template(Props{})
	if err != nil {
		t.Fatalf("Template error: %v", err)
	}
	var tpl map[string]any
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		t.Fatalf("Template is not JSON: %v", err)
	}
	params, _ := tpl["Parameters"].(map[string]any)
	if _, ok := params["BootstrapVersion"]; ok {
		t.Errorf("Template has the CDK BootstrapVersion parameter; member accounts are not bootstrapped")
	}
	for _, p := range []string{stack.ParamVerifyRoleArn, stack.ParamRemediateRoleArn, stack.ParamCentralBusArn, stack.ParamRoleRegion} {
		if _, ok := params[p]; !ok {
			t.Errorf("Template parameters %v lack %s", params, p)
		}
	}
	if len(body) > MaxTemplateBody {
		t.Errorf("Template is %d bytes; TemplateBody takes at most %d", len(body), MaxTemplateBody)
	}
}
