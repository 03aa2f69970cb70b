package standin

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/google/go-cmp/cmp"
)

// TestCloudWatchProtocols runs the same CloudWatch calls with the client
// on each protocol it can be switched to (o.Protocol).
func TestCloudWatchProtocols(t *testing.T) {
	tests := []struct {
		name   string
		set    func(*cloudwatch.Options)
		wantOn Protocol
	}{
		{"rpcv2Cbor (default)", func(*cloudwatch.Options) {}, ProtoCBOR},
		{"awsQuery", func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }, ProtoQuery},
		{"awsJson1_0", func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801) }, ProtoJSON10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := alarmScenario()
			sc.Metrics = metricScenario().Metrics
			s := startServer(t, sc)
			cw := cloudwatch.NewFromConfig(awsConfig(t, s), tc.set)
			ctx := ctxT(t)

			out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("prod-api-"),
				AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}, MaxRecords: aws.Int32(2)})
			if err != nil {
				t.Fatalf("DescribeAlarms: %v", err)
			}
			if len(out.MetricAlarms) != 2 || out.NextToken == nil {
				t.Fatalf("DescribeAlarms(max 2) = %d metric alarms, token %v; want 2 and a NextToken", len(out.MetricAlarms), out.NextToken)
			}
			a := out.MetricAlarms[0]
			if aws.ToString(a.AlarmName) != "prod-api-5xx" || a.StateValue != cwtypes.StateValueAlarm ||
				!aws.ToTime(a.StateTransitionedTimestamp).Equal(testNow.Add(-10*time.Minute)) || aws.ToFloat64(a.Threshold) != 5 ||
				aws.ToInt32(a.EvaluationPeriods) != 3 || len(a.Dimensions) != 1 {
				t.Errorf("first alarm = %s %s at %v threshold %v periods %d dims %d; want prod-api-5xx ALARM at %v, 5, 3, 1 dim",
					aws.ToString(a.AlarmName), a.StateValue, aws.ToTime(a.StateTransitionedTimestamp), aws.ToFloat64(a.Threshold),
					aws.ToInt32(a.EvaluationPeriods), len(a.Dimensions), testNow.Add(-10*time.Minute))
			}
			out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("prod-api-"),
				AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}, NextToken: out.NextToken})
			if err != nil {
				t.Fatalf("DescribeAlarms page 2: %v", err)
			}
			if len(out.CompositeAlarms) != 1 || aws.ToString(out.CompositeAlarms[0].AlarmRule) != `ALARM("prod-api-5xx")` {
				t.Errorf("page 2 composite alarms = %+v; want prod-api-composite", out.CompositeAlarms)
			}

			md, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(testNow.Add(-3 * time.Minute)), EndTime: aws.Time(testNow),
				MetricDataQueries: []cwtypes.MetricDataQuery{
					statQuery("errors", "Errors", "Sum", false), statQuery("requests", "Requests", "Sum", false),
					{Id: aws.String("rate"), Expression: aws.String("100*errors/requests")},
				},
			})
			if err != nil {
				t.Fatalf("GetMetricData: %v", err)
			}
			if diff := cmp.Diff([]float64{0, 5, 2}, md.MetricDataResults[0].Values); diff != "" {
				t.Errorf("rate values (newest first) mismatch (-want +got):\n%s", diff)
			}
			if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("x"),
				MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}}); err != nil {
				t.Errorf("PutMetricData: %v", err)
			}

			_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("forged")})
			if !errors.As(err, new(*cwtypes.InvalidNextToken)) {
				t.Errorf("DescribeAlarms(forged token) error = %v (%T); want *types.InvalidNextToken", err, err)
			}
			s.Inject(CloudWatch, "", Fault{Kind: FaultThrottle, Times: 1})
			_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
				t.Errorf("throttled DescribeAlarms error = %v; want code Throttling", err)
			}
			for _, c := range s.CallsTo(CloudWatch, "") {
				if c.Protocol != tc.wantOn {
					t.Errorf("call %s arrived on %s; want %s", c.Operation, c.Protocol, tc.wantOn)
				}
			}
		})
	}
}
