package main

// The fault matrix: each function's real bootstrap, under the Lambda
// Runtime API harness, against the AWS stand-in with a fault injected —
// throttling, 5xx, slow answers, connection resets, the deadline
// arriving mid-work, malformed input, duplicate deliveries — and the
// promise each function makes checked after every case:
//
//   - verify ends every job with exactly one terminal report (following
//     continuations) and never dies mid-invocation;
//   - remediate acts at most once and writes an audit record for every
//     decision it logs;
//   - respond neither crashes nor drops a valid event (Lambda's
//     asynchronous retries included), and notifies once.
//
// Deliveries are retried as Lambda retries an asynchronous invocation
// (twice after a function error). TestFaultMatrix logs the matrix with
// its counts: go test -v -run TestFaultMatrix ./pkg/devtools/demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// matrixRow is one cell of the fault matrix.
type matrixRow struct {
	Function, Fault, Injected string
	// Promise is what was checked; Got what happened.
	Promise, Got string
	Invocations  int
	Calls        int // AWS calls the stand-in answered (or refused)
	Faults       int // calls an injected fault hit
	Status       string
}

var matrix struct {
	sync.Mutex
	rows []matrixRow
}

// record adds the row once the case has run, marked by its result.
func record(t *testing.T, row *matrixRow) {
	t.Helper()
	t.Cleanup(func() {
		if row.Status == "" {
			row.Status = "ok"
			if t.Failed() {
				row.Status = "FAIL"
			}
		}
		matrix.Lock()
		matrix.rows = append(matrix.rows, *row)
		matrix.Unlock()
	})
}

func countCalls(si *standin.Server, row *matrixRow) {
	calls := si.Calls()
	row.Calls = len(calls)
	row.Faults = 0
	for _, c := range calls {
		if c.Fault != "" {
			row.Faults++
		}
	}
}

func TestFaultMatrix(t *testing.T) {
	matrix.Lock()
	matrix.rows = nil
	matrix.Unlock()
	// The three functions' cases run side by side (each function's in
	// order): they share only the rig, and verify's only read the sample
	// service's healthy version.
	t.Run("cases", func(t *testing.T) {
		for name, cases := range map[string]func(*testing.T){"verify": faultsVerify, "remediate": faultsRemediate, "respond": faultsRespond} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				cases(t)
			})
		}
	})

	matrix.Lock()
	defer matrix.Unlock()
	order := map[string]int{"verify": 0, "remediate": 1, "respond": 2}
	sort.SliceStable(matrix.rows, func(i, j int) bool { return order[matrix.rows[i].Function] < order[matrix.rows[j].Function] })
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "function\tfault\tinjected\tpromise\tgot\tinvocations\tAWS calls\tfaulted\tstatus")
	ok := 0
	for _, r := range matrix.rows {
		if r.Status == "ok" {
			ok++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.Function, r.Fault, r.Injected, r.Promise, r.Got, r.Invocations, r.Calls, r.Faults, r.Status)
	}
	_ = tw.Flush()
	t.Logf("fault matrix: %d cases, %d ok\n%s", len(matrix.rows), ok, b.String())
	if len(matrix.rows) == 0 {
		t.Error("the fault matrix ran no case")
	}
}

// --- verify ---

type verifyCase struct {
	fault, injected string
	// arm injects faults into the fresh stand-in; env adds settings.
	arm func(*standin.Server)
	env func(*standin.Server) []string
	// job builds the job (default inlineJob).
	job func(t *testing.T) events.CodePipelineJobEvent
	// timeout is the function timeout (0: verifyTestTimeout, room for
	// the SDK's retry backoff).
	timeout time.Duration
	want    string // the action's outcome
}

