package compare

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

var (
	testNow       = time.Date(2026, 11, 22, 9, 0, 30, 0, time.UTC)
	testBakeStart = time.Date(2026, 11, 22, 8, 25, 0, 0, time.UTC) // 35 complete minutes before testNow
)

func validCheck() spec.Check {
	return spec.Check{Name: "latency", Compare: &spec.Compare{
		Baseline: spec.Series{MetricStat: spec.MetricStat{
			Namespace: "AWS/ApplicationELB", Name: "TargetResponseTime", Stat: "p95",
			Dimensions: map[string]string{"TargetGroup": "blue"},
		}},
		Canary: spec.Series{MetricStat: spec.MetricStat{
			Namespace: "AWS/ApplicationELB", Name: "TargetResponseTime", Stat: "p95",
			Dimensions: map[string]string{"TargetGroup": "green"},
		}},
		Tolerance: 0.2,
	}}
}

func mustCompile(t *testing.T, ch spec.Check) compiled {
	t.Helper()
	c, errs := compile(check.Item{Index: 3, Check: ch})
	if len(errs) > 0 {
		t.Fatalf("compile(%+v) = %v; want no errors", ch, errs)
	}
	return c
}

func newSampler(t *testing.T, api API, checks ...spec.Check) check.Sampler {
	t.Helper()
	items := make([]check.Item, len(checks))
	for i, ch := range checks {
		items[i] = check.Item{Index: i, Check: ch}
	}
	s, errs := New(Options{API: api, Now: func() time.Time { return testNow }}, items)
	if len(errs) > 0 {
		t.Fatalf("New = %v; want no errors", errs)
	}
	return s
}

func sampleOne(t *testing.T, api API, ch spec.Check, bakeStart time.Time) verdict.Result {
	t.Helper()
	rs := newSampler(t, api, ch).Sample(context.Background(), check.Sample{BakeStart: bakeStart, Now: testNow})
	if len(rs) != 1 {
		t.Fatalf("Sample returned %d results; want 1", len(rs))
	}
	assertResultFinite(t, rs[0])
	return rs[0]
}

// The first "done when": a canary whose p95 latency is 30% above
// the baseline's, over 35 one-minute points, fails with the evidence.
func TestCanaryThirtyPercentSlowerFails(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.200, 0.05),
		"TargetGroup=green": noisy(2, 0.260, 0.05),
	}}
	r := sampleOne(t, api, validCheck(), testBakeStart)
	if r.Verdict != verdict.Failed {
		t.Fatalf("Sample(30%% slower canary).Verdict = %v (%s); want Failed", r.Verdict, r.Observed)
	}
	for _, side := range []string{"baseline", "canary"} {
		n, out := r.Values["n_"+side], r.Values["outliers_"+side]
		if n+out != 35 || n < 30 {
			t.Errorf("Values n_%s, outliers_%s = %v, %v; want 35 points in all, at least 30 used", side, side, n, out)
		}
	}
	if c := r.Values["change_pct"]; c < 25 || c > 35 {
		t.Errorf("Values[change_pct] = %v; want about 30", c)
	}
	if p := r.Values["p_value"]; !(p < 1e-6) {
		t.Errorf("Values[p_value] = %v; want < 1e-6", p)
	}
	if b, c := r.Values["baseline_median"], r.Values["canary_median"]; b < 0.19 || b > 0.21 || c < 0.25 || c > 0.27 {
		t.Errorf("Values medians baseline, canary = %v, %v; want about 0.2 and 0.26", b, c)
	}
	for _, want := range []string{"canary median 0.2", "vs baseline median 0.", "(+", "p=", "(one-sided Mann-Whitney U=", " baseline, 35 canary", "significantly worse", "roll it back"} {
		if !strings.Contains(r.Observed, want) {
			t.Errorf("Observed = %q; want it to contain %q", r.Observed, want)
		}
	}
	if want := "no increase above 20% at 95% confidence (one-sided Mann-Whitney p < 0.05), at least 10 points per series"; r.Expected != want {
		t.Errorf("Expected = %q; want %q", r.Expected, want)
	}
	if want := "p95 AWS/ApplicationELB TargetResponseTime: canary (TargetGroup=green) vs baseline (TargetGroup=blue)"; r.Target != want {
		t.Errorf("Target = %q; want %q", r.Target, want)
	}
}

