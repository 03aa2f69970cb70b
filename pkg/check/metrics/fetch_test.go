package metrics

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func TestOneCallForAllChecks(t *testing.T) {
	five := func(c spec.Check, window time.Duration, period time.Duration) spec.Check {
		c.Metric.Window, c.Metric.Period = spec.Duration(window), spec.Duration(period)
		return c
	}
	f := &fakeCW{series: map[string][]fakeSeries{
		"m0": last(1), "m1": last(1), "m2": last(1),
	}}
	rs := newSampler(t, f,
		ratio("value < 5"),
		five(single("value < 5"), 15*time.Minute, 5*time.Minute),
		five(single("value < 5"), 7*time.Minute, time.Minute),
	).Sample(context.Background(), at)
	if f.calls != 1 {
		t.Fatalf("GetMetricData calls = %d; want 1", f.calls)
	}
	for i, r := range rs {
		if r.Verdict != verdict.Succeeded {
			t.Errorf("check %d = %v (%s); want Succeeded", i, r.Verdict, r.Observed)
		}
	}
	in := f.inputs[0]
	// The longest window, rounded up to whole 5-minute periods: 15m.
	if got, want := aws.ToTime(in.StartTime), end.Add(-15*time.Minute); !got.Equal(want) {
		t.Errorf("StartTime = %v; want %v", got, want)
	}
	if got := aws.ToTime(in.EndTime); !got.Equal(end) {
		t.Errorf("EndTime = %v; want %v (the sample time, whole minutes)", got, end)
	}
	var returned []string
	for _, q := range in.MetricDataQueries {
		if aws.ToBool(q.ReturnData) {
			returned = append(returned, aws.ToString(q.Id))
		}
	}
	if d := cmp.Diff([]string{"m0", "m1", "m2"}, returned); d != "" {
		t.Errorf("queries with ReturnData mismatch (-want +got):\n%s", d)
	}
}

func TestStartTimeSpansEveryPeriod(t *testing.T) {
	c5 := single("value < 5")
	c5.Metric.Period, c5.Metric.Window = spec.Duration(5*time.Minute), spec.Duration(5*time.Minute)
	c7 := single("value < 5")
	c7.Metric.Window = spec.Duration(7 * time.Minute)
	f := &fakeCW{}
	newSampler(t, f, c5, c7).Sample(context.Background(), at)
	// 7m is not a whole number of 5-minute periods: the span grows to 10m.
	if got, want := aws.ToTime(f.inputs[0].StartTime), end.Add(-10*time.Minute); !got.Equal(want) {
		t.Errorf("StartTime = %v; want %v", got, want)
	}
}

func TestPagination(t *testing.T) {
	f := &fakeCW{series: map[string][]fakeSeries{"m0": last(1, 2, 3, 4), "m1": last(5, 6, 7, 8)}, pageSize: 3}
	rs := newSampler(t, f, single("count == 4 && value == 4"), single("count == 4 && sum == 26")).Sample(context.Background(), at)
	if f.calls != 3 {
		t.Errorf("GetMetricData calls = %d; want 3 (8 points, 3 a page)", f.calls)
	}
	for i, r := range rs {
		if r.Verdict != verdict.Succeeded {
			t.Errorf("check %d = %v (%s); want Succeeded with every page merged", i, r.Verdict, r.Observed)
		}
	}
	for i, in := range f.inputs[1:] {
		if aws.ToString(in.NextToken) == "" {
			t.Errorf("call %d has no NextToken", i+1)
		}
	}
}

func TestMessagesAreShown(t *testing.T) {
	f := &fakeCW{series: map[string][]fakeSeries{"m0": last(1)}, messages: []types.MessageData{{Code: aws.String("MaxQueryTimeRangeExceed"), Value: aws.String("trimmed")}}}
	r := newSampler(t, f, single("value < 5")).Sample(context.Background(), at)[0]
	if !strings.Contains(r.Observed, "MaxQueryTimeRangeExceed: trimmed") {
		t.Errorf("Observed = %q; want the call's message", r.Observed)
	}
}

func TestThrottlingIsAnError(t *testing.T) {
	f := &fakeCW{fail: func(*cloudwatch.GetMetricDataInput) error {
		return &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient}
	}}
	rs := newSampler(t, f, single("value < 5"), ratio("value < 5")).Sample(context.Background(), at)
	if f.calls != 1 {
		t.Errorf("GetMetricData calls = %d; want 1 (no per-check retry when throttled)", f.calls)
	}
	for i, r := range rs {
		if r.Verdict != verdict.Error || !strings.Contains(r.Observed, "Rate exceeded") {
			t.Errorf("check %d = %v %q; want Error with the throttling message", i, r.Verdict, r.Observed)
		}
	}
}

