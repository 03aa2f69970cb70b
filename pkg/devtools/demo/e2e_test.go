package main

// End-to-end tests: each function's real bootstrap, built for this host,
// runs under the Lambda Runtime API harness against the AWS stand-in (and
// dynalite), driven the way CodePipeline, SNS and EventBridge drive it.
// Nothing is skipped silently: a missing prerequisite skips with the
// reason on a developer's machine and fails under CI (CI set).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// shared is the rig every test uses: the functions built once, the sample
// service, dynalite on first use. The tests do not run in parallel: the
// scenarios switch the one sample service between versions.
var shared *rig

func TestMain(m *testing.M) {
	r, err := newRig(context.Background(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build the functions:", err)
		os.Exit(1)
	}
	shared = r
	code := m.Run()
	r.Close()
	os.Exit(code)
}

// requireFunction fails (or, off CI, skips with the reason) when a
// function is not in functions/ yet.
func requireFunction(t *testing.T, name string) {
	t.Helper()
	if _, ok := shared.bins[name]; ok {
		return
	}
	msg := fmt.Sprintf("functions/%s/main.go does not exist yet", name)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// requireDynalite fails under CI and skips elsewhere when dynalite is not
// installed (make node).
func requireDynalite(t *testing.T) {
	t.Helper()
	_, err := shared.dynalite(context.Background())
	switch {
	case err == nil:
	case errors.Is(err, dynalite.ErrNotInstalled) && os.Getenv("CI") == "":
		t.Skip(err.Error())
	default:
		t.Fatalf("dynalite: %v", err)
	}
}

func expectAsPlanned(t *testing.T, name string, res result) {
	t.Helper()
	for _, p := range res.Problems {
		t.Errorf("%s: %s", name, p)
	}
	if t.Failed() && res.Note != "" {
		t.Logf("%s:\n%s", res.NoteTitle, res.Note)
	}
}

// The demo's scenarios are end-to-end tests too: each checks its own
// outcome (see scenarios.go).
func TestScenarios(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			requireFunction(t, sc.Function)
			if functionSettings[sc.Function].UsesDynamoDB {
				requireDynalite(t)
			}
			res := sc.Run(context.Background(), shared)
			if res.Invocations == 0 {
				t.Errorf("%s: no invocation ran", sc.Name)
			}
			expectAsPlanned(t, sc.Name, res)
		})
	}
}

// inlineJob is a verify job whose spec is inline: one http check on the
// sample service and one metric check, a single sample.
func inlineJob(t *testing.T) events.CodePipelineJobEvent {
	t.Helper()
	spec := map[string]any{
		"bake": "0s",
		"checks": []map[string]any{
			{"name": "api-health", "http": map[string]any{"url": "#{SERVICE_URL}/health"}, "expect": `status == 200 && json.status == "UP"`},
			{"name": "error-rate", "metric": map[string]any{
				"expression": "100*errors/requests",
				"metrics": map[string]any{
					"errors":   map[string]any{"namespace": "AWS/ApplicationELB", "name": "HTTPCode_Target_5XX_Count", "stat": "Sum", "dimensions": map[string]string{"LoadBalancer": "app/prod-api/50dc6c495c0c9188"}},
					"requests": map[string]any{"namespace": "AWS/ApplicationELB", "name": "RequestCount", "stat": "Sum", "dimensions": map[string]string{"LoadBalancer": "app/prod-api/50dc6c495c0c9188"}},
				},
			}, "expect": "value < 1"},
		},
	}
	return newJobEvent(verifyParams(shared, map[string]any{"spec": spec}))
}

// verifyTestTimeout leaves the fault-injection tests room for the SDK's
// retry backoff: with the demo's 3 s timeout and 500 ms margin, four
// throttled reports outlast the deadline and Lambda kills the function
// (the job is still reported once, by the async retry). The standard
// retryer's backoff is random (exponential with full jitter), so two
// throttled GetMetricData calls and three throttled reports took 10.4 s
// in one run; 30 s keeps such a run inside one invocation, and a run
// that ends early is not slowed.
const verifyTestTimeout = 30 * time.Second