// The second "done when": identical series pass.
func TestIdenticalSeriesPass(t *testing.T) {
	same := noisy(7, 0.200, 0.2)
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  same,
		"TargetGroup=green": same,
	}}
	r := sampleOne(t, api, validCheck(), testBakeStart)
	if r.Verdict != verdict.Succeeded {
		t.Fatalf("Sample(identical series).Verdict = %v (%s); want Succeeded", r.Verdict, r.Observed)
	}
	if r.Values["change_pct"] != 0 || r.Values["p_value"] < 0.5 {
		t.Errorf("Values change_pct, p_value = %v, %v; want 0 and ≥ 0.5", r.Values["change_pct"], r.Values["p_value"])
	}
	if !strings.Contains(r.Observed, "(+0.0%)") {
		t.Errorf("Observed = %q; want it to show (+0.0%%)", r.Observed)
	}
}

// The third "done when": 3 points per series are Inconclusive,
// with the counts.
func TestThreeSamplesInconclusive(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.200, 0.05),
		"TargetGroup=green": noisy(2, 0.600, 0.05),
	}}
	r := sampleOne(t, api, validCheck(), testNow.Add(-3*time.Minute).Truncate(time.Minute))
	if r.Verdict != verdict.Inconclusive {
		t.Fatalf("Sample(3 points).Verdict = %v (%s); want Inconclusive", r.Verdict, r.Observed)
	}
	if want := "too few data points to compare: baseline 3, canary 3 (need at least 10 per series)"; !strings.HasPrefix(r.Observed, want) {
		t.Errorf("Observed = %q; want it to start %q", r.Observed, want)
	}
	if diff := cmp.Diff(map[string]float64{"n_baseline": 3, "n_canary": 3}, r.Values); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*spec.Check)
		paths []string
	}{
		{"valid", func(*spec.Check) {}, nil},
		{"no compare section", func(c *spec.Check) { c.Compare = nil }, []string{"checks[3].compare"}},
		{"unknown direction", func(c *spec.Check) { c.Compare.Direction = "up" }, []string{"checks[3].compare.direction"}},
		{"unknown test", func(c *spec.Check) { c.Compare.Test = "t-test" }, []string{"checks[3].compare.test"}},
		{"confidence 1.5", func(c *spec.Check) { c.Compare.Confidence = 1.5 }, []string{"checks[3].compare.confidence"}},
		{"confidence 1", func(c *spec.Check) { c.Compare.Confidence = 1 }, []string{"checks[3].compare.confidence"}},
		{"negative confidence", func(c *spec.Check) { c.Compare.Confidence = -0.1 }, []string{"checks[3].compare.confidence"}},
		{"negative tolerance", func(c *spec.Check) { c.Compare.Tolerance = -0.1 }, []string{"checks[3].compare.tolerance"}},
		{"period 90s", func(c *spec.Check) { c.Compare.Period = spec.Duration(90 * time.Second) }, []string{"checks[3].compare.period"}},
		{"period 2 days", func(c *spec.Check) { c.Compare.Period = spec.Duration(48 * time.Hour) }, []string{"checks[3].compare.period"}},
		{"window shorter than a period", func(c *spec.Check) { c.Compare.Window = spec.Duration(30 * time.Second) }, []string{"checks[3].compare.window"}},
		{"window shorter than minSamples periods", func(c *spec.Check) { c.Compare.Window = spec.Duration(5 * time.Minute) }, []string{"checks[3].compare.window"}},
		{"window fits lowered minSamples", func(c *spec.Check) { c.Compare.Window = spec.Duration(5 * time.Minute); c.MinSamples = 5 }, nil},
		{"baseline without metric", func(c *spec.Check) {
			c.Compare.Baseline.MetricStat = spec.MetricStat{Dimensions: map[string]string{"TargetGroup": "blue"}}
		}, []string{
			"checks[3].compare.baseline.namespace", "checks[3].compare.baseline.name", "checks[3].compare.baseline.stat",
		}},
		{"canary without stat", func(c *spec.Check) { c.Compare.Canary.Stat = "" }, []string{"checks[3].compare.canary.stat"}},
		{"unknown stat", func(c *spec.Check) { c.Compare.Canary.Stat = "p95x" }, []string{"checks[3].compare.canary.stat"}},
		{"extended stats", func(c *spec.Check) { c.Compare.Canary.Stat = "p99.9"; c.Compare.Baseline.Stat = "TM(10%:90%)" }, nil},
		{"unknown unit", func(c *spec.Check) { c.Compare.Canary.Unit = "Parsecs" }, []string{"checks[3].compare.canary.unit"}},
		{"empty dimension value", func(c *spec.Check) { c.Compare.Canary.Dimensions = map[string]string{"TargetGroup": ""} }, []string{"checks[3].compare.canary.dimensions"}},
		{"same data on both sides", func(c *spec.Check) { c.Compare.Canary = c.Compare.Baseline }, []string{"checks[3].compare"}},
		{"same metric before the bake", func(c *spec.Check) { c.Compare.Canary = c.Compare.Baseline; c.Compare.Baseline.BeforeBake = true }, nil},
		{"offset past 1-minute retention", func(c *spec.Check) { c.Compare.Baseline.Offset = spec.Duration(30 * 24 * time.Hour) }, []string{"checks[3].compare.baseline.offset"}},
		{"offset past 1-minute retention, 5m period", func(c *spec.Check) {
			c.Compare.Baseline.Offset = spec.Duration(30 * 24 * time.Hour)
			c.Compare.Period = spec.Duration(5 * time.Minute)
		}, nil},
		{"offset past all retention", func(c *spec.Check) {
			c.Compare.Baseline.Offset = spec.Duration(500 * 24 * time.Hour)
			c.Compare.Period = spec.Duration(time.Hour)
		}, []string{"checks[3].compare.baseline.offset"}},
		{"negative period", func(c *spec.Check) { c.Compare.Period = spec.Duration(-time.Minute) }, []string{"checks[3].compare.period"}},
		{"negative offset", func(c *spec.Check) { c.Compare.Canary.Offset = spec.Duration(-time.Hour) }, []string{"checks[3].compare.canary.offset"}},
		{"expect is not used", func(c *spec.Check) { c.Expect = "value < 3" }, []string{"checks[3].expect"}},
		{"unknown noData", func(c *spec.Check) { c.NoData = "maybe" }, []string{"checks[3].noData"}},
		{"negative minSamples", func(c *spec.Check) { c.MinSamples = -1 }, []string{"checks[3].minSamples"}},
		{"every problem at once", func(c *spec.Check) {
			c.Compare.Direction = "sideways"
			c.Compare.Confidence = 2
			c.Compare.Canary.Namespace = ""
		}, []string{"checks[3].compare.direction", "checks[3].compare.confidence", "checks[3].compare.canary.namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := validCheck()
			tt.edit(&ch)
			s, errs := New(Options{API: &fake{}}, []check.Item{{Index: 3, Check: ch}})
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Path)
				if e.Msg == "" {
					t.Errorf("error at %s has no message", e.Path)
				}
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("New errors %v: paths (-want +got):\n%s", errs, diff)
			}
			if (s == nil) != (len(tt.paths) > 0) {
				t.Errorf("New sampler = %v with %d errors; want a sampler exactly when there are none", s, len(errs))
			}
		})
	}
}

