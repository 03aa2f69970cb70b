package runbook

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/infra/stack"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// StackName is the stack's name as the CDK app (infra/main.go) names it.
const StackName = "Postdeploy"

// ShippedPolicy is the remediation policy shipped with remediate,
// relative to the module root.
const ShippedPolicy = "functions/remediate/policy.yaml"

// Output is where `make runbook` writes the document, relative to the
// module root.
const Output = "infra/monitoring/MONITORING.md"

// ExampleApplication is the application the document's alarm set is
// shown for when cdk.json's context sets none: the stack then makes no
// alarm set, but every team that sets "application" gets these alarms
// under its own names.
var ExampleApplication = monitoring.Target{
	Name:             "app",
	AutoScalingGroup: "app-asg",
	LoadBalancer:     "app/app-alb/0123456789abcdef",
	Disk:             map[string]string{"InstanceId": "i-0123456789abcdef0", "path": "/", "device": "nvme0n1p1", "fstype": "xfs"},
	SignIns:          &monitoring.MetricRef{Namespace: "App", MetricName: "SignIns"},
}

// Generate synthesizes the stack as cdk.json configures it (in process,
// one synthesis) and writes the document. root is the module root.
func Generate(root string) ([]byte, error) {
	tmpl, notes, err := Synthesize(root)
	if err != nil {
		return nil, err
	}
	return Document(root, tmpl, notes)
}

// Document writes the document from a synthesized template (Synthesize)
// and the shipped policy under root.
func Document(root string, tmpl []byte, notes []string) ([]byte, error) {
	t, err := ParseTemplate(tmpl, StackName)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, ShippedPolicy)) //nolint:gosec // G304: the module's own file
	if err != nil {
		return nil, fmt.Errorf("read the shipped remediation policy: %w", err)
	}
	pol, err := remediate.ParsePolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ShippedPolicy, err)
	}
	return Render(Input{Template: t, Policy: pol, PolicyPath: ShippedPolicy, Notes: notes}), nil
}

// Synthesize builds the stack with the props cdk.json's context gives
// (placeholder function code: the template's monitoring does not depend
// on it) and returns its template and what the document should say about
// how it was built.
func Synthesize(root string) (tmpl []byte, notes []string, err error) {
	ctx, err := cdkContext(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, nil, err
	}
	props, err := stack.PropsFromContext(func(key string) any { return ctx[key] })
	if err != nil {
		return nil, nil, fmt.Errorf("cdk.json context: %w", err)
	}
	notes = append(notes, fmt.Sprintf("Written from stack %s as cdk.json configures it.", StackName))
	if props.Application == nil {
		app := ExampleApplication
		props.Application = &app
		notes = append(notes, fmt.Sprintf("cdk.json sets no `application`, so the application alarm set and dashboards are shown for an example application named `%s` (Auto Scaling group `%s`, load balancer `%s`, the CloudWatch agent's disk metric, sign-ins `%s/%s`). With your `application` context the alarms are named `<name>-…` and watch your resources.",
			app.Name, app.AutoScalingGroup, app.LoadBalancer, app.SignIns.Namespace, app.SignIns.MetricName))
	}
	dir, err := os.MkdirTemp("", "postdeploy-runbook-")
	if err != nil {
		return nil, nil, fmt.Errorf("create a directory for placeholder assets: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := placeholderAssets(root, dir); err != nil {
		return nil, nil, err
	}
	props.AssetDir = dir

	defer func() {
		if r := recover(); r != nil { // jsii reports synthesis failures as panics
			err = fmt.Errorf("synthesize stack %s: %v", StackName, r)
		}
	}()
	app := awscdk.NewApp(nil)
	s, err := stack.New(app, StackName, props)
	if err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(*assertions.Template_FromStack(s.Stack, nil).ToJSON())
	if err != nil {
		return nil, nil, fmt.Errorf("encode the template: %w", err)
	}
	return out, notes, nil
}

// cdkContext reads cdk.json's "context".
func cdkContext(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: the module's own cdk.json
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Context, nil
}

// placeholderAssets writes <fn>/bootstrap placeholders and the shipped
// policy beside the functions that read it.
func placeholderAssets(root, dir string) error {
	policy, err := os.ReadFile(filepath.Join(root, ShippedPolicy)) //nolint:gosec // G304: the module's own file
	if err != nil {
		return fmt.Errorf("read the shipped remediation policy: %w", err)
	}
	for _, fn := range stack.FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o750); err != nil {
			return fmt.Errorf("placeholder assets: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("placeholder "+fn), 0o600); err != nil {
			return fmt.Errorf("placeholder assets: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "policy.yaml"), policy, 0o600); err != nil { //nolint:gosec // G703: our own temp dir and the stack's function names
			return fmt.Errorf("placeholder assets: %w", err)
		}
	}
	return nil
}
