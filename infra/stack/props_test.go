package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// These tests are pure Go: they start no jsii process.

func TestPropsFromContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     map[string]any
		want    Props
		wantErr []string
	}{
		{name: "empty", ctx: nil, want: Props{}},
		{
			name: "cdk.json values",
			ctx: map[string]any{
				CtxAssetDir: "build", CtxRemediateConcurrency: float64(3), CtxExamplePipeline: true,
				CtxAlertEmails: map[string]any{"security": []any{"sec@example.com"}},
				CtxApplication: map[string]any{"name": "shop", "loadBalancer": "app/shop/1"},
			},
			want: Props{
				AssetDir: "build", RemediateConcurrency: 3, ExamplePipeline: true,
				AlertEmails: map[notify.Kind][]string{notify.Security: {"sec@example.com"}},
				Application: &monitoring.Target{Name: "shop", LoadBalancer: "app/shop/1"},
			},
		},
		{
			name: "-c strings",
			ctx: map[string]any{
				CtxRemediateConcurrency: "4", CtxExamplePipeline: "true", CtxRemediateDryRun: "1",
				CtxAlertEmails:    `{"escalation": ["oncall@example.com"]}`,
				CtxRollbackPolicy: "rollback-stage", CtxLogRetentionDays: "90", CtxRespondRemediates: "false",
			},
			want: Props{
				RemediateConcurrency: 4, ExamplePipeline: true, RemediateDryRun: true, LogRetentionDays: 90,
				AlertEmails:    map[notify.Kind][]string{notify.Escalation: {"oncall@example.com"}},
				RollbackPolicy: "rollback-stage",
			},
		},
		{
			name: "every problem reported",
			ctx: map[string]any{
				CtxRemediateConcurrency: "many", CtxExamplePipeline: "perhaps", CtxLogRetentionDays: float64(1.5),
				CtxApplication: `{"name": "shop", "loadBalancr": "app/x/y"}`, CtxAssetDir: float64(1),
			},
			wantErr: []string{
				`remediateConcurrency="many"`, `examplePipeline="perhaps"`, "logRetentionDays=1.5",
				`unknown field "loadBalancr"`, "assetDir=1: must be a string",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PropsFromContext(func(k string) any { return tt.ctx[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("PropsFromContext(%v) = %+v, nil; want errors %q", tt.ctx, got, tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("PropsFromContext(%v) error %q; want it to mention %q", tt.ctx, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("PropsFromContext(%v) error %v; want nil", tt.ctx, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("PropsFromContext(%v) (-want +got):\n%s", tt.ctx, d)
			}
		})
	}
}

func TestPropsDefaultsAndValidation(t *testing.T) {
	p, err := Props{}.withDefaults()
	if err != nil {
		t.Fatalf("Props{}.withDefaults() error %v; want nil", err)
	}
	want := Props{
		AssetDir: DefaultAssetDir, SpecParameterPrefix: DefaultSpecParameterPrefix,
		MetricNamespace: "Postdeploy", LogRetentionDays: DefaultLogRetentionDays,
		RemediationPolicy: "file:policy.yaml", RollbackPolicy: "notify",
		OptInTag: DefaultOptInTag, Runbooks: DefaultRunbooks,
	}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("Props{}.withDefaults() (-want +got):\n%s", d)
	}

	bad := Props{
		SpecParameterPrefix: "postdeploy", EventBusName: "arn:aws:events:eu-west-1:1:event-bus/x", RemediateConcurrency: -1,
		LogRetentionDays: 31, AlertEmails: map[notify.Kind][]string{"pager": {"x@example.com"}, notify.Security: {"Bob <bob@example.com>"}},
		RemediationPolicy: "s3:bucket/policy.yaml", RollbackPolicy: "undo",
		Application: &monitoring.Target{Name: "shop"},
	}
	_, err = bad.withDefaults()
	if err == nil {
		t.Fatalf("withDefaults(%+v) error nil; want every problem", bad)
	}
	for _, w := range []string{
		`specParameterPrefix="postdeploy"`, "eventBus=", "remediateConcurrency=-1", "logRetentionDays=31",
		`alertEmails["pager"]: unknown alert kind`, `"Bob <bob@example.com>" is not a plain email address`,
		`remediationPolicy="s3:bucket/policy.yaml"`, `rollbackPolicy="undo"`, "application: set at least one",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("withDefaults error %q; want it to mention %q", err, w)
		}
	}
}

func TestNewReportsMissingCode(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, Verify), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, Verify, "bootstrap"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The check runs before any construct is made, so no scope is needed.
	_, err := New(nil, "Postdeploy", Props{AssetDir: dir, RespondRemediates: true})
	if err == nil {
		t.Fatal("New with only verify's bootstrap: error nil; want the missing files")
	}
	// remediate embeds its shipped policy.yaml; respond does not.
	for _, w := range []string{filepath.Join(dir, Remediate, "bootstrap"), filepath.Join(dir, Respond, "bootstrap"),
		filepath.Join(dir, Respond, "policy.yaml"), "make build"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("New error %q; want it to mention %q", err, w)
		}
	}
	for _, exists := range []string{filepath.Join(dir, Verify, "bootstrap"), filepath.Join(dir, Remediate, "policy.yaml")} {
		if strings.Contains(err.Error(), exists) {
			t.Errorf("New error %q names %s, which it must not require", err, exists)
		}
	}
}