func faultsVerify(t *testing.T) {
	requireFunction(t, "verify")
	cases := []verifyCase{
		{
			fault: "throttling", injected: "GetMetricData ×2, PutJobSuccessResult ×4",
			arm: func(si *standin.Server) {
				si.Inject(standin.CloudWatch, "GetMetricData", standin.Fault{Kind: standin.FaultThrottle, Times: 2})
				si.Inject(standin.CodePipeline, "PutJobSuccessResult", standin.Fault{Kind: standin.FaultThrottle, Times: 4})
			},
			want: "Succeeded",
		},
		{
			fault: "5xx", injected: "GetMetricData 503 always, PutJobFailureResult 500 ×2",
			arm: func(si *standin.Server) {
				si.Inject(standin.CloudWatch, "GetMetricData", standin.Fault{Kind: standin.FaultServerError, Status: 503})
				si.Inject(standin.CodePipeline, "PutJobFailureResult", standin.Fault{Kind: standin.FaultServerError, Times: 2})
			},
			want: "Failed (JobFailed)",
		},
		{
			fault: "slow responses", injected: "+700ms on every CloudWatch and CodePipeline call",
			arm: func(si *standin.Server) {
				si.Inject(standin.CloudWatch, "", standin.Fault{Kind: standin.FaultLatency, Delay: 700 * time.Millisecond})
				si.Inject(standin.CodePipeline, "", standin.Fault{Kind: standin.FaultLatency, Delay: 700 * time.Millisecond})
			},
			want: "Succeeded",
		},
		{
			fault: "connection resets", injected: "GetMetricData ×1, PutJobSuccessResult ×1",
			arm: func(si *standin.Server) {
				si.Inject(standin.CloudWatch, "GetMetricData", standin.Fault{Kind: standin.FaultReset, Times: 1})
				si.Inject(standin.CodePipeline, "PutJobSuccessResult", standin.Fault{Kind: standin.FaultReset, Times: 1})
			},
			want: "Succeeded",
		},
		{
			fault: "deadline mid-sample", injected: "probe answers after 10s; timeout 3s",
			job:     slowProbeJob,
			timeout: verifyTimeout,
			// bake 0s: the only sample ends unjudged at the deadline, and
			// an unjudged check fails the deploy by default.
			want: "Failed (JobFailed)",
		},
		{
			fault: "malformed parameters", injected: "events/verify-malformed-params.json",
			job:  eventFile("verify-malformed-params.json"),
			want: "Failed (ConfigurationError)",
		},
		{
			fault: "malformed spec", injected: "events/verify-bad-spec.json",
			job:  eventFile("verify-bad-spec.json"),
			want: "Failed (ConfigurationError)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			row := &matrixRow{Function: "verify", Fault: tc.fault, Injected: tc.injected, Promise: "1 terminal report, no crash"}
			record(t, row)
			job := inlineJob(t)
			if tc.job != nil {
				job = tc.job(t)
			}
			run, si := verifyFaulted(t, job, tc)
			countCalls(si, row)
			row.Invocations = len(run.Invocations)
			row.Got = fmt.Sprintf("%s, %d terminal / %d reports", run.Outcome(), run.Terminal(), len(run.Reports))
			if got := run.Outcome(); got != tc.want {
				msg := ""
				if run.Final != nil {
					msg = run.Final.Message
				}
				t.Errorf("%s: outcome %s; want %s\n%s", tc.fault, got, tc.want, msg)
			}
		})
	}

	t.Run("duplicate delivery", func(t *testing.T) {
		row := &matrixRow{Function: "verify", Fault: "duplicate delivery", Injected: "same job delivered twice", Promise: "1 terminal report, no crash"}
		record(t, row)
		si, fn := startVerify(t, nil, 0)
		ev := inlineJob(t)
		si.AddJob(standinJob(ev.CodePipelineJob, demoPipeline, fn.Name()))
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			res := invokeOnce(t, fn, payload)
			row.Invocations++
			if res.Err != nil {
				t.Errorf("delivery %d: function error %v; want the duplicate absorbed", i+1, res.Err)
			}
		}
		countCalls(si, row)
		st, _ := si.Job(ev.CodePipelineJob.ID)
		row.Got = fmt.Sprintf("%s, %d reports", st.Status, len(st.Reports))
		if st.Status != "Succeeded" || len(st.Reports) != 1 {
			t.Errorf("job after two deliveries: %s with %d reports; want Succeeded with exactly 1", st.Status, len(st.Reports))
		}
	})

	t.Run("not a job", func(t *testing.T) {
		row := &matrixRow{Function: "verify", Fault: "malformed event", Injected: "not JSON; JSON with no job", Promise: "no crash, no report"}
		record(t, row)
		si, fn := startVerify(t, nil, 0)
		for _, payload := range []string{`{"CodePipeline.job": [1, 2`, `{"detail-type":"not a pipeline job"}`} {
			res := invokeOnce(t, fn, []byte(payload))
			row.Invocations++
			if res.Err != nil && (res.Err.Type == lambdarun.ErrorTypeExit || res.Err.Type == lambdarun.ErrorTypeTimeout) {
				t.Errorf("Invoke(%q): %v; want an answer, not a crash", payload, res.Err)
			}
		}
		countCalls(si, row)
		reports := 0
		for _, j := range si.Jobs() {
			reports += len(j.Reports)
		}
		row.Got = fmt.Sprintf("%d reports", reports)
		if reports != 0 {
			t.Errorf("%d reports made for events that carry no job; want 0", reports)
		}
	})

	t.Run("panicking check", func(t *testing.T) {
		// A real binary has no way to make a check panic (no test hook
		// in functions/verify): the row is covered in process by
		// pkg/verify's TestPanics (a check's panic becomes that
		// check's Error; the job still gets one terminal report).
		row := &matrixRow{Function: "verify", Fault: "panicking check", Injected: "— (no hook in the binary)", Promise: "1 terminal report", Got: "see pkg/verify TestPanics", Status: "unit test"}
		record(t, row)
	})
}

