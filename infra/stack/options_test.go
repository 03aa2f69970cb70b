package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// A second stack, synthesized once, with the options the shared one
// leaves at their defaults or sets otherwise: stop-deployment instead of
// rollback-stage, reserved concurrency for remediate, a named verdict
// bus, no example pipeline, respond not remediating.
var minimal struct {
	once  sync.Once
	err   error
	stack *Stack
	json  map[string]any
	notes assertions.Annotations
}

func synthMinimal(t *testing.T) (*Stack, map[string]any) {
	t.Helper()
	synth(t) // writes the placeholder binaries into shared.dir
	minimal.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				minimal.err = fmt.Errorf("synthesize: %v", r)
			}
		}()
		app := awscdk.NewApp(nil)
		s, err := New(app, "PostdeployMinimal", Props{
			AssetDir:             shared.dir,
			RollbackPolicy:       config.RollbackStopDeployment,
			RemediateConcurrency: 3,
			EventBusName:         "shop-verdicts",
		})
		if err != nil {
			minimal.err = err
			return
		}
		Check(app)
		tmpl := assertions.Template_FromStack(s.Stack, nil)
		minimal.stack, minimal.json = s, *tmpl.ToJSON()
		minimal.notes = assertions.Annotations_FromStack(s.Stack)
	})
	if minimal.err != nil {
		t.Fatal(minimal.err)
	}
	return minimal.stack, minimal.json
}

func TestMinimalStackOptions(t *testing.T) {
	s, tpl := synthMinimal(t)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range append(*minimal.notes.FindError(jsii.String("*"), nag), *minimal.notes.FindWarning(jsii.String("*"), nag)...) {
		b, _ := json.Marshal(m)
		t.Errorf("cdk-nag finding: %s", b)
	}
	logical := map[string]string{}
	for _, f := range s.functionsList() {
		logical[f.Name] = *s.GetLogicalId(f.Function.Node().DefaultChild().(awscdk.CfnElement))
		logical[f.Name+"/role"] = *s.GetLogicalId(f.ExecutionRole.Node().DefaultChild().(awscdk.CfnElement))
	}
	res := tpl["Resources"].(map[string]any)
	for _, fn := range FunctionNames {
		props := res[logical[fn]].(map[string]any)["Properties"].(map[string]any)
		rc, ok := props["ReservedConcurrentExecutions"]
		switch {
		case fn == Remediate && rc != float64(3):
			t.Errorf("remediate ReservedConcurrentExecutions = %v; want 3 (remediateConcurrency)", rc)
		case fn != Remediate && ok:
			t.Errorf("%s ReservedConcurrentExecutions = %v; want none", fn, rc)
		}
	}
	var stop []any
	for _, r := range res {
		r := r.(map[string]any)
		switch r["Type"] {
		case "AWS::CodePipeline::Pipeline":
			t.Error("a pipeline without examplePipeline")
		case "AWS::Events::EventBus":
			if name := r["Properties"].(map[string]any)["Name"]; name != "shop-verdicts" {
				t.Errorf("event bus Name = %v; want shop-verdicts (eventBus)", name)
			}
		case "AWS::IAM::Policy":
			p := r["Properties"].(map[string]any)
			if fmt.Sprint(p["Roles"]) != fmt.Sprint([]any{ref(logical[Respond+"/role"])}) {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				acts := asStrings(st["Action"])
				if slices.Contains(acts, "codepipeline:RollbackStage") {
					t.Errorf("respond may RollbackStage (%v) under rollbackPolicy=stop-deployment", st["Resource"])
				}
				if slices.Contains(acts, "codedeploy:StopDeployment") {
					stop = append(stop, st)
				}
			}
		}
	}
	want := []any{map[string]any{"Sid": "DeploymentStop", "Effect": "Allow", "Action": "codedeploy:StopDeployment", "Resource": "*"}}
	if fmt.Sprint(want) != fmt.Sprint(stop) {
		t.Errorf("respond's StopDeployment statements = %v; want %v (the authorization reference lists no resource type for it)", stop, want)
	}
}
