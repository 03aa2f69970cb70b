package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
)

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	env := map[string]string{config.EnvSafetyMargin: "15s", config.EnvEventBus: "ops"}
	h, err := newHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newHandler error: %v", err)
	}
	if h.SafetyMargin.String() != "15s" || h.Events.Bus != "ops" || h.Build == nil || h.Loader.S3 == nil || h.Loader.SSM == nil {
		t.Errorf("handler = margin %v, bus %q, build set %t; want 15s, ops, true", h.SafetyMargin, h.Events.Bus, h.Build != nil)
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	env := map[string]string{config.EnvSafetyMargin: "soon", config.EnvCloudWatchProtocol: "xml"}
	_, err := newHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("newHandler(bad config) error = nil; want both problems")
	}
	for _, want := range []string{config.EnvSafetyMargin, config.EnvCloudWatchProtocol} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
