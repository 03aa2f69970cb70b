package main

// verify keeps "never leaves a pipeline hanging" through its real
// bootstrap under the Lambda Runtime API harness: a long interval hands
// over in time, a bad configuration fails the job and tells Lambda, and
// a configuration too broken to reach CodePipeline reaches Lambda's init
// error with its message.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// localProbes lets the checks reach the sample service on loopback, as
// the local harness does.
const localProbes = config.EnvLocalProbes + "=loopback"

// healthJob is a verify job with one http check on the sample service.
func healthJob(t *testing.T, bake, interval string) []byte {
	t.Helper()
	spec := map[string]any{
		"bake": bake, "interval": interval,
		"checks": []map[string]any{{"name": "api-health", "http": map[string]any{"url": "#{SERVICE_URL}/health"}, "expect": "status == 200"}},
	}
	b, err := json.Marshal(newJobEvent(verifyParams(shared, map[string]any{"spec": spec})))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A 3 s function, a 30 s bake and a 10 s interval: every invocation must
// report before its deadline (no Sandbox.Timedout), each job exactly
// once, and the bake must still take its four samples (0, 10, 20, 30 s).
func TestVerifyIntervalLongerThanTheInvocationHandsOverInTime(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout, localProbes)
	ev, ok := codePipelineJob(healthJob(t, "30s", "10s"))
	if !ok {
		t.Fatal("healthJob is not a CodePipeline job")
	}
	run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range run.Invocations {
		if inv.Err != nil {
			t.Errorf("invocation %s: %v; want it to report and return before its %s deadline\nlogs:\n%s", inv.RequestID, inv.Err, fn.Timeout(), inv.Logs)
		}
	}
	if run.Stalled != "" || run.Terminal() != 1 || run.Outcome() != "Succeeded" {
		msg := ""
		if run.Final != nil {
			msg = run.Final.Message
		}
		t.Fatalf("action: %s, %d terminal reports, stalled %q; want Succeeded with exactly 1\n%s", run.Outcome(), run.Terminal(), run.Stalled, msg)
	}
	for _, id := range run.JobIDs {
		if st, _ := si.Job(id); len(st.Reports) != 1 {
			t.Errorf("job %s got %d reports; want exactly 1 per invocation's job", id, len(st.Reports))
		}
	}
	if got := run.Final.OutputVariables["samples"]; got != "4" {
		t.Errorf("samples = %s; want 4 (0s, 10s, 20s, 30s) over %d invocations", got, len(run.Invocations))
	}
}

// A bad environment no longer exits with status 1 (Runtime.ExitError, the
// job waiting 20 minutes): the job is failed with a ConfigurationError
// naming the variable, and Lambda records the invocation's error with the
// same message under errorType ConfigError.
func TestVerifyBadConfigFailsTheJobAndTellsLambda(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout, config.EnvSafetyMargin+"=soon")
	ev, _ := codePipelineJob(healthJob(t, "0s", "1s"))
	run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Outcome() != "Failed (ConfigurationError)" || run.Terminal() != 1 {
		t.Fatalf("action: %s with %d terminal reports; want Failed (ConfigurationError) once", run.Outcome(), run.Terminal())
	}
	if !strings.Contains(run.Final.Message, config.EnvSafetyMargin) {
		t.Errorf("failure message %q does not name %s", run.Final.Message, config.EnvSafetyMargin)
	}
	first := run.Invocations[0]
	if first.Err == nil || first.Err.Type != "ConfigError" || !strings.Contains(first.Err.Message, config.EnvSafetyMargin) {
		t.Errorf("invocation error = %v; want errorType ConfigError naming %s", first.Err, config.EnvSafetyMargin)
	}
	for _, inv := range run.Invocations {
		if inv.Err != nil && inv.Err.Type == lambdarun.ErrorTypeExit {
			t.Errorf("invocation %s: %v; the process must not exit", inv.RequestID, inv.Err)
		}
	}
}

// When not even the AWS SDK's configuration loads, no job can be failed:
// the problem reaches Lambda's init error (POST /runtime/init/error) with
// its message instead of a bare Runtime.ExitError.
func TestVerifyUnusableSDKConfigReachesLambdasInitError(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout, "AWS_RETRY_MODE=bogus")
	res := invokeOnce(t, fn, healthJob(t, "0s", "1s"))
	if res.Err == nil || res.Err.Type != verify.InitErrorType || !strings.Contains(res.Err.Message, "AWS_RETRY_MODE") {
		t.Errorf("invocation error = %v; want %s naming AWS_RETRY_MODE\nlogs:\n%s", res.Err, verify.InitErrorType, res.Logs)
	}
	if n := len(si.CallsTo(standin.CodePipeline, "")); n != 0 {
		t.Errorf("%d CodePipeline calls; want none (no client could be built)", n)
	}
}
