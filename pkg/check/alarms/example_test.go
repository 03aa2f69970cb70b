package alarms_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/alarms"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// cannedCloudWatch answers every DescribeAlarms with the same alarms.
type cannedCloudWatch struct {
	out cloudwatch.DescribeAlarmsOutput
}

func (c cannedCloudWatch) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &c.out, nil
}

func ExampleNew() {
	bakeStart := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	cw := cannedCloudWatch{out: cloudwatch.DescribeAlarmsOutput{
		MetricAlarms: []types.MetricAlarm{
			{AlarmName: aws.String("prod-api-5xx"), StateValue: types.StateValueOk},
			{AlarmName: aws.String("prod-api-latency"), StateValue: types.StateValueAlarm,
				StateReason:                aws.String("p99 latency 2.1s > 1s"),
				StateTransitionedTimestamp: aws.Time(bakeStart.Add(4 * time.Minute))},
		},
	}}
	items := []check.Item{{Index: 0, Check: spec.Check{Name: "no-new-alarms", Alarms: &spec.Alarms{Prefix: "prod-api-", IgnorePreexisting: true}}}}
	s, errs := alarms.New(alarms.Options{API: cw}, items)
	if errs != nil {
		fmt.Println(errs)
		return
	}
	r := s.Sample(context.Background(), check.Sample{BakeStart: bakeStart, Now: bakeStart.Add(5 * time.Minute)})[0]
	fmt.Println(r.Verdict)
	fmt.Println(r.Observed)
	// Output:
	// Failed
	// 1 of 2 alarms in ALARM: "prod-api-latency" (metric alarm, in ALARM since 2026-11-22T08:04:00Z: p99 latency 2.1s > 1s)
}