func TestNewNeedsAPI(t *testing.T) {
	if s, errs := New(Options{}, []check.Item{{Index: 0, Check: validCheck()}}); s != nil || len(errs) != 1 {
		t.Errorf("New(no API) = %v, %v; want nil and one error", s, errs)
	}
}

func TestSampleOneCallForAllChecks(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.2, 0.05),
		"TargetGroup=green": noisy(2, 0.2, 0.05),
		"TargetGroup=red":   noisy(3, 0.5, 0.05),
	}}
	red := validCheck()
	red.Compare.Canary.Dimensions = map[string]string{"TargetGroup": "red"}
	decrease := validCheck()
	decrease.Compare.Direction = DirectionDecrease
	rs := newSampler(t, api, validCheck(), red, decrease).Sample(context.Background(), check.Sample{BakeStart: testBakeStart, Now: testNow})
	if len(api.calls) != 1 {
		t.Fatalf("GetMetricData called %d times; want 1", len(api.calls))
	}
	var ids []string
	for _, q := range api.calls[0].MetricDataQueries {
		ids = append(ids, aws.ToString(q.Id))
	}
	if diff := cmp.Diff([]string{"b0", "c0", "b1", "c1", "b2", "c2"}, ids); diff != "" {
		t.Errorf("query ids (-want +got):\n%s", diff)
	}
	in := api.calls[0]
	if got, want := aws.ToTime(in.StartTime), testBakeStart; !got.Equal(want) {
		t.Errorf("StartTime = %v; want %v", got, want)
	}
	if got, want := aws.ToTime(in.EndTime), testNow.Truncate(time.Minute); !got.Equal(want) {
		t.Errorf("EndTime = %v; want %v", got, want)
	}
	q := in.MetricDataQueries[1].MetricStat
	if aws.ToInt32(q.Period) != 60 || aws.ToString(q.Stat) != "p95" || aws.ToString(q.Metric.MetricName) != "TargetResponseTime" {
		t.Errorf("canary query = period %d, stat %q, name %q; want 60, p95, TargetResponseTime", aws.ToInt32(q.Period), aws.ToString(q.Stat), aws.ToString(q.Metric.MetricName))
	}
	got := []verdict.Verdict{rs[0].Verdict, rs[1].Verdict, rs[2].Verdict}
	if diff := cmp.Diff([]verdict.Verdict{verdict.Succeeded, verdict.Failed, verdict.Succeeded}, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
}