func TestTopicID(t *testing.T) {
	for k, want := range map[notify.Kind]string{notify.HighCPU: "HighCpuTopic", notify.Escalation: "EscalationTopic"} {
		if got := topicID(k); got != want {
			t.Errorf("topicID(%q) = %q; want %q", k, got, want)
		}
	}
}

// The policy remediate embeds agrees with the stack's defaults: its
// opt-in tag is the one IAM requires, each runbook it starts is one IAM
// allows, and each passes the stack's automation role.
func TestShippedPolicyMatchesStackDefaults(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "functions", "remediate", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := remediate.ParsePolicy(data)
	if err != nil {
		t.Fatalf("ParsePolicy(functions/remediate/policy.yaml): %v", err)
	}
	p, err := Props{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if errs := policyMismatches("policy.yaml", pol, p); len(errs) > 0 {
		t.Errorf("shipped policy and stack defaults disagree: %q", errs)
	}
	runbooks := 0
	for _, r := range pol.Rules {
		if r.Action != "ssm.runbook" {
			continue
		}
		runbooks++
		want := "arn:aws:iam::{{.AccountID}}:role/" + AutomationRolePrefix + "{{.Region}}"
		if got := r.Params["parameters.AutomationAssumeRole"]; got != want {
			t.Errorf("rule %s: parameters.AutomationAssumeRole = %q; want %q (the stack's automation role)", r.Name, got, want)
		}
	}
	if runbooks == 0 {
		t.Error("the shipped policy has no ssm.runbook rule; the check proves nothing")
	}
	// The check itself finds a disagreement.
	other := p
	other.OptInTag = remediate.Tag{Key: "team", Value: "ops"}
	other.Runbooks = []string{"AWS-StopEC2Instance"}
	if errs := policyMismatches("policy.yaml", pol, other); len(errs) != 1+runbooks {
		t.Errorf("policyMismatches(other tag and runbooks) = %q; want the tag and every runbook", errs)
	}
}

func TestNewRefusesAFilePolicyThatDisagrees(t *testing.T) {
	dir := t.TempDir()
	for _, fn := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	policy := "optInTag: {key: team, value: ops}\nrules:\n  - name: r\n    match: {alarmName: a}\n    action: ssm.runbook\n" +
		"    params: {document: My-Runbook, instanceId: \"{{.Dimensions.InstanceId}}\"}\n"
	if err := os.WriteFile(filepath.Join(dir, Remediate, "custom.yaml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(nil, "Postdeploy", Props{AssetDir: dir, RemediationPolicy: "file:custom.yaml"})
	for _, w := range []string{"optInTag team=ops", `runbook "My-Runbook"`, CtxOptInTag, CtxRunbooks} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("New(policy with another tag and runbook) error = %v; want it to mention %q", err, w)
		}
	}
}