func TestRejectedRequestIsolatesTheCheck(t *testing.T) {
	bad := ratio("value < 5")
	bad.Metric.Expression = "100*errors/requests + RATE_OF_NONSENSE(errors)"
	f := &fakeCW{
		series: map[string][]fakeSeries{"m0": last(1)},
		fail: func(in *cloudwatch.GetMetricDataInput) error {
			for _, q := range in.MetricDataQueries {
				if strings.Contains(aws.ToString(q.Expression), "NONSENSE") {
					return validation("Unknown function RATE_OF_NONSENSE")
				}
			}
			return nil
		},
	}
	rs := newSampler(t, f, single("value < 5"), bad).Sample(context.Background(), at)
	if f.calls != 3 {
		t.Errorf("GetMetricData calls = %d; want 3 (the batch, then each check alone)", f.calls)
	}
	if rs[0].Verdict != verdict.Succeeded {
		t.Errorf("good check = %v (%s); want Succeeded", rs[0].Verdict, rs[0].Observed)
	}
	if rs[1].Verdict != verdict.Error || !strings.Contains(rs[1].Observed, "RATE_OF_NONSENSE") {
		t.Errorf("bad check = %v %q; want Error naming the rejected function", rs[1].Verdict, rs[1].Observed)
	}
}

func TestSplitBeyond500(t *testing.T) {
	big := func(n int) spec.Check {
		c := ratio("value >= 0")
		c.Metric.Metrics = map[string]spec.MetricStat{}
		for i := range n {
			c.Metric.Metrics[fmt.Sprintf("q%d", i)] = errorsMetric
		}
		c.Metric.Expression = "SUM(METRICS())"
		return c
	}
	f := &fakeCW{}
	rs := newSampler(t, f, big(299), big(199), big(2)).Sample(context.Background(), at)
	if got := aws.ToString(f.inputs[0].MetricDataQueries[299].Expression); got != "SUM(METRICS('m0_'))" {
		t.Errorf("expression of checks[0] = %q; want SUM(METRICS('m0_'))", got)
	}
	for i, r := range rs {
		if r.Verdict != verdict.Inconclusive {
			t.Errorf("check %d = %v (%s); want Inconclusive (no data)", i, r.Verdict, r.Observed)
		}
	}
	var sizes []int
	for _, in := range f.inputs {
		sizes = append(sizes, len(in.MetricDataQueries))
	}
	if d := cmp.Diff([]int{500, 3}, sizes); d != "" {
		t.Errorf("queries per call mismatch (-want +got):\n%s", d)
	}
}

// checks500 is 100 expression checks of 4 metrics each: 500 queries.
func checks500() []spec.Check {
	var cs []spec.Check
	for i := range 100 {
		c := ratio("value < 5")
		c.Name = fmt.Sprintf("rate-%d", i)
		c.Metric.Metrics["e4xx"] = errorsMetric
		c.Metric.Metrics["e5xx"] = errorsMetric
		c.Metric.Expression = "100*(errors+e4xx+e5xx)/requests"
		cs = append(cs, c)
	}
	return cs
}

func TestCallBudget500(t *testing.T) {
	f := &fakeCW{}
	rs := newSampler(t, f, checks500()...).Sample(context.Background(), at)
	if f.calls != 1 || len(f.inputs[0].MetricDataQueries) != 500 {
		t.Errorf("500 queries cost %d GetMetricData calls; want 1 with 500 queries", f.calls)
	}
	if len(rs) != 100 {
		t.Errorf("Sample returned %d results; want 100", len(rs))
	}
}

func BenchmarkMetrics500(b *testing.B) {
	series := map[string][]fakeSeries{}
	for i := range 100 {
		series["m"+strconv.Itoa(i)] = last(1, 2, 3, 4, 5)
	}
	f := &fakeCW{series: series}
	s := newSampler(b, f, checks500()...)
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s.Sample(ctx, at)
		n++
	}
	b.ReportMetric(float64(f.calls)/float64(n), "calls/op")
}

func TestNoChecks(t *testing.T) {
	f := &fakeCW{}
	if rs := newSampler(t, f).Sample(context.Background(), at); len(rs) != 0 || f.calls != 0 {
		t.Errorf("Sample with no checks = %d results, %d calls; want 0, 0", len(rs), f.calls)
	}
}