// startVerify starts verify against a fresh stand-in seeded with the
// healthy scenario.
func startVerify(t *testing.T, arm func(*standin.Server), timeout time.Duration, extra ...string) (*standin.Server, *lambdarun.Function) {
	t.Helper()
	si, err := shared.newStandin("verify-healthy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(si.Close)
	if arm != nil {
		arm(si)
	}
	fn, err := shared.startWithTimeout(context.Background(), "verify", si, timeout, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	return si, fn
}

// verifyFaulted runs one verify action through its continuations and
// checks the promise: exactly one terminal report, no invocation that
// died or timed out.
func verifyFaulted(t *testing.T, ev events.CodePipelineJobEvent, tc verifyCase) (jobRun, *standin.Server) {
	t.Helper()
	timeout := tc.timeout
	if timeout == 0 {
		timeout = verifyTestTimeout
	}
	var extra []string
	si, err := shared.newStandin("verify-healthy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(si.Close)
	if tc.arm != nil {
		tc.arm(si)
	}
	if tc.env != nil {
		extra = tc.env(si)
	}
	fn, err := shared.startWithTimeout(context.Background(), "verify", si, timeout, extra...)
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
	if run.Stalled != "" {
		t.Errorf("the action did not end: %s", run.Stalled)
	}
	if n := run.Terminal(); n != 1 {
		t.Errorf("terminal reports = %d; want exactly 1 (reports: %+v)", n, run.Reports)
	}
	return run, si
}

// slowProbeJob is a single-check job whose probe's first answer takes
// 10 s — far past the function's 3 s timeout — and later answers are
// quick, so the deadline arrives mid-sample once.
func slowProbeJob(t *testing.T) events.CodePipelineJobEvent {
	t.Helper()
	var n atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			case <-release:
			}
		}
		_, _ = w.Write([]byte(`{"status":"UP"}`))
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	spec := map[string]any{
		"bake": "0s",
		"checks": []map[string]any{
			{"name": "api-health", "http": map[string]any{"url": srv.URL + "/health", "timeout": "10s"}, "expect": `status == 200 && json.status == "UP"`},
		},
	}
	b, _ := json.Marshal(map[string]any{"spec": spec})
	return newJobEvent(string(b))
}

func eventFile(name string) func(t *testing.T) events.CodePipelineJobEvent {
	return func(t *testing.T) events.CodePipelineJobEvent {
		t.Helper()
		ev, err := readJobEvent(filepath.Join(shared.root, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		ev.CodePipelineJob.ID = newJobID()
		return ev
	}
}

func invokeOnce(t *testing.T, fn *lambdarun.Function, payload []byte) *lambdarun.Result {
	t.Helper()
	res, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", fn.Name(), err)
	}
	return res
}

// deliver is Lambda's asynchronous invocation: the event, then up to two
// retries after a function error.
func deliver(t *testing.T, fn *lambdarun.Function, payload []byte) []*lambdarun.Result {
	t.Helper()
	var out []*lambdarun.Result
	for range asyncRetries + 1 {
		res := invokeOnce(t, fn, payload)
		out = append(out, res)
		if res.Err == nil {
			break
		}
	}
	return out
}

// crashed names the invocations whose process died (a panic, os.Exit).
func crashed(rs []*lambdarun.Result) []string {
	var out []string
	for _, r := range rs {
		if r.Err != nil && r.Err.Type == lambdarun.ErrorTypeExit {
			out = append(out, r.Err.Error())
		}
	}
	return out
}

// --- remediate ---

type opsCase struct {
	fault, injected string
	arm             func(*standin.Server)
	timeout         time.Duration
	// payload builds the event (default: the CPU alarm, now).
	payload func(t *testing.T) []byte
	// deliveries is how many times the event is delivered (default 1).
	deliveries int
	// wantActs is how many effective UpdateService calls must land.
	wantActs int
	// wantNotes is how many notifications the security topic must get
	// (respond).
	wantNotes int
	// knownGap, when set, says why the case is known to lose the event:
	// the case then skips (status GAP in the matrix) instead of failing,
	// until the gap is closed and it passes.
	knownGap string
}

// gap reports a lost event: a skip naming the known gap, or a failure.
func gap(t *testing.T, row *matrixRow, tc opsCase, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if tc.knownGap == "" {
		t.Error(msg)
		return
	}
	row.Status = "GAP"
	t.Skipf("KNOWN GAP: %s\n%s", msg, tc.knownGap)
}

// startOpsTable is startOps that also returns the state table's name.
func startOpsTable(t *testing.T, name, seed string, arm func(*standin.Server), timeout time.Duration) (*lambdarun.Function, *standin.Server, string) {
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
	tableEnv, err := shared.freshTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fn, err := shared.startWithTimeout(context.Background(), name, si, timeout, tableEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	_, table, _ := strings.Cut(tableEnv, "=")
	return fn, si, table
}

const cpuAlarmARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-cpu-high"

func faultsRemediate(t *testing.T) {
	requireFunction(t, "remediate")
	requireDynalite(t)
	cases := []opsCase{
		{fault: "throttling", injected: "UpdateService ×2, Publish ×2", wantActs: 1, arm: func(si *standin.Server) {
			si.Inject(standin.ECS, "UpdateService", standin.Fault{Kind: standin.FaultThrottle, Times: 2})
			si.Inject(standin.SNS, "Publish", standin.Fault{Kind: standin.FaultThrottle, Times: 2})
		}},
		{fault: "5xx", injected: "UpdateService 500 always", wantActs: 0, arm: func(si *standin.Server) {
			si.Inject(standin.ECS, "UpdateService", standin.Fault{Kind: standin.FaultServerError})
		}},
		{fault: "slow responses", injected: "+700ms on every CloudWatch and ECS call", wantActs: 1, arm: func(si *standin.Server) {
			si.Inject(standin.CloudWatch, "", standin.Fault{Kind: standin.FaultLatency, Delay: 700 * time.Millisecond})
			si.Inject(standin.ECS, "", standin.Fault{Kind: standin.FaultLatency, Delay: 700 * time.Millisecond})
		}},
		// A reset after UpdateService was sent may come after ECS acted:
		// the call is not repeated (awsclient.MutatingRetryer), the
		// decision is unverified and escalated, so nothing lands here.
		{fault: "connection resets", injected: "UpdateService ×1, DescribeAlarms ×1", wantActs: 0, arm: func(si *standin.Server) {
			si.Inject(standin.ECS, "UpdateService", standin.Fault{Kind: standin.FaultReset, Times: 1})
			si.Inject(standin.CloudWatch, "DescribeAlarms", standin.Fault{Kind: standin.FaultReset, Times: 1})
		}},
		{fault: "deadline mid-action", injected: "DescribeServices +10s ×1; timeout 4s", timeout: 4 * time.Second, wantActs: 1, arm: func(si *standin.Server) {
			si.Inject(standin.ECS, "DescribeServices", standin.Fault{Kind: standin.FaultLatency, Delay: 10 * time.Second, Times: 1})
			// The engine's work ends a margin before the deadline: it
			// audits "deferred", releases the claim and fails the
			// invocation, so Lambda's retry acts once.
		}},
		{fault: "malformed event", injected: "SNS message not JSON; no records", wantActs: 0, payload: func(t *testing.T) []byte {
			return []byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Type":"Notification","TopicArn":"arn:aws:sns:us-east-1:123456789012:postdeploy-alarms","Message":"{\"AlarmName\": [not json"}}]}`)
		}},
		{fault: "duplicate delivery", injected: "same notification twice", wantActs: 1, deliveries: 2},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			row := &matrixRow{Function: "remediate", Fault: tc.fault, Injected: tc.injected, Promise: "acts ≤ once, every decision audited"}
			record(t, row)
			fn, si, table := startOpsTable(t, "remediate", "remediate.yaml", tc.arm, tc.timeout)
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			go clearAlarmAfterFix(ctx, si)
			var payload []byte
			if tc.payload != nil {
				payload = tc.payload(t)
			} else {
				var err error
				if payload, err = alarmEvent(shared, si); err != nil {
					t.Fatal(err)
				}
			}
			var results []*lambdarun.Result
			for range max(tc.deliveries, 1) {
				results = append(results, deliver(t, fn, payload)...)
			}
			row.Invocations = len(results)
			countCalls(si, row)
			if c := crashed(results); len(c) > 0 {
				t.Errorf("remediate crashed: %v", c)
			}

			acts := 0
			for _, c := range si.CallsTo(standin.ECS, "UpdateService") {
				if c.ErrorCode == "" && (c.Fault == "" || c.Fault == standin.FaultLatency.String()) {
					acts++
				}
			}
			decisions := 0
			var got []string
			for _, r := range results {
				decisions += len(logField(r.Logs, "remediation decision", "alarm"))
				got = append(got, logField(r.Logs, "alarm handled", "decision")...)
			}
			trail, err := state.New(mustDynalite(t).Client(), table).Trail(context.Background(), cpuAlarmARN, 0)
			if err != nil {
				t.Fatalf("read the audit trail: %v", err)
			}
			row.Got = fmt.Sprintf("%d act(s), decisions %s, %d audit records", acts, strings.Join(got, "+"), len(trail))
			if acts > 1 {
				t.Errorf("UpdateService landed %d times; want at most once", acts)
			}
			var lost []string
			if len(trail) != decisions {
				lost = append(lost, fmt.Sprintf("audit records = %d for %d logged decisions; want one per decision (none lost)", len(trail), decisions))
			}
			if acts != tc.wantActs {
				lost = append(lost, fmt.Sprintf("UpdateService landed %d times; want %d (decisions %v)", acts, tc.wantActs, got))
			}
			if len(lost) > 0 {
				var logs strings.Builder
				for _, r := range results {
					logs.Write(r.Logs)
				}
				gap(t, row, tc, "%s\nlogs:\n%s", strings.Join(lost, "\n"), logs.String())
			}
		})
	}
}

// --- respond ---

func faultsRespond(t *testing.T) {
	requireFunction(t, "respond")
	requireDynalite(t)
	finding, err := os.ReadFile(filepath.Join(shared.root, "events", "respond-inspector-finding.json"))
	if err != nil {
		t.Fatal(err)
	}
	malformed, err := os.ReadFile(filepath.Join(shared.root, "events", "respond-malformed.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []opsCase{
		// respond publishes findings with PublishBatch (POSTDEPLOY_PUBLISH_BATCH,
		// default on): the SNS faults hit every SNS operation.
		{fault: "throttling", injected: "SNS ×2", wantNotes: 1, arm: func(si *standin.Server) {
			si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultThrottle, Times: 2})
		}},
		{fault: "5xx", injected: "SNS 500 ×4 (past the SDK's 3 attempts)", wantNotes: 1, arm: func(si *standin.Server) {
			si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultServerError, Times: 4})
		}},
		{fault: "slow responses", injected: "+700ms on every SNS call", wantNotes: 1, arm: func(si *standin.Server) {
			si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultLatency, Delay: 700 * time.Millisecond})
		}},
		{fault: "connection resets", injected: "SNS ×1", wantNotes: 1, arm: func(si *standin.Server) {
			si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultReset, Times: 1})
		}},
		{fault: "deadline mid-event", injected: "SNS +10s ×1; timeout 3s", timeout: 3 * time.Second, wantNotes: 1, arm: func(si *standin.Server) {
			// respond stops its work a margin before the deadline
			// (functions/respond/deadline.go): the slow Publish fails, the
			// dedupe claim is released and the error returned, so the
			// retry notifies.
			si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultLatency, Delay: 10 * time.Second, Times: 1})
		}},
		{fault: "malformed event", injected: "events/respond-malformed.json, then a valid event", wantNotes: 1},
		{fault: "duplicate delivery", injected: "same event twice", wantNotes: 1, deliveries: 2},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			row := &matrixRow{Function: "respond", Fault: tc.fault, Injected: tc.injected, Promise: "no crash, no valid event dropped"}
			record(t, row)
			fn, si, _ := startOpsTable(t, "respond", "respond.yaml", tc.arm, tc.timeout)
			var results []*lambdarun.Result
			if tc.fault == "malformed event" {
				rs := deliver(t, fn, malformed)
				results = append(results, rs...)
				if rs[0].Err != nil {
					t.Errorf("malformed event: function error %v; want it counted and dropped", rs[0].Err)
				}
			}
			for range max(tc.deliveries, 1) {
				results = append(results, deliver(t, fn, finding)...)
			}
			row.Invocations = len(results)
			countCalls(si, row)
			if c := crashed(results); len(c) > 0 {
				t.Errorf("respond crashed: %v", c)
			}
			for i, r := range results {
				if r.Err != nil && r.Err.Type == lambdarun.ErrorTypeTimeout {
					t.Errorf("invocation %d was killed at its deadline (%v); want respond to stop its work before it, release its claim and return the error", i+1, r.Err)
				}
			}
			last := results[len(results)-1]
			notes := len(publishedTo(si, notify.Security))
			row.Got = fmt.Sprintf("%d notified, last invocation %s", notes, errText(last.Err))
			if last.Err != nil {
				t.Errorf("the valid event still failed after Lambda's retries: %v\nlogs:\n%s", last.Err, last.Logs)
			}
			if notes == 0 {
				gap(t, row, tc, "the valid finding was dropped: no notification on the security topic after %d invocations", len(results))
				return
			}
			if notes != tc.wantNotes {
				t.Errorf("security notifications = %d; want %d", notes, tc.wantNotes)
			}
		})
	}
}

func errText(e *lambdarun.FunctionError) string {
	if e == nil {
		return "ok"
	}
	return e.Type
}

func mustDynalite(t *testing.T) *dynalite.Server {
	t.Helper()
	d, err := shared.dynalite(context.Background())
	if err != nil {
		t.Fatalf("dynalite: %v", err)
	}
	return d
}
