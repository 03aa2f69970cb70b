package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

func remediateEnv(extra map[string]string) Getenv {
	m := map[string]string{EnvStateTable: "postdeploy-state"}
	for _, k := range notify.Kinds {
		m[TopicEnv(k)] = "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
	}
	for k, v := range extra {
		m[k] = v
	}
	return env(m)
}

func TestLoadRemediate(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(c *Remediate)
	}{
		{"defaults", nil, func(c *Remediate) {}},
		{"ssm policy and dry run", map[string]string{EnvRemediationPolicy: "ssm:/postdeploy/remediation-policy", EnvRemediateDryRun: "true"}, func(c *Remediate) {
			c.PolicySource, c.DryRun = "ssm:/postdeploy/remediation-policy", true
		}},
		{"file policy", map[string]string{EnvRemediationPolicy: "file:/opt/policy.json"}, func(c *Remediate) { c.PolicySource = "file:/opt/policy.json" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadRemediate(remediateEnv(tt.env))
			if err != nil {
				t.Fatalf("LoadRemediate: %v", err)
			}
			want := Remediate{
				Common:       Common{MetricNamespace: DefaultMetricNamespace},
				Topics:       map[notify.Kind]string{},
				StateTable:   "postdeploy-state",
				PolicySource: DefaultRemediationPolicy,
				NotifyFormat: notify.FormatText,
			}
			for _, k := range notify.Kinds {
				want.Topics[k] = "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
			}
			tt.want(&want)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("LoadRemediate mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadRemediateReportsEveryProblem(t *testing.T) {
	_, err := LoadRemediate(env(map[string]string{
		EnvRemediationPolicy: "s3://bucket/policy.yaml",
		EnvRemediateDryRun:   "maybe",
	}))
	if err == nil {
		t.Fatal("LoadRemediate with bad settings = nil; want every problem")
	}
	for _, want := range []string{EnvStateTable + ": required", EnvRemediationPolicy + `="s3://bucket/policy.yaml": must be file:<path> or ssm:<parameter name>`, EnvRemediateDryRun + `="maybe": must be true or false`, TopicEnv(notify.Escalation) + ": required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("LoadRemediate error lacks %q:\n%v", want, err)
		}
	}
}
