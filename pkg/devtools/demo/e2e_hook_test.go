package main

import (
	"context"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// The real verify binary as CodeDeploy's AfterAllowTestTraffic hook of an
// ECS blue/green deployment whose green task set is broken: the bake
// hands over through an asynchronous self-Invoke, and the hook gets
// exactly one PutLifecycleEventHookExecutionStatus, Failed.
func TestVerifyCodeDeployHookFailsOnGreenTaskSet(t *testing.T) {
	requireFunction(t, "verify")
	requireDynalite(t)
	expectAsPlanned(t, "hook", codeDeployHookFailsOnGreen(context.Background(), shared))
}

// A hook invocation naming a deployment CodeDeploy does not have: there
// is no hook to report to (PutLifecycleEventHookExecutionStatus would
// answer DeploymentDoesNotExistException), so the real binary makes no
// status call and returns a HookEventError Lambda shows, after a counted
// log line.
func TestVerifyCodeDeployHookForUnknownDeployment(t *testing.T) {
	requireFunction(t, "verify")
	ctx := context.Background()
	si, err := standin.New(standin.Scenario{LambdaFunctions: []standin.LambdaFunction{{Name: "verify"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := si.Start(); err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	fn, err := shared.start(ctx, "verify", si)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	run, err := runHook(ctx, fn, si, contract.CodeDeployHookEvent{DeploymentID: "d-NOSUCH000", LifecycleEventHookExecutionID: "6a1f1d2e-0b6c-4c1e-9d55-demo00000009"})
	if err != nil {
		t.Fatal(err)
	}
	if run.StatusCalls != 0 {
		t.Errorf("status calls = %d; want 0", run.StatusCalls)
	}
	if len(run.Invocations) != 3 {
		t.Errorf("invocations = %d; want 3 (the error makes Lambda retry twice)", len(run.Invocations))
	}
	last := run.Invocations[len(run.Invocations)-1]
	if last.Err == nil || last.Err.Type != "HookEventError" || !strings.Contains(last.Err.Message, "CodeDeploy has no deployment d-NOSUCH000") {
		t.Errorf("function error = %+v; want HookEventError naming the deployment", last.Err)
	}
	if !strings.Contains(string(last.Logs), "codedeploy-hook-unknown-deployment") {
		t.Errorf("the refusal was not logged and counted:\n%s", last.Logs)
	}
}
