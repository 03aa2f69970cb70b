package metrics

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

var _ API = (*cloudwatch.Client)(nil)

// TestRealClient runs the sampler with the real *cloudwatch.Client over
// its default wire protocol against the project's local AWS stand-in,
// which evaluates the rewritten metric math itself.
func TestRealClient(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 30, 0, time.UTC)
	lb := map[string]string{"LoadBalancer": "app/prod/1"}
	constant := func(name string, v float64) standin.Series {
		return standin.Series{Namespace: "AWS/ApplicationELB", MetricName: name, Dimensions: lb, Generator: &standin.Generator{Kind: "constant", Value: v}}
	}
	sc := standin.Scenario{Metrics: []standin.Series{
		constant("HTTPCode_Target_5XX_Count", 3),
		constant("RequestCount", 100),
		constant("TargetResponseTime", 0.9),
	}}
	srv := standin.StartT(t, sc, standin.WithClock(func() time.Time { return now }))
	cw := cloudwatch.NewFromConfig(srv.Config())
	elb := func(name, stat string) spec.MetricStat {
		return spec.MetricStat{Namespace: "AWS/ApplicationELB", Name: name, Dimensions: lb, Stat: stat}
	}
	checks := []spec.Check{
		{Name: "error-rate", Expect: "value < 5 && count == 5", Metric: &spec.Metric{
			Expression: "100*errors/requests",
			Metrics:    map[string]spec.MetricStat{"errors": elb("HTTPCode_Target_5XX_Count", "Sum"), "requests": elb("RequestCount", "Sum")},
		}},
		{Name: "latency", Expect: "max < 0.5", Metric: &spec.Metric{MetricStat: elb("TargetResponseTime", "p99")}},
		{Name: "absent", Expect: "value < 1", NoData: spec.PolicyFail, Metric: &spec.Metric{MetricStat: elb("NoSuchMetric", "Sum")}},
	}
	sampler, errs := New(Options{API: cw}, itemsOf(checks...))
	if len(errs) > 0 {
		t.Fatalf("New: %v", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	at := check.Sample{BakeStart: now.Add(-5 * time.Minute), Now: now}

	rs := sampler.Sample(ctx, at)
	want := []struct {
		v    verdict.Verdict
		text string
	}{
		{verdict.Succeeded, "value 3 at 11:59Z; 5 points"},
		{verdict.Failed, "max 0.9"},
		{verdict.Failed, "0 data points in the last 5m"},
	}
	for i, w := range want {
		if rs[i].Verdict != w.v || !strings.Contains(rs[i].Observed, w.text) {
			t.Errorf("check %d = %v %q; want %v containing %q", i, rs[i].Verdict, rs[i].Observed, w.v, w.text)
		}
	}
	if n := len(srv.CallsTo(standin.CloudWatch, "GetMetricData")); n != 1 {
		t.Errorf("GetMetricData calls = %d; want 1", n)
	}

	// The stand-in rejects FILL with a ValidationError, as CloudWatch
	// rejects a bad expression: only that check should end in Error.
	withBad := slices.Concat(checks[:2], []spec.Check{{Name: "bad", Expect: "value < 1", Metric: &spec.Metric{
		Expression: "FILL(errors, 0)",
		Metrics:    map[string]spec.MetricStat{"errors": elb("HTTPCode_Target_5XX_Count", "Sum")},
	}}})
	isolating, errs := New(Options{API: cw}, itemsOf(withBad...))
	if len(errs) > 0 {
		t.Fatalf("New: %v", errs)
	}
	srv.ResetCalls()
	rs = isolating.Sample(ctx, at)
	for i, v := range []verdict.Verdict{verdict.Succeeded, verdict.Failed, verdict.Error} {
		if rs[i].Verdict != v {
			t.Errorf("with a rejected expression: check %d = %v %q; want %v", i, rs[i].Verdict, rs[i].Observed, v)
		}
	}
	if !strings.Contains(rs[2].Observed, "ValidationError") {
		t.Errorf("rejected check Observed = %q; want CloudWatch's ValidationError", rs[2].Observed)
	}
	if n := len(srv.CallsTo(standin.CloudWatch, "GetMetricData")); n != 4 {
		t.Errorf("GetMetricData calls with a rejected expression = %d; want 4 (the batch, then each of 3 checks)", n)
	}

	srv.ResetCalls()
	srv.Inject(standin.CloudWatch, "GetMetricData", standin.Fault{Kind: standin.FaultServerError, Status: 503, Code: "ServiceUnavailable"})
	for i, r := range sampler.Sample(ctx, at) {
		if r.Verdict != verdict.Error || !strings.Contains(r.Observed, "ServiceUnavailable") {
			t.Errorf("503: check %d = %v %q; want Error naming the failure", i, r.Verdict, r.Observed)
		}
	}
	if n := len(srv.CallsTo(standin.CloudWatch, "GetMetricData")); n != 1 {
		t.Errorf("GetMetricData calls with a 503 = %d; want 1 (no per-check retry on a server fault)", n)
	}
}
