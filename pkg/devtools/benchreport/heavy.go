package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// heavyVerifyResult is verify's heavy sample.
type heavyVerifyResult struct {
	PeakRSSKiB     int64
	Duration       time.Duration // the invocation, hand-out to response
	Outcome        string
	Probes         int64 // HTTP requests the sample service answered
	DescribeAlarms int
	GetMetricData  int
	Queries        int // metric data queries across the GetMetricData calls
	AWSCalls       int
}

// Sizes of the heavy verify sample. The issue asks for 100 probes, 250
// alarms and 500 metric queries in one sample, but a verification holds
// at most spec.MaxChecks (50) checks, so 100 http checks cannot share one
// spec: the heavy spec is the largest legal one with the alarm and metric
// fan-out in full — 3 alarm checks over 250 alarms, 10 metric checks of
// 49 metrics and an expression (500 queries), and http checks in the 37
// slots left. The 100-probe fan-out is measured in process by
// pkg/check/httpcheck's BenchmarkSample100Probes.
const (
	heavyAlarms        = 250
	heavyMetricChecks  = 10
	heavyMetricsPer    = 49 // + 1 expression = 50 queries per check
	heavyAlarmChecks   = 3
	heavyProbes        = spec.MaxChecks - heavyAlarmChecks - heavyMetricChecks
	heavyMetricQueries = heavyMetricChecks * (heavyMetricsPer + 1)
)

