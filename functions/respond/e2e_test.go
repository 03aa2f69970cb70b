package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// TestBootstrapEndToEnd runs the real bootstrap under the Lambda Runtime
// API harness against the AWS stand-in (SNS) and dynalite (the state
// table): the security scenario of `make demo`. A critical, exploited
// finding on a critical image reaches the Security topic once, however
// often it is delivered; unknown and malformed events are dropped
// without failing the invocation.
func TestBootstrapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := dynalite.StartT(t)
	if err := state.CreateTable(ctx, db.Client(), "postdeploy-state"); err != nil {
		t.Fatalf("create state table: %v", err)
	}
	si, err := standin.New(standin.Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	if err := si.Start(); err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: filepath.Join(wd, "..", ".."), Out: t.TempDir(), Packages: []string{"./functions/respond"}})
	if err != nil {
		t.Fatalf("build the bootstrap: %v", err)
	}
	env := append(si.Env(), "AWS_ENDPOINT_URL_DYNAMODB="+db.Endpoint, config.EnvStateTable+"=postdeploy-state")
	for _, k := range notify.Kinds {
		env = append(env, config.TopicEnv(k)+"="+topicARN(k))
	}
	fn, err := lambdarun.Start(lambdarun.Config{Name: "respond", Bootstrap: bins["respond"], Timeout: 10 * time.Second, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()

	for _, file := range []string{"respond-inspector-finding.json", "respond-inspector-finding.json", "respond-unknown.json", "respond-malformed.json"} {
		res, err := fn.Invoke(ctx, readEvent(t, file))
		if err != nil {
			t.Fatalf("Invoke(%s): %v", file, err)
		}
		if res.Err != nil {
			t.Fatalf("Invoke(%s) function error: %v", file, res.Err)
		}
	}
	// Through the real runtime, a payload that is not JSON reaches
	// respond's malformed path (main starts the *Handler, a
	// lambda.Handler, which gets the raw bytes), and one that is not an
	// EventBridge event is logged by its shape and counted.
	for _, tt := range []struct{ payload, wantLog string }{
		{`{"source":"aws.guardduty","detail-type":`, `"Source":"invalid-json"`},
		{`{"Records":[{"eventSource":"aws:sqs","body":"hello"}]}`, `"recordsEventSource":"aws:sqs"`},
	} {
		res, err := fn.Invoke(ctx, []byte(tt.payload))
		if err != nil {
			t.Fatalf("Invoke(%s): %v", tt.payload, err)
		}
		if res.Err != nil {
			t.Errorf("Invoke(%s) function error: %v; want it dropped", tt.payload, res.Err)
		}
		if !strings.Contains(string(res.Logs), tt.wantLog) {
			t.Errorf("Invoke(%s) logs lack %s:\n%s", tt.payload, tt.wantLog, res.Logs)
		}
	}
	pub := si.Published()
	if len(pub) != 1 {
		t.Fatalf("published %d messages; want 1 (the finding, once)", len(pub))
	}
	if pub[0].TopicARN != topicARN(notify.Security) || pub[0].Subject != "[P1 CRITICAL] CVE-2022-3602 - openssl on prod-api@sha256:7f5b2640fe6f" {
		t.Errorf("published %q to %s; want the P1 subject on the security topic", pub[0].Subject, pub[0].TopicARN)
	}
	if got := pub[0].Attributes["priority"]; got != "P1" {
		t.Errorf("priority attribute = %q; want P1", got)
	}
}
