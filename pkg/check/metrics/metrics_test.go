package metrics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

type point struct {
	t time.Time
	v float64
}

// fakeSeries is one time series a query returns.
type fakeSeries struct {
	label  string
	points []point
}

// fakeCW answers GetMetricData from canned series keyed by query Id. It
// enforces the request rules the sampler must respect (at most 500
// queries; unique Ids matching CloudWatch's pattern; expressions naming
// only Ids of the same request; ScanBy TimestampAscending) and paginates
// pageSize data points at a time with NextToken.
type fakeCW struct {
	series   map[string][]fakeSeries
	status   map[string]types.StatusCode
	messages []types.MessageData // top-level, on the first page
	pageSize int                 // data points per page; 0: all
	// fail, when set, may fail a call before it is answered.
	fail   func(in *cloudwatch.GetMetricDataInput) error
	calls  int
	inputs []cloudwatch.GetMetricDataInput
}

var _ API = (*fakeCW)(nil)

func validation(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: msg, Fault: smithy.FaultClient}
}

func (f *fakeCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.calls++
	f.inputs = append(f.inputs, *in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.fail != nil {
		if err := f.fail(in); err != nil {
			return nil, err
		}
	}
	if n := len(in.MetricDataQueries); n == 0 || n > 500 {
		return nil, validation(fmt.Sprintf("%d MetricDataQueries; 1-500 allowed", n))
	}
	if in.ScanBy != types.ScanByTimestampAscending {
		return nil, validation("this fake wants ScanBy TimestampAscending")
	}
	start, end := aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)
	if !start.Before(end) {
		return nil, validation("StartTime must be before EndTime")
	}
	var ids []string
	for _, q := range in.MetricDataQueries {
		id := aws.ToString(q.Id)
		if !idPattern.MatchString(id) || slices.Contains(ids, id) {
			return nil, validation(fmt.Sprintf("bad or duplicate Id %q", id))
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, q := range in.MetricDataQueries {
		if q.Expression != nil {
			if _, err := rewriteExpression(*q.Expression, ids, func(s string) string { return s }, ""); err != nil {
				return nil, validation("expression " + *q.Expression + ": " + err.Error())
			}
		}
	}
	// Every returned point, in request order, then paginated.
	type flat struct {
		id, label string
		p         point
	}
	var all []flat
	var empty []string
	for _, q := range in.MetricDataQueries {
		if !aws.ToBool(q.ReturnData) && q.ReturnData != nil {
			continue
		}
		id := aws.ToString(q.Id)
		n := 0
		for _, s := range f.series[id] {
			for _, p := range s.points {
				if !p.t.Before(start) && p.t.Before(end) {
					all = append(all, flat{id, s.label, p})
					n++
				}
			}
		}
		if n == 0 {
			empty = append(empty, id)
		}
	}
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	to := len(all)
	out := &cloudwatch.GetMetricDataOutput{}
	if f.pageSize > 0 && from+f.pageSize < len(all) {
		to = from + f.pageSize
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	if from == 0 {
		out.Messages = f.messages
		for _, id := range empty {
			out.MetricDataResults = append(out.MetricDataResults, types.MetricDataResult{Id: aws.String(id), Label: aws.String(id), StatusCode: f.statusOf(id)})
		}
	}
	for _, p := range all[from:to] {
		k := slices.IndexFunc(out.MetricDataResults, func(r types.MetricDataResult) bool {
			return aws.ToString(r.Id) == p.id && aws.ToString(r.Label) == p.label
		})
		if k < 0 {
			out.MetricDataResults = append(out.MetricDataResults, types.MetricDataResult{Id: aws.String(p.id), Label: aws.String(p.label), StatusCode: f.statusOf(p.id)})
			k = len(out.MetricDataResults) - 1
		}
		r := &out.MetricDataResults[k]
		r.Timestamps = append(r.Timestamps, p.p.t)
		r.Values = append(r.Values, p.p.v)
		if out.NextToken != nil {
			r.StatusCode = types.StatusCodePartialData
		}
	}
	return out, nil
}

func (f *fakeCW) statusOf(id string) types.StatusCode {
	if s, ok := f.status[id]; ok {
		return s
	}
	return types.StatusCodeComplete
}

var (
	now = time.Date(2026, 11, 22, 8, 10, 30, 0, time.UTC)
	end = now.Truncate(time.Minute)
	at  = check.Sample{BakeStart: now.Add(-10 * time.Minute), Now: now, Number: 20}
)

// last returns vs as one-minute points ending at the sample's end,
// oldest first.
func last(vs ...float64) []fakeSeries {
	ps := make([]point, len(vs))
	for i, v := range vs {
		ps[i] = point{end.Add(-time.Duration(len(vs)-i) * time.Minute), v}
	}
	return []fakeSeries{{label: "s", points: ps}}
}

var errorsMetric = spec.MetricStat{Namespace: "AWS/ApplicationELB", Name: "HTTPCode_Target_5XX_Count", Dimensions: map[string]string{"LoadBalancer": "app/prod/1"}, Stat: "Sum"}

func single(expect string) spec.Check {
	return spec.Check{Name: "errors", Expect: expect, Metric: &spec.Metric{MetricStat: errorsMetric}}
}

func ratio(expect string) spec.Check {
	return spec.Check{Name: "error-rate", Expect: expect, Metric: &spec.Metric{
		Expression: "100*errors/requests",
		Metrics: map[string]spec.MetricStat{
			"errors":   errorsMetric,
			"requests": {Namespace: "AWS/ApplicationELB", Name: "RequestCount", Stat: "Sum"},
		},
	}}
}

func itemsOf(cs ...spec.Check) []check.Item {
	its := make([]check.Item, len(cs))
	for i, c := range cs {
		its[i] = check.Item{Index: i, Check: c}
	}
	return its
}

func newSampler(t testing.TB, f *fakeCW, cs ...spec.Check) check.Sampler {
	t.Helper()
	s, errs := New(Options{API: f}, itemsOf(cs...))
	if len(errs) > 0 {
		t.Fatalf("New errors: %v", errs)
	}
	return s
}

func TestSample(t *testing.T) {
	with := func(c spec.Check, mod func(*spec.Check)) spec.Check { mod(&c); return c }
	tests := []struct {
		name       string
		check      spec.Check
		series     []fakeSeries // for query Id m0
		status     types.StatusCode
		want       verdict.Verdict
		contains   []string
		wantValues map[string]float64
	}{
		{
			name:       "passes",
			check:      single("value < 5"),
			series:     last(1, 2, 3),
			want:       verdict.Succeeded,
			contains:   []string{"value 3 at 08:09Z", "3 points in the last 5m, oldest first: 1, 2, 3", "min 1, max 3, avg 2, sum 6"},
			wantValues: map[string]float64{"value": 3, "min": 1, "max": 3, "avg": 2, "sum": 6, "count": 3},
		},
		{
			name:     "fails on the newest value",
			check:    single("value < 5"),
			series:   last(1, 2, 9),
			want:     verdict.Failed,
			contains: []string{"value 9 at 08:09Z"},
		},
		{
			name:   "expr builtins work on values",
			check:  single("all(values, # < 5) && len(filter(values, # > 1)) == 2"),
			series: last(1, 2, 3),
			want:   verdict.Succeeded,
		},
		{
			name:   "values are oldest first",
			check:  single("values[0] < values[count-1] && len(values) == count"),
			series: last(1, 2, 9),
			want:   verdict.Succeeded,
		},
		{
			name:     "points outside the window are ignored",
			check:    single("max < 5"),
			series:   []fakeSeries{{points: []point{{end.Add(-9 * time.Minute), 100}, {end.Add(-time.Minute), 1}}}},
			want:     verdict.Succeeded,
			contains: []string{"1 points in the last 5m"},
		},
		{
			name:     "no data is inconclusive by default",
			check:    single("value < 5"),
			want:     verdict.Inconclusive,
			contains: []string{"0 data points in the last 5m; at least 1 needed (minSamples) — noData: inconclusive"},
		},
		{
			name:     "no data fails with noData fail",
			check:    with(single("value < 5"), func(c *spec.Check) { c.NoData = spec.PolicyFail }),
			want:     verdict.Failed,
			contains: []string{"noData: fail", "is the metric still published?"},
		},
		{
			name:  "no data passes with noData pass",
			check: with(single("value < 5"), func(c *spec.Check) { c.NoData = spec.PolicyPass }),
			want:  verdict.Succeeded,
		},
		{
			name:       "fewer than minSamples",
			check:      with(single("value < 5"), func(c *spec.Check) { c.MinSamples = 3 }),
			series:     last(1, 2),
			want:       verdict.Inconclusive,
			contains:   []string{"2 data points in the last 5m; at least 3 needed"},
			wantValues: map[string]float64{"count": 2},
		},
		{
			name:   "exactly minSamples",
			check:  with(single("value < 5"), func(c *spec.Check) { c.MinSamples = 3 }),
			series: last(1, 2, 3),
			want:   verdict.Succeeded,
		},
		{
			name:     "expect fails at run time",
			check:    single("values[7] < 5"),
			series:   last(1),
			want:     verdict.Error,
			contains: []string{`expect "values[7] < 5" failed to evaluate: index out of range`},
		},
		{
			name:     "partial data does not pass",
			check:    single("value < 5"),
			series:   last(1, 2),
			status:   types.StatusCodePartialData,
			want:     verdict.Inconclusive,
			contains: []string{"CloudWatch returned partial data"},
		},
		{
			name:   "partial data still fails",
			check:  single("value < 5"),
			series: last(1, 9),
			status: types.StatusCodePartialData,
			want:   verdict.Failed,
		},
		{
			name:     "forbidden query is an error",
			check:    single("value < 5"),
			series:   last(1),
			status:   types.StatusCodeForbidden,
			want:     verdict.Error,
			contains: []string{"CloudWatch answered Forbidden"},
		},
		{
			name:  "several series: the worst decides",
			check: single("value < 5"),
			series: []fakeSeries{
				{label: "i-1", points: last(1)[0].points},
				{label: "i-2", points: last(7)[0].points},
				{label: "i-3", points: last(2)[0].points},
			},
			want:       verdict.Failed,
			contains:   []string{"3 series, worst i-2: value 7", "i-1: value 1", "i-3: value 2"},
			wantValues: map[string]float64{"value": 7, "min": 7, "max": 7, "avg": 7, "sum": 7, "count": 1},
		},
		{
			name:     "a long window lists the newest values",
			check:    with(single("value < 5"), func(c *spec.Check) { c.Metric.Window = spec.Duration(time.Hour) }),
			series:   last(make([]float64, 30)...),
			want:     verdict.Succeeded,
			contains: []string{"30 points in the last 1h, oldest first: …20 earlier, 0, 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{series: map[string][]fakeSeries{"m0": tt.series}}
			if tt.status != "" {
				f.status = map[string]types.StatusCode{"m0": tt.status}
			}
			rs := newSampler(t, f, tt.check).Sample(context.Background(), at)
			if len(rs) != 1 {
				t.Fatalf("Sample returned %d results; want 1", len(rs))
			}
			r := rs[0]
			if r.Verdict != tt.want {
				t.Errorf("Sample(%s).Verdict = %v; want %v (observed %q)", tt.name, r.Verdict, tt.want, r.Observed)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Observed, s) {
					t.Errorf("Sample(%s).Observed = %q; want it to contain %q", tt.name, r.Observed, s)
				}
			}
			if tt.wantValues != nil {
				if d := cmp.Diff(tt.wantValues, r.Values); d != "" {
					t.Errorf("Sample(%s).Values mismatch (-want +got):\n%s", tt.name, d)
				}
			}
			if !strings.Contains(r.Expected, tt.check.Expect) || !strings.Contains(r.Target, "HTTPCode_Target_5XX_Count{LoadBalancer=app/prod/1} Sum") {
				t.Errorf("Sample(%s) Expected = %q, Target = %q; want the expect expression and the metric", tt.name, r.Expected, r.Target)
			}
		})
	}
}

func TestExpressionCheck(t *testing.T) {
	f := &fakeCW{series: map[string][]fakeSeries{"m0": last(1, 2, 6)}}
	r := newSampler(t, f, ratio("value < 5")).Sample(context.Background(), at)[0]
	if r.Verdict != verdict.Failed {
		t.Errorf("Sample(ratio).Verdict = %v (%s); want Failed", r.Verdict, r.Observed)
	}
	if want := "100*errors/requests where errors = AWS/ApplicationELB HTTPCode_Target_5XX_Count{LoadBalancer=app/prod/1} Sum, requests = AWS/ApplicationELB RequestCount Sum"; r.Target != want {
		t.Errorf("Target = %q; want %q", r.Target, want)
	}
	in := f.inputs[0]
	var got []string
	for _, q := range in.MetricDataQueries {
		s := aws.ToString(q.Id) + " return=" + strconv.FormatBool(aws.ToBool(q.ReturnData))
		if q.Expression != nil {
			s += " expr=" + *q.Expression
		} else {
			s += fmt.Sprintf(" stat=%s period=%d", aws.ToString(q.MetricStat.Stat), aws.ToInt32(q.MetricStat.Period))
		}
		got = append(got, s)
	}
	want := []string{
		"m0_errors return=false stat=Sum period=60",
		"m0_requests return=false stat=Sum period=60",
		"m0 return=true expr=100*m0_errors/m0_requests",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", d)
	}
}

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

func TestMetricsFunctionAcrossChecks(t *testing.T) {
	sum := func(ids ...string) spec.Check {
		c := ratio("value >= 0")
		c.Metric.Metrics = map[string]spec.MetricStat{}
		for _, id := range ids {
			c.Metric.Metrics[id] = errorsMetric
		}
		c.Metric.Expression = "SUM(METRICS())"
		return c
	}
	tests := []struct {
		name   string
		checks []spec.Check
		want   string // checks[0]'s expression as sent
	}{
		{"own ids only: filter by prefix", []spec.Check{sum("a", "b"), sum("c")}, "SUM(METRICS('m0_'))"},
		{"another check's id contains the prefix: explicit list", []spec.Check{sum("a", "b"), sum("xm0_y")}, "SUM([m0_a, m0_b])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{}
			newSampler(t, f, tt.checks...).Sample(context.Background(), at)
			var got string
			for _, q := range f.inputs[0].MetricDataQueries {
				if aws.ToString(q.Id) == "m0" {
					got = aws.ToString(q.Expression)
				}
			}
			if got != tt.want {
				t.Errorf("expression sent for checks[0] = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	m := func(mod func(*spec.Check)) spec.Check {
		c := ratio("value < 5")
		mod(&c)
		return c
	}
	s := func(mod func(*spec.Check)) spec.Check {
		c := single("value < 5")
		mod(&c)
		return c
	}
	tests := []struct {
		name  string
		check spec.Check
		want  []string // paths
	}{
		{"valid expression", ratio("value < 5"), nil},
		{"valid single", single("avg < 5 && count >= 3"), nil},
		{"no expect", s(func(c *spec.Check) { c.Expect = "" }), []string{"checks[0].expect"}},
		{"expect does not compile", s(func(c *spec.Check) { c.Expect = "value <" }), []string{"checks[0].expect"}},
		{"expect unknown variable", s(func(c *spec.Check) { c.Expect = "p99 < 5" }), []string{"checks[0].expect"}},
		{"expect not a bool", s(func(c *spec.Check) { c.Expect = "value" }), []string{"checks[0].expect"}},
		{"bad stat", s(func(c *spec.Check) { c.Metric.Stat = "avg" }), []string{"checks[0].metric.stat"}},
		{"bad unit", s(func(c *spec.Check) { c.Metric.Unit = "ms" }), []string{"checks[0].metric.unit"}},
		{"period not whole minutes", s(func(c *spec.Check) { c.Metric.Period = spec.Duration(90 * time.Second) }), []string{"checks[0].metric.period"}},
		{"window shorter than period", s(func(c *spec.Check) { c.Metric.Period = spec.Duration(10 * time.Minute) }), []string{"checks[0].metric.window"}},
		{"window not whole periods", s(func(c *spec.Check) {
			c.Metric.Period, c.Metric.Window = spec.Duration(2*time.Minute), spec.Duration(5*time.Minute)
		}), []string{"checks[0].metric.window"}},
		{"window too long", s(func(c *spec.Check) { c.Metric.Window = spec.Duration(400 * time.Hour) }), []string{"checks[0].metric.window"}},
		{"bad noData", s(func(c *spec.Check) { c.NoData = "ignore" }), []string{"checks[0].noData"}},
		{"negative minSamples", s(func(c *spec.Check) { c.MinSamples = -1 }), []string{"checks[0].minSamples"}},
		{"both kinds of metric", s(func(c *spec.Check) { c.Metric.Expression = "a" }), []string{"checks[0].metric"}},
		{"neither", s(func(c *spec.Check) { c.Metric.MetricStat = spec.MetricStat{} }), []string{"checks[0].metric"}},
		{"no namespace", s(func(c *spec.Check) { c.Metric.Namespace = "" }), []string{"checks[0].metric.namespace"}},
		{"bad metric id", m(func(c *spec.Check) { c.Metric.Metrics["Errors"] = errorsMetric }), []string{"checks[0].metric.metrics.Errors"}},
		{"unknown id in expression", m(func(c *spec.Check) { c.Metric.Expression = "errors/reqs" }), []string{"checks[0].metric.expression"}},
		{"no metrics", m(func(c *spec.Check) { c.Metric.Metrics = nil }), []string{"checks[0].metric.metrics", "checks[0].metric.expression"}},
		{"bad stat in metrics", m(func(c *spec.Check) {
			c.Metric.Metrics["errors"] = spec.MetricStat{Namespace: "N", Name: "n", Stat: "p999"}
		}), []string{"checks[0].metric.metrics.errors.stat"}},
		{"metrics insights", m(func(c *spec.Check) { c.Metric.Expression = "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")" }), []string{"checks[0].metric.expression"}},
		{"expression too long", m(func(c *spec.Check) { c.Metric.Expression = strings.Repeat("errors+", 300) + "errors" }), []string{"checks[0].metric.expression"}},
		{"every problem at once", m(func(c *spec.Check) {
			c.Expect, c.NoData = "", "x"
			c.Metric.Period = spec.Duration(30 * time.Second)
			c.Metric.Metrics["requests"] = spec.MetricStat{Namespace: "N", Name: "n", Unit: "furlongs"}
		}), []string{"checks[0].noData", "checks[0].metric.period", "checks[0].expect", "checks[0].metric.metrics.requests.unit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := New(Options{API: &fakeCW{}}, itemsOf(tt.check))
			var got []string
			for _, e := range errs {
				got = append(got, e.Path)
				if e.Msg == "" {
					t.Errorf("error at %s has no message", e.Path)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("New(%s) error paths mismatch (-want +got):\n%s\nerrors: %v", tt.name, d, errs)
			}
			if (s == nil) != (len(tt.want) > 0) {
				t.Errorf("New(%s) sampler = %v with %d errors; want a sampler exactly when there are no errors", tt.name, s, len(errs))
			}
		})
	}
}

func TestTooManyMetricsForOneCheck(t *testing.T) {
	c := ratio("value > 0")
	c.Metric.Metrics = map[string]spec.MetricStat{}
	for i := range 500 {
		c.Metric.Metrics[fmt.Sprintf("q%d", i)] = errorsMetric
	}
	c.Metric.Expression = "SUM(METRICS())"
	_, errs := New(Options{API: &fakeCW{}}, itemsOf(c))
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	if !slices.Contains(paths, "checks[0].metric.metrics") {
		t.Errorf("New(500 metrics and an expression) errors = %v; want one at checks[0].metric.metrics", errs)
	}
}

func TestNewWithoutClient(t *testing.T) {
	_, errs := New(Options{}, itemsOf(single("value < 1")))
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "Options.API is nil") {
		t.Errorf("New(no API) errors = %v; want one naming the missing client", errs)
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

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:            "5m",
		time.Hour:                  "1h",
		90 * time.Second:           "1m30s",
		90 * time.Minute:           "1h30m",
		24 * time.Hour:             "24h",
		time.Hour + 30*time.Second: "1h0m30s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q; want %q", d, got, want)
		}
	}
}

func TestNoChecks(t *testing.T) {
	f := &fakeCW{}
	if rs := newSampler(t, f).Sample(context.Background(), at); len(rs) != 0 || f.calls != 0 {
		t.Errorf("Sample with no checks = %d results, %d calls; want 0, 0", len(rs), f.calls)
	}
}
