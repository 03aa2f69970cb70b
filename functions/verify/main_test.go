package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

func sdkEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsclient.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func lookup(env map[string]string) config.Getenv { return func(k string) string { return env[k] } }

func TestNewVerifier(t *testing.T) {
	sdkEnv(t)
	cfg, err := config.LoadVerify(lookup(map[string]string{config.EnvSafetyMargin: "15s", config.EnvEventBus: "ops", config.EnvTokenKeySecret: "postdeploy/token-key"}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := newVerifier(cfg, lookup(nil), awsConfig(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newVerifier error: %v", err)
	}
	if h.SafetyMargin.String() != "15s" || h.Events.Bus != "ops" || h.Build == nil || h.Loader.S3 == nil || h.Loader.SSM == nil {
		t.Errorf("handler = margin %v, bus %q, build set %t; want 15s, ops, true", h.SafetyMargin, h.Events.Bus, h.Build != nil)
	}
}

// A bad configuration does not stop the function: setup returns the
// handler that fails every job naming the problems (verify.Unconfigured).
func TestSetupWithBadConfigFailsJobsInsteadOfExiting(t *testing.T) {
	sdkEnv(t)
	env := map[string]string{config.EnvSafetyMargin: "soon", config.EnvCloudWatchProtocol: "xml"}
	h, err := setup(context.Background(), lookup(env), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("setup(bad config) error = %v; want nil and the Unconfigured handler", err)
	}
	if _, ok := h.(*verify.Unconfigured); !ok {
		t.Errorf("setup(bad config) handler = %T; want *verify.Unconfigured", h)
	}
}

// When not even a CodePipeline client can be built, setup's error names
// the problem so main can report Lambda's init error with it.
func TestSetupWithBadSDKConfigIsAnInitError(t *testing.T) {
	sdkEnv(t)
	t.Setenv("AWS_RETRY_MODE", "bogus")
	env := map[string]string{config.EnvSafetyMargin: "soon"}
	_, err := setup(context.Background(), lookup(env), slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("setup(AWS_RETRY_MODE=bogus) error = nil; want one naming it")
	}
	for _, want := range []string{"AWS_RETRY_MODE", config.EnvSafetyMargin} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("setup error %q does not name %s", err, want)
		}
	}
}

// At cold start the token key is read from Secrets Manager: a missing
// secret makes the function fail its jobs as misconfigured; a present
// one gives the verifier.
func TestSetupReadsTheTokenKey(t *testing.T) {
	si := standin.StartT(t, standin.Scenario{})
	si.PutSecret("postdeploy/token-key", "a-token-key-of-at-least-32-characters-0123")
	sdkEnv(t)
	for _, kv := range si.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	tests := []struct {
		name   string
		secret string
		want   string // handler type
	}{
		{"secret present", "postdeploy/token-key", "*verify.Verifier"},
		{"secret missing", "postdeploy/missing", "*verify.Unconfigured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := setup(context.Background(), lookup(map[string]string{config.EnvTokenKeySecret: tt.secret}), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("setup error: %v", err)
			}
			if got := fmt.Sprintf("%T", h); got != tt.want {
				t.Errorf("setup(%s) handler = %s; want %s", tt.secret, got, tt.want)
			}
		})
	}
}