// verifyWith runs one verify action against a fresh stand-in seeded with
// the healthy scenario, after arm has injected its faults.
// verifyOpts arm a test's stand-in and add to the function's environment.
type verifyOpts struct {
	arm func(*standin.Server)
	env func(si *standin.Server) []string
}

func verifyWith(t *testing.T, ev events.CodePipelineJobEvent, o verifyOpts) (jobRun, *standin.Server) {
	t.Helper()
	requireFunction(t, "verify")
	si, err := shared.newStandin("verify-healthy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(si.Close)
	// The sample service is shared by every test and scenario of the
	// package; a scenario that deployed the broken version must not decide
	// this test's outcome.
	shared.service.deploy(versionHealthy)
	if o.arm != nil {
		o.arm(si)
	}
	var extraEnv []string
	if o.env != nil {
		extraEnv = o.env(si)
	}
	fn, err := shared.startWithTimeout(context.Background(), "verify", si, verifyTestTimeout, extraEnv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	run, err := runPipelineJob(context.Background(), fn, si, ev, demoPipeline, true)
	if err != nil {
		t.Fatalf("run the job: %v", err)
	}
	for _, inv := range run.Invocations {
		if inv.Err != nil {
			t.Errorf("invocation %s: function error %v; want none (verify reports through CodePipeline)\nlogs:\n%s", inv.RequestID, inv.Err, inv.Logs)
		}
	}
	if n := run.Terminal(); n != 1 {
		t.Errorf("terminal reports = %d; want exactly 1 (reports: %+v)", n, run.Reports)
	}
	return run, si
}

func TestVerifyThrottledReportIsRetriedAndReportedOnce(t *testing.T) {
	ev := inlineJob(t)
	// More throttles than the SDK's own attempts (AWS_MAX_ATTEMPTS=3), so
	// verify's reporter has to retry as well.
	run, si := verifyWith(t, ev, verifyOpts{
		arm: func(si *standin.Server) {
			si.Inject(standin.CodePipeline, "PutJobSuccessResult", standin.Fault{Kind: standin.FaultThrottle, Times: 4})
		},
		env: func(*standin.Server) []string { return []string{config.EnvSafetyMargin + "=5s"} },
	})
	if got := run.Outcome(); got != "Succeeded" {
		t.Errorf("outcome = %s; want Succeeded once the throttling passes", got)
	}
	calls := si.CallsTo(standin.CodePipeline, "PutJobSuccessResult")
	throttled := 0
	for _, c := range calls {
		if c.Fault != "" {
			throttled++
		}
	}
	if throttled != 4 || len(calls) != 5 {
		t.Errorf("PutJobSuccessResult calls = %d (%d throttled); want 5 (4 throttled, then the one that lands)", len(calls), throttled)
	}
	if len(run.Invocations) != 1 {
		t.Errorf("invocations = %d; want 1 (the retries happen inside the invocation)", len(run.Invocations))
	}
}

func TestVerifyMetricServerErrorIsACheckErrorNotACrash(t *testing.T) {
	ev := inlineJob(t)
	run, si := verifyWith(t, ev, verifyOpts{arm: func(si *standin.Server) {
		si.Inject(standin.CloudWatch, "GetMetricData", standin.Fault{Kind: standin.FaultServerError, Status: 503})
	}})
	if len(si.CallsTo(standin.CloudWatch, "GetMetricData")) == 0 {
		t.Fatal("verify never called GetMetricData")
	}
	if got := run.Outcome(); got != "Failed (JobFailed)" {
		t.Fatalf("outcome = %s; want Failed (JobFailed): an unjudged check fails the deploy by default", got)
	}
	msg := run.Final.Message
	for _, want := range []string{"ERROR", "error-rate"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "FAILED api-health") {
		t.Errorf("failure message blames the healthy api-health check:\n%s", msg)
	}
}

func TestVerifyDuplicateDeliveryReportsOnce(t *testing.T) {
	requireFunction(t, "verify")
	si, err := shared.newStandin("verify-healthy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	fn, err := shared.start(context.Background(), "verify", si)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	ev := inlineJob(t)
	payload, _ := json.Marshal(ev)
	// Lambda's asynchronous invocation delivers at least once: the same
	// job arrives twice.
	for i := range 2 {
		res, err := fn.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			t.Errorf("delivery %d: function error %v; want the duplicate absorbed", i+1, res.Err)
		}
	}
	st, _ := si.Job(ev.CodePipelineJob.ID)
	if st.Status != "Succeeded" || len(st.Reports) != 1 {
		t.Errorf("job after two deliveries: status %s with %d reports; want Succeeded with exactly 1", st.Status, len(st.Reports))
	}
}

func TestVerifyBrokenNamesTheFailingCheckOnce(t *testing.T) {
	requireFunction(t, "verify")
	res := verifyBroken(context.Background(), shared)
	expectAsPlanned(t, "broken", res)
	// verifyBroken checks the outcome and the message; also: exactly one
	// PutJobFailureResult was made.
	if res.Invocations != 1 {
		t.Errorf("invocations = %d; want 1 (fail fast on a decided failure)", res.Invocations)
	}
}

func TestInvokeCommand(t *testing.T) {
	requireFunction(t, "verify")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"invoke", "-fn", "verify", "-event", "../../../events/verify-inline.json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("invoke exit code = %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"PutJobSuccessResult", "GetMetricData", "rpcv2Cbor", "DescribeAlarms", "START RequestId:", "REPORT RequestId:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("invoke output does not contain %q:\n%s", want, out.String())
		}
	}
}

