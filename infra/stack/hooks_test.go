package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// verify answers CodeDeploy lifecycle hooks with exactly what they need:
// the CodeDeploy calls on deployment groups of this account and region
// (never "*"), one claim write on "hook#" items, and the hand-over to
// itself; a CodeDeploy service role can be given the right to invoke it.
func TestHookPermissionsAreScoped(t *testing.T) {
	synth(t)
	role := shared.ids[Verify+"/role"]
	bySid := map[string]map[string]any{}
	for _, st := range rawStatements(t, role) {
		if sid, _ := st["Sid"].(string); sid != "" {
			bySid[sid] = st
		}
	}
	hooks, ok := bySid["AnswerCodeDeployHooks"]
	if !ok {
		t.Fatal("verify's role has no AnswerCodeDeployHooks statement")
	}
	if d := cmp.Diff(sorted(HookActions), sorted(asStrings(hooks["Action"]))); d != "" {
		t.Errorf("hook actions (-want +got):\n%s", d)
	}
	wantGroups := map[string]any{"Fn::Join": []any{"", []any{
		"arn:", ref("AWS::Partition"), ":codedeploy:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":deploymentgroup:*",
	}}}
	if d := cmp.Diff(wantGroups, hooks["Resource"]); d != "" {
		t.Errorf("hook actions' resource (-want +got):\n%s", d)
	}
	// Elastic Load Balancing's Describe actions take no resource type
	// (Service Authorization Reference, Elastic Load Balancing V2): "*",
	// and only the two reads.
	lst, ok := bySid["ReadHookListeners"]
	if !ok {
		t.Fatal("verify's role has no ReadHookListeners statement (#{TEST_LISTENER_URL})")
	}
	if d := cmp.Diff(sorted(ListenerReads), sorted(asStrings(lst["Action"]))); d != "" {
		t.Errorf("listener reads (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"*"}, asStrings(lst["Resource"])); d != "" {
		t.Errorf("listener reads' resource (-want +got):\n%s", d)
	}
	claim, ok := bySid["ClaimHookSteps"]
	if !ok {
		t.Fatal("verify's role has no ClaimHookSteps statement")
	}
	if d := cmp.Diff([]string{"dynamodb:PutItem"}, asStrings(claim["Action"])); d != "" {
		t.Errorf("claim actions (-want +got):\n%s", d)
	}
	if d := cmp.Diff(getArn(shared.ids["table"]), claim["Resource"]); d != "" {
		t.Errorf("claim resource (-want +got):\n%s", d)
	}
	wantCond := map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{HookClaimKeys}}}
	if d := cmp.Diff(wantCond, claim["Condition"]); d != "" {
		t.Errorf("claim condition (-want +got):\n%s", d)
	}
	self, ok := bySid["HandOverToItself"]
	if !ok {
		t.Fatal("verify's role may not invoke itself (HandOverToItself)")
	}
	if d := cmp.Diff(getArn(shared.ids[Verify]), self["Resource"]); d != "" || asStrings(self["Action"])[0] != "lambda:InvokeFunction" {
		t.Errorf("hand-over statement %v; want lambda:InvokeFunction on verify's own ARN only (%s)", self, d)
	}
	// No other function's role gets any of it.
	for _, fn := range []string{Remediate, Respond} {
		for _, st := range rawStatements(t, shared.ids[fn+"/role"]) {
			for _, a := range asStrings(st["Action"]) {
				if a == "codedeploy:PutLifecycleEventHookExecutionStatus" || a == "codedeploy:GetDeploymentTarget" {
					t.Errorf("%s may %s; only verify answers hooks", fn, a)
				}
			}
		}
	}
}

func TestHookInvokerPolicyAndVerifyEnvironment(t *testing.T) {
	_, tpl := synth(t)
	var invoker map[string]any
	for _, p := range resources(t, "AWS::IAM::ManagedPolicy") {
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if st.(map[string]any)["Sid"] == "InvokeVerifyAsHook" {
				invoker = st.(map[string]any)
			}
		}
	}
	if invoker == nil {
		t.Fatal("no managed policy with InvokeVerifyAsHook")
	}
	if d := cmp.Diff(getArn(shared.ids[Verify]), invoker["Resource"]); d != "" || invoker["Action"] != "lambda:InvokeFunction" {
		t.Errorf("invoker statement %v; want lambda:InvokeFunction on verify only (%s)", invoker, d)
	}
	outs, _ := tpl["Outputs"].(map[string]any)
	for _, name := range []string{"HookInvokerPolicyArn", "HookSpecParameterPrefix"} {
		if _, ok := outs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	fn := resources(t, "AWS::Lambda::Function")[shared.ids[Verify]]
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if d := cmp.Diff(ref(shared.ids["table"]), vars[config.EnvStateTable]); d != "" {
		t.Errorf("verify %s (-want +got):\n%s", config.EnvStateTable, d)
	}
	if got := vars[config.EnvHookSpecPrefix]; got != DefaultSpecParameterPrefix+HookSpecPath {
		t.Errorf("verify %s = %v; want %q, inside what verify may read", config.EnvHookSpecPrefix, got, DefaultSpecParameterPrefix+HookSpecPath)
	}
}
