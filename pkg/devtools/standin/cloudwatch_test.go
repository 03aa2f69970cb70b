package standin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func alarmScenario() Scenario {
	sc := Scenario{Alarms: []Alarm{
		{Name: "prod-api-5xx", State: "ALARM", Reason: "Threshold Crossed: 3 datapoints > 5", Since: Duration{10 * time.Minute},
			Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: map[string]string{"LoadBalancer": "app/prod"},
			Statistic: "Sum", Period: 60, EvaluationPeriods: 3, Threshold: 5, ComparisonOperator: "GreaterThanThreshold"},
		{Name: "prod-api-latency", State: "OK"},
		{Name: "prod-api-composite", Type: "CompositeAlarm", State: "ALARM", Rule: `ALARM("prod-api-5xx")`},
		{Name: "staging-api-5xx", State: "ALARM"},
	}}
	for i := range 7 {
		sc.Alarms = append(sc.Alarms, Alarm{Name: fmt.Sprintf("bulk-%02d", i)})
	}
	return sc
}

func TestDescribeAlarmsCBOR(t *testing.T) {
	s := startServer(t, alarmScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)

	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String("prod-api-"),
		AlarmTypes:      []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	if len(out.MetricAlarms) != 2 || len(out.CompositeAlarms) != 1 {
		t.Fatalf("DescribeAlarms(prefix prod-api-) = %d metric, %d composite; want 2, 1", len(out.MetricAlarms), len(out.CompositeAlarms))
	}
	got := out.MetricAlarms[0]
	want := cwtypes.MetricAlarm{
		AlarmName: aws.String("prod-api-5xx"), AlarmArn: aws.String(alarmArn("prod-api-5xx")),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("Threshold Crossed: 3 datapoints > 5"),
		StateUpdatedTimestamp: aws.Time(testNow.Add(-10 * time.Minute)), StateTransitionedTimestamp: aws.Time(testNow.Add(-10 * time.Minute)),
		AlarmConfigurationUpdatedTimestamp: aws.Time(testNow.Add(-10 * time.Minute)),
		ActionsEnabled:                     aws.Bool(true),
		Namespace:                          aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/prod")}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), Threshold: aws.Float64(5),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmpopts.IgnoreUnexported(cwtypes.MetricAlarm{}, cwtypes.Dimension{})); diff != "" {
		t.Errorf("DescribeAlarms metric alarm mismatch (-want +got):\n%s", diff)
	}
	if c := out.CompositeAlarms[0]; aws.ToString(c.AlarmRule) != `ALARM("prod-api-5xx")` || c.StateValue != cwtypes.StateValueAlarm {
		t.Errorf("composite alarm = %+v; want the seeded rule in ALARM", c)
	}

	// Default AlarmTypes is MetricAlarm only, as CloudWatch does.
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"prod-api-composite", "staging-api-5xx"}})
	if err != nil {
		t.Fatalf("DescribeAlarms(names): %v", err)
	}
	if len(out.MetricAlarms) != 1 || len(out.CompositeAlarms) != 0 || aws.ToString(out.MetricAlarms[0].AlarmName) != "staging-api-5xx" {
		t.Errorf("DescribeAlarms(names, default types) = %d metric, %d composite; want only staging-api-5xx", len(out.MetricAlarms), len(out.CompositeAlarms))
	}

	calls := s.CallsTo(CloudWatch, "DescribeAlarms")
	if len(calls) != 2 || calls[0].Protocol != ProtoCBOR || calls[0].Input["AlarmNamePrefix"] != "prod-api-" {
		t.Errorf("recorded DescribeAlarms = %+v; want 2 rpcv2Cbor calls, the first with the prefix", calls)
	}
}

func TestDescribeAlarmsPagination(t *testing.T) {
	s := startServer(t, alarmScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	var names []string
	pages := 0
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("bulk-"), MaxRecords: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeAlarms page %d: %v", pages+1, err)
		}
		pages++
		for _, a := range out.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	want := []string{"bulk-00", "bulk-01", "bulk-02", "bulk-03", "bulk-04", "bulk-05", "bulk-06"}
	if diff := cmp.Diff(want, names); diff != "" || pages != 3 {
		t.Errorf("paginated DescribeAlarms over %d pages (want 3), names mismatch (-want +got):\n%s", pages, diff)
	}
	_, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("forged")})
	if !errors.As(err, new(*cwtypes.InvalidNextToken)) {
		t.Errorf("DescribeAlarms(forged token) error = %v (%T); want *types.InvalidNextToken", err, err)
	}
}

