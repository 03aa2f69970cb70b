package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

func respondEnv(extra map[string]string) Getenv {
	env := map[string]string{EnvStateTable: "postdeploy-state"}
	for _, k := range notify.Kinds {
		env[TopicEnv(k)] = "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestLoadRespondDefaults(t *testing.T) {
	c, err := LoadRespond(respondEnv(nil))
	if err != nil {
		t.Fatalf("LoadRespond(minimal env) error: %v", err)
	}
	if got := c.Topics[notify.HighCPU]; got != "arn:aws:sns:us-east-1:123456789012:postdeploy-high-cpu" {
		t.Errorf("Topics[high-cpu] = %q; want the POSTDEPLOY_TOPIC_HIGH_CPU value", got)
	}
	want := Respond{
		Common: Common{MetricNamespace: DefaultMetricNamespace}, Topics: c.Topics, StateTable: "postdeploy-state",
		DedupeWindow: 24 * time.Hour, Weights: triage.DefaultWeights, SLAs: triage.DefaultSLAs, CriticalityTag: "criticality",
		MinPriority: triage.P4, NotifyFormat: notify.FormatText, RollbackPolicy: RollbackNotify,
		Vuln: Vuln{Enabled: true, Concurrency: DefaultTriageConcurrency, PublishBatch: true, Tickets: TicketsOff, TicketMin: triage.P2, DigestThreshold: DefaultDigestThreshold},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("LoadRespond defaults mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadRespondRemediation(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantOn     bool
		wantSource string
	}{
		{"off without a policy", nil, false, ""},
		{"on when a policy is configured", map[string]string{EnvRemediationPolicy: "ssm:/postdeploy/remediation-policy"}, true, "ssm:/postdeploy/remediation-policy"},
		{"on by request reads the shipped file", map[string]string{EnvRemediateAlarms: "true"}, true, DefaultRemediationPolicy},
		{"off by request despite a policy", map[string]string{EnvRemediateAlarms: "false", EnvRemediationPolicy: "file:policy.yaml"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadRespond(respondEnv(tt.env))
			if err != nil || c.RemediateAlarms != tt.wantOn || c.PolicySource != tt.wantSource {
				t.Errorf("LoadRespond = remediate %v from %q, %v; want %v from %q", c.RemediateAlarms, c.PolicySource, err, tt.wantOn, tt.wantSource)
			}
		})
	}
}

func TestLoadRespondSettings(t *testing.T) {
	c, err := LoadRespond(respondEnv(map[string]string{
		EnvDedupeWindow: "6h", EnvTriageWeights: "severity=1,likelihood=1,impact=1,compliance=1",
		EnvAssetCriticality: "prod-api=critical, tools=low", EnvNotifyMinPriority: "P2", EnvNotifyFormat: "chatbot",
		EnvRunbookBaseURL: "https://wiki.example.com/runbooks", EnvRollbackPolicy: "rollback-stage", EnvRemediateAlarms: "false",
		EnvVerifyFunction: "postdeploy-verify",
	}))
	if err != nil {
		t.Fatalf("LoadRespond error: %v", err)
	}
	if c.DedupeWindow != 6*time.Hour || c.MinPriority != triage.P2 || c.NotifyFormat != notify.FormatChatbot ||
		c.RollbackPolicy != RollbackStage || c.VerifyFunction != "postdeploy-verify" || c.RemediateAlarms || c.Weights != (triage.Weights{Severity: 1, Likelihood: 1, Impact: 1, Compliance: 1}) {
		t.Errorf("LoadRespond = %+v; want every setting read", c)
	}
	if diff := cmp.Diff(map[string]triage.Criticality{"prod-api": triage.CriticalityCritical, "tools": triage.CriticalityLow}, c.Assets); diff != "" {
		t.Errorf("Assets mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadRespondReportsEveryProblem(t *testing.T) {
	_, err := LoadRespond(func(k string) string {
		return map[string]string{
			TopicEnv(notify.Security): "security-topic", EnvDedupeWindow: "soon", EnvTriageWeights: "risk=1",
			EnvAssetCriticality: "prod-api", EnvNotifyMinPriority: "P9", EnvNotifyFormat: "slack",
			EnvRunbookBaseURL: "wiki", EnvRollbackPolicy: "always", EnvRemediationPolicy: "s3://bucket/policy.yaml", EnvTriageSLAs: "P1=now",
		}[k]
	})
	if err == nil {
		t.Fatal("LoadRespond(bad env) = nil error; want every problem")
	}
	for _, name := range []string{EnvStateTable, TopicEnv(notify.HighCPU), TopicEnv(notify.Security), EnvDedupeWindow, EnvTriageWeights,
		EnvAssetCriticality, EnvNotifyMinPriority, EnvNotifyFormat, EnvRunbookBaseURL, EnvRollbackPolicy, EnvRemediationPolicy, EnvTriageSLAs} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("LoadRespond error does not name %s:\n%v", name, err)
		}
	}
}

// TestLoadRespondVerifyFunction: a rollback policy that acts needs the
// verify function's name, which respond compares with the FunctionName of
// the failed action CodePipeline reports before it rolls back.
func TestLoadRespondVerifyFunction(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"notify needs none", nil, "", false},
		{"rollback-stage without it", map[string]string{EnvRollbackPolicy: RollbackStage}, "", true},
		{"stop-deployment without it", map[string]string{EnvRollbackPolicy: RollbackStopDeployment}, "", true},
		{"rollback-stage with a name", map[string]string{EnvRollbackPolicy: RollbackStage, EnvVerifyFunction: "postdeploy-verify"}, "postdeploy-verify", false},
		{"stop-deployment with an ARN", map[string]string{EnvRollbackPolicy: RollbackStopDeployment, EnvVerifyFunction: "arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify"},
			"arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify", false},
		{"a name with a space", map[string]string{EnvRollbackPolicy: RollbackStage, EnvVerifyFunction: "postdeploy verify"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadRespond(respondEnv(tt.env))
			if (err != nil) != tt.wantErr || c.VerifyFunction != tt.want {
				t.Fatalf("LoadRespond(%v) = VerifyFunction %q, %v; want %q, error %v", tt.env, c.VerifyFunction, err, tt.want, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), EnvVerifyFunction) {
				t.Errorf("LoadRespond(%v) error = %v; want one naming %s", tt.env, err, EnvVerifyFunction)
			}
		})
	}
}
