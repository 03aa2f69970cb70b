package main

import (
	"context"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// Fault matrix row: CodeDeploy applies the hook's status and answers
// 500 InternalFailure (FaultServerErrorAfterApply; "The request processing
// has failed because of an unknown error", Common Errors) — the status
// landed, verify cannot know it. The real binary sends
// PutLifecycleEventHookExecutionStatus once (awsclient.MutatingRetryer
// does not retry a 5xx), returns a ReportError so Lambda retries the
// invocation, and the retry reads the hook as completed from CodeDeploy
// and sends nothing: exactly one status call in all.
func TestFaultHookStatusSentOnce(t *testing.T) {
	requireFunction(t, "verify")
	requireDynalite(t)
	ctx := context.Background()
	shared.service.deploy(versionHealthy)
	doc := "hooks:\n  AfterAllowTestTraffic:\n    checks:\n      - name: green-health\n        http: {url: \"" + shared.service.URL() + "/health\"}\n"
	si, hook, err := newHookStandin(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	si.Inject(standin.CodeDeploy, "PutLifecycleEventHookExecutionStatus", standin.Fault{Kind: standin.FaultServerErrorAfterApply, Times: 1})
	dyn, err := shared.dynalite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := shared.start(ctx, "verify", si, config.EnvStateTable+"="+stateTable, "AWS_ENDPOINT_URL_DYNAMODB="+dyn.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	run, err := runHook(ctx, fn, si, hook)
	if err != nil {
		t.Fatal(err)
	}
	if run.StatusCalls != 1 || len(run.Statuses) != 1 || run.Statuses[0].Status != "Succeeded" {
		t.Errorf("status calls = %d, accepted %+v; want exactly one call, Succeeded", run.StatusCalls, run.Statuses)
	}
	if len(run.Invocations) != 2 {
		t.Fatalf("invocations = %d; want 2 (the unknown outcome is an error Lambda retries once it is known)", len(run.Invocations))
	}
	if e := run.Invocations[0].Err; e == nil || e.Type != "ReportError" || !strings.Contains(e.Message, "PutLifecycleEventHookExecutionStatus") {
		t.Errorf("first invocation error = %+v; want a ReportError for the status", e)
	}
	if run.Invocations[1].Err != nil || !strings.Contains(string(run.Invocations[1].Logs), "no hook of the deployment is in progress") {
		t.Errorf("the retry = %+v; want nil after reading the hook completed:\n%s", run.Invocations[1].Err, run.Invocations[1].Logs)
	}
}
