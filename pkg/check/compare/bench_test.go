package compare

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// cannedOutput answers every GetMetricData call with the same output, so
// a benchmark measures the check, not the fake.
type cannedOutput struct {
	out *cloudwatch.GetMetricDataOutput
}

var _ API = cannedOutput{}

func (c cannedOutput) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return c.out, nil
}

// dayOfPoints is a day of one-minute points for b0 and c0, ending at
// testNow's minute, the canary 10% slower.
func dayOfPoints() *cloudwatch.GetMetricDataOutput {
	end := testNow.Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	base, canary := noisy(1, 0.2, 0.1), noisy(2, 0.22, 0.1)
	b := types.MetricDataResult{Id: aws.String("b0"), StatusCode: types.StatusCodeComplete}
	c := types.MetricDataResult{Id: aws.String("c0"), StatusCode: types.StatusCodeComplete}
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		bv, _ := base(t)
		cv, _ := canary(t)
		b.Timestamps, b.Values = append(b.Timestamps, t), append(b.Values, bv)
		c.Timestamps, c.Values = append(c.Timestamps, t), append(c.Values, cv)
	}
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []types.MetricDataResult{b, c}}
}

// BenchmarkSample is one sample of one compare check over a day of
// one-minute points: 2×1,440 points read, windowed, cleaned and tested.
func BenchmarkSample(b *testing.B) {
	ch := validCheck()
	ch.Compare.Window = spec.Duration(24 * time.Hour)
	s, errs := New(Options{API: cannedOutput{dayOfPoints()}}, []check.Item{{Index: 0, Check: ch}})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	at := check.Sample{BakeStart: testNow.Add(-25 * time.Hour), Now: testNow}
	ctx := context.Background()
	var points float64
	for b.Loop() {
		rs := s.Sample(ctx, at)
		points = rs[0].Values["n_baseline"] + rs[0].Values["n_canary"] + rs[0].Values["outliers_baseline"] + rs[0].Values["outliers_canary"]
	}
	if points != 2880 {
		b.Fatalf("sample used %v points; want 2880", points)
	}
	b.ReportMetric(points, "points/op")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/sample")
}

// BenchmarkAnalyze is the statistics alone on 2×1,440 points.
func BenchmarkAnalyze(b *testing.B) {
	out := dayOfPoints()
	base, canary := out.MetricDataResults[0].Values, out.MetricDataResults[1].Values
	p := params{direction: DirectionIncrease, tolerance: 0.2, confidence: 0.95, minSamples: 10}
	for b.Loop() {
		analyze(base, canary, p)
	}
}

// BenchmarkAnalyzeExactTies is the most expensive exact case go-moremath
// computes: 25 points a side with ties (its exact-distribution limit).
func BenchmarkAnalyzeExactTies(b *testing.B) {
	base, canary := make([]float64, 25), make([]float64, 25)
	for i := range base {
		base[i], canary[i] = float64(i%20), float64(i%20+1)
	}
	p := params{direction: DirectionIncrease, tolerance: 0.2, confidence: 0.95, minSamples: 10}
	for b.Loop() {
		analyze(base, canary, p)
	}
}
