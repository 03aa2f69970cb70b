package standin

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
)

// BenchmarkDescribeAlarmsCBOR: one DescribeAlarms round trip through the
// real client (CBOR encode, HTTP, route, handler, CBOR decode).
func BenchmarkDescribeAlarmsCBOR(b *testing.B) {
	s := startServer(b, alarmScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(b, s))
	ctx := context.Background()
	in := &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("prod-api-")}
	b.ResetTimer()
	for b.Loop() {
		if _, err := cw.DescribeAlarms(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkGetMetricDataDay: a day of 1-minute points for two metrics and
// the 100*errors/requests expression (1,440 evaluations).
func BenchmarkGetMetricDataDay(b *testing.B) {
	s := startServer(b, metricScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(b, s))
	ctx := context.Background()
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(testNow.Add(-24 * time.Hour)), EndTime: aws.Time(testNow),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			statQuery("errors", "Latency", "Average", false), statQuery("requests", "Requests", "Sum", false),
			{Id: aws.String("rate"), Expression: aws.String("100*errors/requests")},
		},
	}
	points, iters := 0, 0
	b.ResetTimer()
	for b.Loop() {
		out, err := cw.GetMetricData(ctx, in)
		if err != nil {
			b.Fatalf("after %v, call %d: %v", b.Elapsed(), iters, err)
		}
		iters++
		points = len(out.MetricDataResults[0].Values)
	}
	if points != 1440 {
		b.Fatalf("rate has %d points; want 1440", points)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/call")
}

// BenchmarkPutJobSuccess: the verify function's hot call, continuation
// reports on one open job.
func BenchmarkPutJobSuccess(b *testing.B) {
	s := startServer(b, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(b, s))
	ctx := context.Background()
	in := &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j"), ContinuationToken: aws.String("t")}
	b.ResetTimer()
	for b.Loop() {
		if _, err := cp.PutJobSuccessResult(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