func TestSamplePaginates(t *testing.T) {
	series := map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.2, 0.05),
		"TargetGroup=green": noisy(2, 0.3, 0.05),
	}
	whole := sampleOne(t, &fake{series: series}, validCheck(), testBakeStart)
	paged := &fake{series: series, pageSize: 7}
	got := sampleOne(t, paged, validCheck(), testBakeStart)
	if len(paged.calls) != 10 { // 70 points, 7 a page
		t.Errorf("GetMetricData called %d times for 70 points 7 a page; want 10", len(paged.calls))
	}
	for i, in := range paged.calls[1:] {
		if aws.ToString(in.NextToken) == "" {
			t.Errorf("call %d has no NextToken", i+2)
		}
	}
	whole.Duration, got.Duration = 0, 0
	if diff := cmp.Diff(whole, got); diff != "" {
		t.Errorf("paged result differs from unpaged (-unpaged +paged):\n%s", diff)
	}
}

func TestSampleErrors(t *testing.T) {
	series := map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.2, 0.05),
		"TargetGroup=green": noisy(2, 0.2, 0.05),
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		api  *fake
		want []string
	}{
		{"API error", context.Background(), &fake{err: errors.New("throttled")}, []string{"could not read the metrics", "throttled", "cloudwatch:GetMetricData"}},
		{"forbidden query", context.Background(), &fake{series: series, status: map[string]types.StatusCode{"c0": types.StatusCodeForbidden}}, []string{"query c0: status Forbidden"}},
		{"canceled", canceled, &fake{series: series}, []string{"ran out of time", "context canceled"}},
		{"deadline", context.Background(), &fake{err: context.DeadlineExceeded}, []string{"ran out of time", "deadline exceeded"}},
		{"malformed", context.Background(), &fake{series: series, mangle: func(o *cloudwatch.GetMetricDataOutput) {
			o.MetricDataResults[0].Values = o.MetricDataResults[0].Values[1:]
		}}, []string{"query b0: 35 timestamps for 34 values"}},
		{"endless pages", context.Background(), &fake{series: series, mangle: func(o *cloudwatch.GetMetricDataOutput) {
			o.NextToken = aws.String("0")
		}}, []string{"after 100 pages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newSampler(t, tt.api, validCheck()).Sample(tt.ctx, check.Sample{BakeStart: testBakeStart, Now: testNow})
			if len(rs) != 1 || rs[0].Verdict != verdict.Error {
				t.Fatalf("Sample = %+v; want one Error result", rs)
			}
			for _, w := range tt.want {
				if !strings.Contains(rs[0].Observed, w) {
					t.Errorf("Observed = %q; want it to contain %q", rs[0].Observed, w)
				}
			}
			if rs[0].Target == "" || rs[0].Expected == "" {
				t.Errorf("Error result %+v; want Target and Expected set", rs[0])
			}
		})
	}
}