func TestSetAlarmState(t *testing.T) {
	s := startServer(t, alarmScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	if err := s.SetAlarmState("prod-api-latency", "ALARM", "p99 above 800ms"); err != nil {
		t.Fatalf("SetAlarmState: %v", err)
	}
	if err := s.SetAlarmState("nope", "ALARM", ""); err == nil {
		t.Error("SetAlarmState(unknown alarm) = nil; want an error")
	}
	if err := s.SetAlarmState("prod-api-latency", "RED", ""); err == nil {
		t.Error("SetAlarmState(state RED) = nil; want an error")
	}
	out, err := cw.DescribeAlarms(ctxT(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"prod-api-latency"}})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	a := out.MetricAlarms[0]
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "p99 above 800ms" || !a.StateTransitionedTimestamp.Equal(testNow) {
		t.Errorf("after SetAlarmState, alarm = %v %q at %v; want ALARM %q at %v", a.StateValue, aws.ToString(a.StateReason), a.StateTransitionedTimestamp, "p99 above 800ms", testNow)
	}
}

func metricScenario() Scenario {
	dims := map[string]string{"Service": "api"}
	return Scenario{Metrics: []Series{
		{Namespace: "App", MetricName: "Errors", Dimensions: dims, Points: []Point{
			{Ago: Duration{3 * time.Minute}, Value: 2}, {Ago: Duration{2 * time.Minute}, Value: 5}, {Ago: Duration{1 * time.Minute}, Value: 0},
		}},
		{Namespace: "App", MetricName: "Requests", Dimensions: dims, Generator: &Generator{Kind: "constant", Value: 100}},
		{Namespace: "App", MetricName: "Latency", Dimensions: dims, Generator: &Generator{Kind: "ramp", From: 100, To: 200, Start: Duration{-4 * time.Minute}, Over: Duration{4 * time.Minute}}},
	}}
}

func statQuery(id, metric, stat string, ret bool) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(ret), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("api")}}},
		Period: aws.Int32(60), Stat: aws.String(stat)}}
}

func TestGetMetricDataExpression(t *testing.T) {
	s := startServer(t, metricScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	out, err := cw.GetMetricData(ctxT(t), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(testNow.Add(-3 * time.Minute)), EndTime: aws.Time(testNow),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			statQuery("errors", "Errors", "Sum", false),
			statQuery("requests", "Requests", "Sum", false),
			{Id: aws.String("rate"), Expression: aws.String("100*errors/requests"), Label: aws.String("error rate")},
			statQuery("latency", "Latency", "Average", true),
		},
		ScanBy: cwtypes.ScanByTimestampAscending,
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(out.MetricDataResults) != 2 {
		t.Fatalf("GetMetricData returned %d results; want 2 (ReturnData=false hides errors and requests)", len(out.MetricDataResults))
	}
	rate := out.MetricDataResults[0]
	if aws.ToString(rate.Id) != "rate" || aws.ToString(rate.Label) != "error rate" || rate.StatusCode != cwtypes.StatusCodeComplete {
		t.Errorf("first result = %s %q %s; want rate \"error rate\" Complete", aws.ToString(rate.Id), aws.ToString(rate.Label), rate.StatusCode)
	}
	if diff := cmp.Diff([]float64{2, 5, 0}, rate.Values); diff != "" {
		t.Errorf("100*errors/requests values mismatch (-want +got):\n%s", diff)
	}
	wantTimes := []time.Time{testNow.Add(-3 * time.Minute), testNow.Add(-2 * time.Minute), testNow.Add(-time.Minute)}
	if diff := cmp.Diff(wantTimes, rate.Timestamps); diff != "" {
		t.Errorf("rate timestamps mismatch (-want +got):\n%s", diff)
	}
	lat := out.MetricDataResults[1]
	if diff := cmp.Diff([]float64{125, 150, 175}, lat.Values); diff != "" {
		t.Errorf("ramp generator values mismatch (-want +got):\n%s", diff)
	}
}

func TestGetMetricDataBadExpression(t *testing.T) {
	s := startServer(t, metricScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	_, err := cw.GetMetricData(ctxT(t), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow),
		MetricDataQueries: []cwtypes.MetricDataQuery{statQuery("errors", "Errors", "Sum", false), {Id: aws.String("x"), Expression: aws.String("FILL(errors, 0)")}},
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "SUM/AVG/MIN/MAX") {
		t.Errorf("GetMetricData(FILL(errors, 0)) error = %v; want ValidationError naming the supported forms", err)
	}
}

func TestGetMetricDataMathFunctions(t *testing.T) {
	s := startServer(t, metricScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	// errors: 2, 5, 0 at -3m, -2m, -1m; requests: 100 everywhere; over
	// -5m..now the requests series also has -5m and -4m, where errors has
	// no value.
	tests := []struct {
		expression string
		want       []float64 // ascending, -5m .. -1m where defined
	}{
		{"100*errors/requests", []float64{2, 5, 0}},
		{"SUM([errors, requests])", []float64{100, 100, 102, 105, 100}},
		{"MAX(METRICS())", []float64{100, 100, 100, 100, 100}},
		{"AVG(METRICS('err'))", []float64{2, 5, 0}},
		{"IF(errors > 1, errors)", []float64{2, 5}},
		{"IF(errors > 1, 1, 0)", []float64{1, 1, 0}},
		{"ABS(errors - 3) + FLOOR(0.5)", []float64{1, 2, 3}},
	}
	for _, tc := range tests {
		out, err := cw.GetMetricData(ctxT(t), &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(testNow.Add(-5 * time.Minute)), EndTime: aws.Time(testNow),
			ScanBy: cwtypes.ScanByTimestampAscending,
			MetricDataQueries: []cwtypes.MetricDataQuery{
				statQuery("errors", "Errors", "Sum", false), statQuery("requests", "Requests", "Sum", false),
				{Id: aws.String("x"), Expression: aws.String(tc.expression)},
			}})
		if err != nil {
			t.Errorf("GetMetricData(%q): %v", tc.expression, err)
			continue
		}
		if diff := cmp.Diff(tc.want, out.MetricDataResults[0].Values, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("GetMetricData(%q) values mismatch (-want +got):\n%s", tc.expression, diff)
		}
	}
}

func TestPutMetricDataThenGet(t *testing.T) {
	s := startServer(t, Scenario{})
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("postdeploy"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Verdicts"), Value: aws.Float64(1), Timestamp: aws.Time(testNow.Add(-90 * time.Second)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Outcome"), Value: aws.String("Failed")}}},
		{MetricName: aws.String("Verdicts"), Value: aws.Float64(1), Timestamp: aws.Time(testNow.Add(-80 * time.Second)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Outcome"), Value: aws.String("Failed")}}},
	}})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(testNow.Add(-5 * time.Minute)), EndTime: aws.Time(testNow),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("v"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("postdeploy"), MetricName: aws.String("Verdicts"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("Outcome"), Value: aws.String("Failed")}}},
			Period: aws.Int32(300), Stat: aws.String("Sum")}}},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if got := out.MetricDataResults[0].Values; len(got) != 1 || got[0] != 2 {
		t.Errorf("Sum of the two put datapoints = %v; want [2]", got)
	}
}