func TestInvokeCommandRejectsUnknownFunction(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"invoke", "-fn", "nope", "-event", "../../../events/verify-inline.json"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), `no function "nope": want one of`) {
		t.Errorf("invoke -fn nope = %d, stderr %q; want non-zero and the list of functions", code, errOut.String())
	}
}

// startOps starts a function that keeps state in DynamoDB against a
// fresh stand-in and state table.
func startOps(t *testing.T, name, seed string, arm func(*standin.Server)) (*lambdarun.Function, *standin.Server) {
	t.Helper()
	requireFunction(t, name)
	requireDynalite(t)
	si, err := shared.newStandin(seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(si.Close)
	if arm != nil {
		arm(si)
	}
	table, err := shared.freshTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fn, err := shared.start(context.Background(), name, si, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	return fn, si
}

func TestRespondThrottledPublishStillNotifiesOnce(t *testing.T) {
	fn, si := startOps(t, "respond", "respond.yaml", func(si *standin.Server) {
		// Every SNS operation: respond publishes findings with PublishBatch
		// (POSTDEPLOY_PUBLISH_BATCH, default on), alerts with Publish.
		si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultThrottle, Times: 2})
	})
	payload, err := os.ReadFile("../../../events/respond-inspector-finding.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatalf("function error %v; want the throttling absorbed by retries\nlogs:\n%s", res.Err, res.Logs)
	}
	calls := si.CallsTo(standin.SNS, "")
	if got := len(publishedTo(si, notify.Security)); got != 1 || len(calls) != 3 {
		t.Errorf("security notifications = %d after %d SNS calls; want 1 after 3 (2 throttled)", got, len(calls))
	}
}

