package main

// verify's continuation tokens through the real bootstrap: signed with
// the key in the stand-in's Secrets Manager, a forged one refused, a key
// rotation mid-bake survived, a missing key secret reported as the
// configuration problem it is.

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// firstToken runs the first invocation of a 4 s bake in a 3 s function
// and returns the job event and the continuation token it handed over.
func firstToken(t *testing.T, fn *lambdarun.Function, si *standin.Server) (events.CodePipelineJobEvent, string) {
	t.Helper()
	ev, _ := codePipelineJob(healthJob(t, "4s", "1s"))
	run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Reports) == 0 || run.Reports[len(run.Reports)-1].ContinuationToken == "" {
		for _, inv := range run.Invocations {
			t.Logf("invocation %s (%s): %v\n%s", inv.RequestID, inv.Duration, inv.Err, inv.Logs)
		}
		t.Fatalf("first job's reports = %+v; want it to end in a continuation", run.Reports)
	}
	return ev, run.Reports[len(run.Reports)-1].ContinuationToken
}

// resume runs the next job of the action with tok and returns its run.
func resume(t *testing.T, fn *lambdarun.Function, si *standin.Server, ev events.CodePipelineJobEvent, tok string) jobRun {
	t.Helper()
	ev.CodePipelineJob.ID = newJobID()
	ev.CodePipelineJob.Data.ContinuationToken = tok
	run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, true)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

var successCount = regexp.MustCompile(`"s":(\d+)`)

func TestVerifyForgedContinuationTokenIsRefused(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout, localProbes)
	ev, tok := firstToken(t, fn, si)
	if !strings.HasPrefix(tok, "pd2.") {
		t.Fatalf("token %q is not in the signed format", tok)
	}
	// The forgery: rewrite the tally, keep the signature.
	forged := successCount.ReplaceAllString(tok, `"s":1,"f":-1000`)
	run := resume(t, fn, si, ev, forged)
	if run.Outcome() != "Failed (JobFailed)" || run.Terminal() != 1 || !strings.Contains(run.Final.Message, "signature does not match") {
		t.Errorf("forged token: %s (%d terminal); want one JobFailed naming the signature\n%+v", run.Outcome(), run.Terminal(), run.Final)
	}
	if run := resume(t, fn, si, ev, tok); run.Terminal() != 1 || strings.Contains(run.Final.Message, "refused") {
		t.Errorf("genuine token: %s (%d terminal), %+v; want the bake resumed and ended once", run.Outcome(), run.Terminal(), run.Final)
	}
}

// A rotation mid-bake: the next invocation runs in a fresh execution
// environment that reads the new AWSCURRENT and the old key as
// AWSPREVIOUS, so the token signed before the rotation is still good.
func TestVerifyTokenKeyRotationMidBake(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout, localProbes)
	ev, tok := firstToken(t, fn, si)
	si.PutSecret(tokenKeySecret, "rotated-key-0123456789abcdef0123456789abcdef")
	fresh, err := shared.startWithTimeout(context.Background(), "verify", si, verifyTimeout, localProbes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Close() })
	run := resume(t, fresh, si, ev, tok)
	if run.Terminal() != 1 || run.Final == nil || strings.Contains(run.Final.Message, "refused") {
		msg := ""
		if run.Final != nil {
			msg = run.Final.Message
		}
		t.Errorf("after a rotation: %s (%d terminal); want the bake resumed and ended once\n%s", run.Outcome(), run.Terminal(), msg)
	}
}

// verify never runs without its token key: unset, or naming a secret
// that does not exist, the job is failed with a ConfigurationError that
// says what to fix.
func TestVerifyWithoutItsTokenKeyFailsTheJobAsMisconfigured(t *testing.T) {
	requireFunction(t, "verify")
	tests := []struct {
		name, env, want string
	}{
		{"variable unset", config.EnvTokenKeySecret + "=", config.EnvTokenKeySecret + " is not set"},
		{"no such secret", config.EnvTokenKeySecret + "=postdeploy/no-such-secret", "has no AWSCURRENT version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si, fn := startVerify(t, nil, verifyTimeout, localProbes, tt.env)
			ev, _ := codePipelineJob(healthJob(t, "0s", "1s"))
			run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, true)
			if err != nil {
				t.Fatal(err)
			}
			if run.Outcome() != "Failed (ConfigurationError)" || run.Terminal() != 1 || !strings.Contains(run.Final.Message, tt.want) {
				t.Errorf("%s: %s (%d terminal), %+v; want one ConfigurationError containing %q", tt.name, run.Outcome(), run.Terminal(), run.Final, tt.want)
			}
			if inv := run.Invocations[0]; inv.Err == nil || inv.Err.Type != "ConfigError" {
				t.Errorf("%s: invocation error = %v; want errorType ConfigError", tt.name, inv.Err)
			}
		})
	}
}
