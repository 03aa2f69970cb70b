package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

func testEnv(extra map[string]string) config.Getenv {
	env := map[string]string{config.EnvStateTable: "postdeploy-state"}
	for _, k := range notify.Kinds {
		env[config.TopicEnv(k)] = topicARN(k)
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	log := telemetry.NewLogger()

	h, err := newHandler(ctx, testEnv(map[string]string{config.EnvRemediationPolicy: "file:../remediate/policy.yaml"}), log)
	if err != nil {
		t.Fatalf("newHandler(shipped remediation policy) error: %v", err)
	}
	if h.Remediator == nil || h.Claims == nil || h.Pipeline == nil || h.Deploy == nil || h.Alarms == nil {
		t.Errorf("newHandler left a dependency unset: %+v", h)
	}

	h, err = newHandler(ctx, testEnv(map[string]string{config.EnvRemediateAlarms: "false"}), log)
	if err != nil || h.Remediator != nil {
		t.Errorf("newHandler(remediation off) = remediator %v, %v; want none, nil", h.Remediator, err)
	}

	h, err = newHandler(ctx, testEnv(nil), log)
	if err != nil || h.Remediator != nil {
		t.Errorf("newHandler(no policy configured) = remediator %v, %v; want none, nil", h.Remediator, err)
	}

	_, err = newHandler(ctx, testEnv(map[string]string{config.EnvRemediationPolicy: "file:no-such-policy.yaml"}), log)
	if err == nil || !strings.Contains(err.Error(), config.EnvRemediateAlarms) {
		t.Errorf("newHandler(missing policy) error = %v; want one naming %s", err, config.EnvRemediateAlarms)
	}

	_, err = newHandler(ctx, func(string) string { return "" }, log)
	if err == nil || !strings.Contains(err.Error(), config.EnvStateTable) || !strings.Contains(err.Error(), config.TopicEnv(notify.Security)) {
		t.Errorf("newHandler(empty env) error = %v; want every missing variable named", err)
	}
}

func topicARN(k notify.Kind) string {
	return "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
}

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatalf("read sample event: %v", err)
	}
	return b
}