func TestRemediateFailedActionIsReportedNotCrashed(t *testing.T) {
	fn, si := startOps(t, "remediate", "remediate.yaml", func(si *standin.Server) {
		si.Inject(standin.ECS, "UpdateService", standin.Fault{Kind: standin.FaultServerError})
	})
	payload, err := alarmEvent(shared, si)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatalf("function error %v; want the failed action handled and reported\nlogs:\n%s", res.Err, res.Logs)
	}
	// A 500 may come after ECS acted: the decision is unverified (not
	// repeated, escalated), not a failure known to have changed nothing.
	if got := logField(res.Logs, "alarm handled", "decision"); len(got) != 1 || got[0] != "unverified" {
		t.Errorf("decisions = %q; want [unverified]", got)
	}
	if calls := si.CallsTo(standin.ECS, "UpdateService"); len(calls) == 0 {
		t.Errorf("UpdateService was never called; want the action tried")
	}
	if st, _ := si.ECSService("prod", "api"); st.DesiredCount != 2 {
		t.Errorf("service desired count = %d after a failed redeploy; want it untouched (2)", st.DesiredCount)
	}
	notes := publishedTo(si, notify.HighCPU)
	if len(notes) != 1 {
		t.Fatalf("high-cpu notifications = %d; want 1 saying the remediation is not verified", len(notes))
	}
	for _, want := range []string{"Acted, NOT verified", "prod-api-cpu-high", "ecs:UpdateService was sent", "InternalFailure"} {
		if !strings.Contains(notes[0].Message, want) {
			t.Errorf("notification does not say %q:\n%s", want, notes[0].Message)
		}
	}
}

// The same binary speaks whichever CloudWatch protocol the setting names,
// for emulators that do not speak Smithy RPC v2 CBOR.
func TestVerifyCloudWatchProtocolSetting(t *testing.T) {
	tests := []struct {
		setting string
		want    standin.Protocol
	}{
		{"", standin.ProtoCBOR},
		{"query", standin.ProtoQuery},
		{"json", standin.ProtoJSON10},
	}
	for _, tc := range tests {
		t.Run("protocol="+tc.setting, func(t *testing.T) {
			run, si := verifyWith(t, inlineJob(t), verifyOpts{env: func(*standin.Server) []string {
				return []string{config.EnvCloudWatchProtocol + "=" + tc.setting}
			}})
			if got := run.Outcome(); got != "Succeeded" {
				t.Errorf("%s=%q: outcome %s; want Succeeded", config.EnvCloudWatchProtocol, tc.setting, got)
			}
			calls := si.CallsTo(standin.CloudWatch, "GetMetricData")
			if len(calls) == 0 {
				t.Fatalf("%s=%q: no GetMetricData call", config.EnvCloudWatchProtocol, tc.setting)
			}
			for _, c := range calls {
				if c.Protocol != tc.want {
					t.Errorf("%s=%q: GetMetricData arrived on %s; want %s", config.EnvCloudWatchProtocol, tc.setting, c.Protocol, tc.want)
				}
			}
		})
	}
}

// Each client honours its service's own AWS_ENDPOINT_URL_<SERVICE>: with
// the shared AWS_ENDPOINT_URL pointing nowhere, verify still reaches every
// service it needs through the per-service variables.
func TestVerifyHonoursPerServiceEndpoints(t *testing.T) {
	run, si := verifyWith(t, inlineJob(t), verifyOpts{env: func(si *standin.Server) []string {
		return []string{
			"AWS_ENDPOINT_URL=http://127.0.0.1:1", // nothing listens there
			"AWS_ENDPOINT_URL_CODEPIPELINE=" + si.URL(),
			"AWS_ENDPOINT_URL_CLOUDWATCH=" + si.URL(),
			"AWS_ENDPOINT_URL_EVENTBRIDGE=" + si.URL(),
			"AWS_ENDPOINT_URL_SSM=" + si.URL(),
			"AWS_ENDPOINT_URL_S3=" + si.URL(),
			"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + si.URL(), // the continuation-token key
		}
	}})
	if got := run.Outcome(); got != "Succeeded" {
		t.Errorf("outcome with per-service endpoints = %s; want Succeeded", got)
	}
	for svc, env := range map[string]string{standin.CodePipeline: "CODEPIPELINE", standin.CloudWatch: "CLOUDWATCH", standin.EventBridge: "EVENTBRIDGE"} {
		if len(si.CallsTo(svc, "")) == 0 {
			t.Errorf("no %s call reached the stand-in through AWS_ENDPOINT_URL_%s", svc, env)
		}
	}
}