// heavyVerify runs verify once, cold, over one sample of the heavy spec
// against a stand-in seeded to match.
func heavyVerify(ctx context.Context, e *environment, bin string) (heavyVerifyResult, error) {
	var out heavyVerifyResult
	var probes atomic.Int64
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
		time.Sleep(20 * time.Millisecond) // a service that takes a moment to answer
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"UP","version":"2026.11.22"}`))
	}))
	defer svc.Close()

	var sc standin.Scenario
	var checks []map[string]any
	for i := range heavyProbes {
		checks = append(checks, map[string]any{
			"name":   fmt.Sprintf("probe-%03d", i),
			"http":   map[string]any{"url": fmt.Sprintf("%s/health?probe=%d", svc.URL, i), "timeout": "10s"},
			"expect": `status == 200 && json.status == "UP"`,
		})
	}
	var names []string
	for i := range heavyAlarms {
		n := fmt.Sprintf("heavy-%03d", i)
		names = append(names, n)
		sc.Alarms = append(sc.Alarms, standin.Alarm{Name: n, Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum", Period: 60, EvaluationPeriods: 3, Threshold: 10, ComparisonOperator: "GreaterThanThreshold"})
	}
	checks = append(checks,
		map[string]any{"name": "alarms-a", "alarms": map[string]any{"names": names[:100]}},
		map[string]any{"name": "alarms-b", "alarms": map[string]any{"names": names[100:]}},
		map[string]any{"name": "alarms-prefix", "alarms": map[string]any{"prefix": "heavy-", "ignorePreexisting": true}},
	)
	for i := range heavyMetricChecks {
		metrics := map[string]any{}
		var ids []string
		for j := range heavyMetricsPer {
			dims := map[string]string{"LoadBalancer": fmt.Sprintf("app/heavy-%02d/50dc6c495c0c9188", i), "TargetGroup": fmt.Sprintf("targetgroup/tg-%02d/%012d", j, j)}
			sc.Metrics = append(sc.Metrics, standin.Series{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: dims, Generator: &standin.Generator{Kind: "constant", Value: 1}})
			id := fmt.Sprintf("m%d", j)
			ids = append(ids, id)
			metrics[id] = map[string]any{"namespace": "AWS/ApplicationELB", "name": "HTTPCode_Target_5XX_Count", "stat": "Sum", "dimensions": dims}
		}
		checks = append(checks, map[string]any{
			"name":   fmt.Sprintf("target-errors-%02d", i),
			"metric": map[string]any{"expression": strings.Join(ids, "+"), "metrics": metrics},
			"expect": "value < 1000",
		})
	}
	specJSON, err := json.Marshal(map[string]any{"bake": "0s", "checks": checks})
	if err != nil {
		return out, fmt.Errorf("encode the heavy spec: %w", err)
	}
	const param = "/postdeploy/bench/heavy-spec"
	sc.Parameters = []standin.Parameter{{Name: param, Value: string(specJSON)}}
	si, err := standin.New(sc)
	if err != nil {
		return out, fmt.Errorf("seed the stand-in: %w", err)
	}
	if err := si.Start(); err != nil {
		return out, fmt.Errorf("start the stand-in: %w", err)
	}
	defer si.Close()

	jobID := newJobID()
	ev := fmt.Sprintf(`{"CodePipeline.job":{"id":%q,"accountId":"123456789012","data":{"actionConfiguration":{"configuration":{"FunctionName":"postdeploy-verify","UserParameters":%q}},"inputArtifacts":[],"outputArtifacts":[]}}}`,
		jobID, `{"ssmParameter":"`+param+`"}`)
	f, err := lambdarun.Start(lambdarun.Config{Name: "verify", Bootstrap: bin, Timeout: 60 * time.Second, Env: e.fnEnv(si, "verify")})
	if err != nil {
		return out, err
	}
	defer func() { _ = f.Close() }()
	res, err := f.Invoke(ctx, []byte(ev))
	if err != nil {
		return out, err
	}
	if res.Err != nil {
		return out, fmt.Errorf("verify failed: %w\nlogs:\n%s", res.Err, tail(res.Logs, 40))
	}
	out.PeakRSSKiB, err = peakRSS(bin)
	if err != nil {
		return out, err
	}
	out.Duration = res.Duration
	out.Probes = probes.Load()
	out.AWSCalls = len(si.Calls())
	out.DescribeAlarms = len(si.CallsTo(standin.CloudWatch, "DescribeAlarms"))
	gmd := si.CallsTo(standin.CloudWatch, "GetMetricData")
	out.GetMetricData = len(gmd)
	for _, c := range gmd {
		out.Queries += countQueries(c.Input)
	}
	st, _ := si.Job(jobID)
	out.Outcome = st.Status
	if st.Status != "Succeeded" {
		msg := ""
		if len(st.Reports) > 0 {
			msg = st.Reports[len(st.Reports)-1].Message
		}
		return out, fmt.Errorf("the heavy sample ended %s; want Succeeded (every check is healthy): %s", st.Status, firstN(msg, 1500))
	}
	return out, nil
}

// countQueries counts MetricDataQueries in a recorded GetMetricData input.
func countQueries(in map[string]any) int {
	qs, _ := in["MetricDataQueries"].([]any)
	return len(qs)
}

// heavyRespondResult is respond's triage of many findings.
type heavyRespondResult struct {
	Findings    int
	Events      int
	PeakRSSKiB  int64
	Elapsed     time.Duration // every invocation, end to end
	Handling    time.Duration // sum of the invocations' Durations
	Published   int
	AWSCalls    int
	FailedInvoc int
}

// heavyRespond delivers n Security Hub findings to respond in events of
// 100 findings each (Security Hub's "Findings - Imported" events carry a
// findings array; 100 of these ~1.9 KB findings stay under EventBridge's
// 256 KB event limit), every finding distinct so each is scored, claimed
// in DynamoDB (dynalite) and published to SNS.
func heavyRespond(ctx context.Context, e *environment, bin string, n int) (heavyRespondResult, error) {
	out := heavyRespondResult{Findings: n}
	tmpl, err := os.ReadFile(filepath.Join(e.root, "events", "respond-securityhub-asff.json"))
	if err != nil {
		return out, fmt.Errorf("read the Security Hub event: %w", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(tmpl, &ev); err != nil {
		return out, fmt.Errorf("decode the Security Hub event: %w", err)
	}
	detail, _ := ev["detail"].(map[string]any)
	fs, _ := detail["findings"].([]any)
	if len(fs) == 0 {
		return out, fmt.Errorf("events/respond-securityhub-asff.json has no detail.findings")
	}
	base, _ := json.Marshal(fs[0])

	si, err := standin.New(standin.Scenario{})
	if err != nil {
		return out, err
	}
	if err := si.Start(); err != nil {
		return out, err
	}
	defer si.Close()
	// Every finding here is the same control on another bucket: with
	// digests on, the sixth and later would join one digest instead of
	// being published. The figure is each finding's claim and publish, so
	// digests are off (0), as a team may set them.
	env := append(e.fnEnv(si, "respond"), config.EnvDigestThreshold+"=0")
	f, err := lambdarun.Start(lambdarun.Config{Name: "respond", Bootstrap: bin, Timeout: 5 * time.Minute, Env: env})
	if err != nil {
		return out, err
	}
	defer func() { _ = f.Close() }()

	severities := []string{"CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "LOW", "LOW", "LOW", "INFORMATIONAL"}
	run := time.Now().UnixNano()
	start := time.Now()
	for i := range n / 100 {
		batch := make([]any, 0, 100)
		for j := range 100 {
			var fnd map[string]any
			_ = json.Unmarshal(base, &fnd)
			k := i*100 + j
			fnd["Id"] = fmt.Sprintf("arn:aws:securityhub:us-east-1:123456789012:security-control/S3.8/finding/bench-%d-%05d", run, k)
			sev := severities[k%len(severities)]
			fnd["Severity"] = map[string]any{"Label": sev, "Original": sev}
			fnd["Resources"] = []any{map[string]any{"Type": "AwsS3Bucket", "Id": fmt.Sprintf("arn:aws:s3:::bench-bucket-%05d", k), "Partition": "aws", "Region": "us-east-1"}}
			batch = append(batch, fnd)
		}
		detail["findings"] = batch
		ev["id"] = fmt.Sprintf("bench-%d-%03d", run, i)
		payload, err := json.Marshal(ev)
		if err != nil {
			return out, err
		}
		res, err := f.Invoke(ctx, payload)
		if err != nil {
			return out, err
		}
		out.Events++
		out.Handling += res.Duration
		if res.Err != nil {
			out.FailedInvoc++
			return out, fmt.Errorf("event %d: respond failed: %w\nlogs:\n%s", i, res.Err, tail(res.Logs, 20))
		}
	}
	out.Elapsed = time.Since(start)
	out.PeakRSSKiB, err = peakRSS(bin)
	if err != nil {
		return out, err
	}
	out.Published = len(si.Published())
	out.AWSCalls = len(si.Calls())
	return out, nil
}

// peakRSS is the VmHWM of this process's running child executing bin.
// lambdarun keeps the process between invocations, so it is read while
// the process waits for its next event.
func peakRSS(bin string) (int64, error) {
	me := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("read /proc for the child's peak RSS (Linux only): %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != bin {
			continue
		}
		st, err := readStatus(pid)
		if err != nil || st["PPid"] != strconv.Itoa(me) {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(st["VmHWM"], " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM of pid %d = %q: %w", pid, st["VmHWM"], err)
		}
		return kb, nil
	}
	return 0, fmt.Errorf("no running child process of %d executes %s; cannot read its peak RSS", me, bin)
}

func readStatus(pid int) (map[string]string, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

func tail(b []byte, lines int) string {
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
