package compare_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/compare"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// latencies answers GetMetricData with p95 latencies: the live alias
// 30% slower than the previous version. In production the API is a
// *cloudwatch.Client.
type latencies struct{}

func (latencies) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		level := 200.0
		if aws.ToString(q.Id)[0] == 'c' {
			level = 260
		}
		r := types.MetricDataResult{Id: q.Id, StatusCode: types.StatusCodeComplete}
		i := 0
		for t := aws.ToTime(in.StartTime); t.Before(aws.ToTime(in.EndTime)); t = t.Add(time.Minute) {
			r.Timestamps = append(r.Timestamps, t)
			r.Values = append(r.Values, level+float64(i%7)*3) // a little spread
			i++
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func ExampleNew() {
	lambda := func(resource string) spec.Series {
		return spec.Series{MetricStat: spec.MetricStat{
			Namespace: "AWS/Lambda", Name: "Duration", Stat: "p95", Unit: "Milliseconds",
			Dimensions: map[string]string{"FunctionName": "api", "Resource": resource},
		}}
	}
	checks := []check.Item{{Index: 0, Check: spec.Check{
		Name: "latency-vs-previous",
		Compare: &spec.Compare{
			Baseline:  lambda("api:previous"),
			Canary:    lambda("api:live"),
			Tolerance: 0.2, // "20%"
		},
	}}}
	sampler, errs := compare.New(compare.Options{API: latencies{}}, checks)
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	bakeStart := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	rs := sampler.Sample(context.Background(), check.Sample{BakeStart: bakeStart, Now: bakeStart.Add(30 * time.Minute)})
	fmt.Println(rs[0].Verdict)
	fmt.Println(rs[0].Target)
	fmt.Println(rs[0].Observed)
	fmt.Println(rs[0].Expected)
	// Output:
	// Failed
	// p95 AWS/Lambda Duration: canary (FunctionName=api, Resource=api:live) vs baseline (FunctionName=api, Resource=api:previous)
	// canary median 269 Milliseconds vs baseline median 209 Milliseconds (+28.7%); p=1.3e-11 (one-sided Mann-Whitney U=0); n=30 baseline, 30 canary. The canary is significantly worse than the baseline (p < 0.05) by more than the 20% tolerated: look at the canary's logs, traces and recent changes, and roll it back if it is the cause
	// no increase above 20% at 95% confidence (one-sided Mann-Whitney p < 0.05), at least 10 points per series
}
