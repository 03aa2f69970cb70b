package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// topics names an SNS topic for every alert kind.
func topics() map[notify.Kind]string {
	m := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		m[k] = "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
	}
	return m
}

// The policy make demo runs with is valid.
func TestDemoPolicy(t *testing.T) {
	if _, err := remediate.LoadPolicy(context.Background(), "file:testdata/demo-policy.yaml", nil, ".", nil); err != nil {
		t.Error(err)
	}
}

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{
		config.EnvStateTable:      "postdeploy-state",
		"LAMBDA_TASK_ROOT":        t.TempDir(), // no policy.yaml there: the embedded one
		config.EnvMetricNamespace: "Postdeploy",
	}
	for k, v := range topics() {
		env[config.TopicEnv(k)] = v
	}
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)
	h, err := newHandler(context.Background(), getenv, log)
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	if h.Engine.Region != "us-east-1" || len(h.Engine.Policy.Rules) == 0 {
		t.Errorf("newHandler: region %q, %d rules; want us-east-1 and the shipped policy", h.Engine.Region, len(h.Engine.Policy.Rules))
	}

	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("optInTag: {key: k}\nrules:\n  - name: r\n    action: ec2.rebot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env[config.EnvRemediationPolicy] = "file:" + bad
	_, err = newHandler(context.Background(), getenv, log)
	var perrs remediate.Errors
	if !errors.As(err, &perrs) || !strings.Contains(err.Error(), `rules[0].action: unknown action "ec2.rebot"`) || !strings.Contains(err.Error(), "rules[0].match") {
		t.Errorf("newHandler with a bad policy = %v; want every problem with its path", err)
	}

	delete(env, config.EnvStateTable)
	if _, err := newHandler(context.Background(), getenv, log); err == nil || !strings.Contains(err.Error(), config.EnvStateTable) {
		t.Errorf("newHandler without a state table = %v; want an error naming %s", err, config.EnvStateTable)
	}
}