func TestSampleWindows(t *testing.T) {
	// One metric whose level doubles when the bake starts.
	stepAtBake := func(t time.Time) (float64, bool) {
		v, _ := noisy(5, 100, 0.05)(t)
		if !t.Before(testBakeStart) {
			v *= 2
		}
		return v, true
	}
	// One metric whose level doubles 12 hours before testNow.
	stepYesterday := func(t time.Time) (float64, bool) {
		v, _ := noisy(6, 100, 0.05)(t)
		if t.After(testNow.Add(-12 * time.Hour)) {
			v *= 2
		}
		return v, true
	}
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"FunctionName=api":  stepAtBake,
		"FunctionName=jobs": stepYesterday,
	}}
	lambda := func(fn string) spec.Series {
		return spec.Series{MetricStat: spec.MetricStat{Namespace: "AWS/Lambda", Name: "Duration", Stat: "p95", Dimensions: map[string]string{"FunctionName": fn}}}
	}
	beforeBake := spec.Check{Name: "before-after", Compare: &spec.Compare{Baseline: lambda("api"), Canary: lambda("api"), Tolerance: 0.2}}
	beforeBake.Compare.Baseline.BeforeBake = true
	yesterday := spec.Check{Name: "yesterday", Compare: &spec.Compare{Baseline: lambda("jobs"), Canary: lambda("jobs"), Tolerance: 0.2, Window: spec.Duration(15 * time.Minute)}}
	yesterday.Compare.Baseline.Offset = spec.Duration(24 * time.Hour)

	rs := newSampler(t, api, beforeBake, yesterday).Sample(context.Background(), check.Sample{BakeStart: testBakeStart, Now: testNow})
	for i, want := range []struct {
		n      float64
		target string
	}{
		{35, "p95 AWS/Lambda Duration: canary vs baseline (before the bake)"},
		{15, "p95 AWS/Lambda Duration: canary vs baseline (24h0m0s earlier)"},
	} {
		r := rs[i]
		assertResultFinite(t, r)
		if r.Verdict != verdict.Failed || r.Values["n_baseline"] != want.n || r.Values["n_canary"] != want.n {
			t.Errorf("checks[%d] = %v with n %v/%v (%s); want Failed with %v points each", i, r.Verdict, r.Values["n_baseline"], r.Values["n_canary"], r.Observed, want.n)
		}
		if c := r.Values["change_pct"]; c < 85 || c > 115 {
			t.Errorf("checks[%d] change_pct = %v; want about 100 (no leak across the step)", i, c)
		}
		if b := r.Values["baseline_median"]; b > 110 {
			t.Errorf("checks[%d] baseline_median = %v; want about 100 (baseline read before the step)", i, b)
		}
		if r.Target != want.target {
			t.Errorf("checks[%d].Target = %q; want %q", i, r.Target, want.target)
		}
	}
	// One call spans both: from yesterday's window to now.
	if len(api.calls) != 1 {
		t.Fatalf("GetMetricData called %d times; want 1", len(api.calls))
	}
	if got, want := aws.ToTime(api.calls[0].StartTime), testNow.Truncate(time.Minute).Add(-24*time.Hour-15*time.Minute); !got.Equal(want) {
		t.Errorf("StartTime = %v; want %v", got, want)
	}
}