func TestCloudWatchThrottle(t *testing.T) {
	s := startServer(t, alarmScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	s.Inject(CloudWatch, "DescribeAlarms", Fault{Kind: FaultThrottle, Times: 1})
	_, err := cw.DescribeAlarms(ctxT(t), &cloudwatch.DescribeAlarmsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
		t.Fatalf("DescribeAlarms under a throttle fault error = %v; want code Throttling", err)
	}
	if _, err := cw.DescribeAlarms(ctxT(t), &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Errorf("DescribeAlarms after the 1-shot fault: %v; want success", err)
	}
	calls := s.CallsTo(CloudWatch, "DescribeAlarms")
	if len(calls) != 2 || calls[0].Fault != "throttle" || calls[0].ErrorCode != "Throttling" || calls[1].ErrorCode != "" {
		t.Errorf("recorded calls = %+v; want a throttled call then a clean one", calls)
	}

	// The SDK's standard retryer recognises the code and retries through it.
	s.Inject(CloudWatch, "DescribeAlarms", Fault{Kind: FaultThrottle, Times: 2})
	retrying := cloudwatch.NewFromConfig(awsConfig(t, s), func(o *cloudwatch.Options) {
		o.RetryMaxAttempts = 3
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	s.ResetCalls()
	if _, err := retrying.DescribeAlarms(ctxT(t), &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Errorf("DescribeAlarms with 3 attempts through 2 throttles: %v; want success", err)
	}
	if n := len(s.CallsTo(CloudWatch, "DescribeAlarms")); n != 3 {
		t.Errorf("retrying client made %d calls; want 3", n)
	}
}

// TestPutMetricDataCompressed: the SDK gzips PutMetricData bodies past
// 10 KiB (requestCompression); the stand-in must read them.
func TestPutMetricDataCompressed(t *testing.T) {
	s := startServer(t, Scenario{})
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	var data []cwtypes.MetricDatum
	for i := range 1000 {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Samples"), Value: aws.Float64(float64(i)),
			Timestamp:  aws.Time(testNow.Add(-time.Duration(i) * time.Second)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Check"), Value: aws.String(fmt.Sprintf("check-%04d", i%7))}}})
	}
	if _, err := cw.PutMetricData(ctxT(t), &cloudwatch.PutMetricDataInput{Namespace: aws.String("postdeploy"), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData(1000 datums): %v", err)
	}
	calls := s.CallsTo(CloudWatch, "PutMetricData")
	if len(calls) != 1 || len(list(calls[0].Input, "MetricData")) != 1000 {
		t.Errorf("recorded PutMetricData = %d calls; want 1 with 1000 datums", len(calls))
	}
}
