package metrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/metrics"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// cannedCloudWatch answers every GetMetricData with the same results.
type cannedCloudWatch struct {
	out cloudwatch.GetMetricDataOutput
}

func (c cannedCloudWatch) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return &c.out, nil
}

func ExampleNew() {
	now := time.Date(2026, 11, 22, 8, 10, 0, 0, time.UTC)
	// checks[0]'s expression comes back as query m0.
	cw := cannedCloudWatch{out: cloudwatch.GetMetricDataOutput{MetricDataResults: []types.MetricDataResult{{
		Id:         aws.String("m0"),
		StatusCode: types.StatusCodeComplete,
		Timestamps: []time.Time{now.Add(-3 * time.Minute), now.Add(-2 * time.Minute), now.Add(-time.Minute)},
		Values:     []float64{0.4, 1.2, 7.5},
	}}}}
	elb := func(name string) spec.MetricStat {
		return spec.MetricStat{Namespace: "AWS/ApplicationELB", Name: name, Stat: "Sum"}
	}
	items := []check.Item{{Index: 0, Check: spec.Check{
		Name:   "error-rate",
		Expect: "value < 5",
		Metric: &spec.Metric{
			Expression: "100*errors/requests",
			Metrics:    map[string]spec.MetricStat{"errors": elb("HTTPCode_Target_5XX_Count"), "requests": elb("RequestCount")},
		},
	}}}
	s, errs := metrics.New(metrics.Options{API: cw}, items)
	if errs != nil {
		fmt.Println(errs)
		return
	}
	r := s.Sample(context.Background(), check.Sample{BakeStart: now.Add(-5 * time.Minute), Now: now})[0]
	fmt.Println(r.Verdict)
	fmt.Println(r.Observed)
	fmt.Println(r.Expected)
	// Output:
	// Failed
	// value 7.5 at 08:09Z; 3 points in the last 5m, oldest first: 0.4, 1.2, 7.5; min 0.4, max 7.5, avg 3.03333, sum 9.1
	// value < 5 over the last 5m (period 1m, at least 1 data point(s), else noData: inconclusive)
}