func TestSampleEarlyInBake(t *testing.T) {
	api := &fake{}
	r := sampleOne(t, api, validCheck(), testNow.Add(-20*time.Second))
	if r.Verdict != verdict.Inconclusive || !strings.Contains(r.Observed, "no complete 1m0s period") {
		t.Errorf("Sample 20s into the bake = %v (%q); want Inconclusive saying no complete period", r.Verdict, r.Observed)
	}
	if len(api.calls) != 0 {
		t.Errorf("GetMetricData called %d times; want 0 (nothing to read)", len(api.calls))
	}
}

func TestSampleMissingSeries(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){"TargetGroup=green": noisy(2, 0.2, 0.05)}}
	r := sampleOne(t, api, validCheck(), testBakeStart)
	if r.Verdict != verdict.Inconclusive {
		t.Fatalf("Sample(no baseline data).Verdict = %v; want Inconclusive", r.Verdict)
	}
	for _, want := range []string{"baseline 0, canary 35", "the baseline has no data from 2026-11-22T08:25:00Z to 2026-11-22T09:00:00Z", "dimensions"} {
		if !strings.Contains(r.Observed, want) {
			t.Errorf("Observed = %q; want it to contain %q", r.Observed, want)
		}
	}
}

func TestSampleUsesClockWhenSampleHasNoTime(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.2, 0.05),
		"TargetGroup=green": noisy(2, 0.2, 0.05),
	}}
	rs := newSampler(t, api, validCheck()).Sample(context.Background(), check.Sample{BakeStart: testBakeStart})
	if got, want := aws.ToTime(api.calls[0].EndTime), testNow.Truncate(time.Minute); !got.Equal(want) {
		t.Errorf("EndTime = %v; want %v (from Options.Now)", got, want)
	}
	if rs[0].Verdict != verdict.Succeeded {
		t.Errorf("Verdict = %v; want Succeeded", rs[0].Verdict)
	}
}

// An explicit window longer than the bake so far is cut to the bake: the
// canary never reads data from before the deployment.
func TestSampleWindowCappedAtBakeStart(t *testing.T) {
	api := &fake{series: map[string]func(time.Time) (float64, bool){
		"TargetGroup=blue":  noisy(1, 0.2, 0.05),
		"TargetGroup=green": noisy(2, 0.2, 0.05),
	}}
	ch := validCheck()
	ch.Compare.Window = spec.Duration(time.Hour)
	bakeStart := testNow.Add(-12 * time.Minute) // 08:48:30: 11 complete minutes from 08:49
	r := sampleOne(t, api, ch, bakeStart)
	if got := r.Values["n_canary"] + r.Values["outliers_canary"]; got != 11 {
		t.Errorf("canary points = %v; want 11 (08:49 to 09:00)", got)
	}
	if got, want := aws.ToTime(api.calls[0].StartTime), time.Date(2026, 11, 22, 8, 49, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("StartTime = %v; want %v (the first complete period of the bake)", got, want)
	}
}

func TestSampleWithoutBakeStart(t *testing.T) {
	api := &fake{}
	rs := newSampler(t, api, validCheck()).Sample(context.Background(), check.Sample{Now: testNow})
	if rs[0].Verdict != verdict.Error || !strings.Contains(rs[0].Observed, "no bake start") {
		t.Errorf("Sample(no bake start) = %v (%q); want Error naming the missing bake start", rs[0].Verdict, rs[0].Observed)
	}
}
