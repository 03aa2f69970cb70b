package contract_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// snsMessage returns the Message of the i-th record of an events/ file.
func snsMessage(t testing.TB, file string, i int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return ev.Records[i].SNS.Message
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

const acct = "123456789012"

func alarmARN(name string) string { return "arn:aws:cloudwatch:us-east-1:" + acct + ":alarm:" + name }

func TestDecodeSNSMessage(t *testing.T) {
	tests := []struct {
		name string
		file string
		want contract.Alarm
	}{
		{"single metric ECS alarm", "remediate-ecs-alarm.json", contract.Alarm{
			Name: "prod-api-cpu-high", ARN: alarmARN("prod-api-cpu-high"), AccountID: acct, Region: "us-east-1",
			NewState: "ALARM", OldState: "OK",
			Reason:    "Threshold Crossed: 3 out of the last 3 datapoints [97.2 (22/11/26 08:59:00), 95.8 (22/11/26 08:58:00), 93.1 (22/11/26 08:57:00)] were greater than the threshold (80.0) (minimum 3 datapoints for OK -> ALARM transition).",
			Namespace: "AWS/ECS", MetricName: "CPUUtilization",
			Dimensions:  map[string]string{"ClusterName": "prod", "ServiceName": "api"},
			Timestamp:   ts("2026-11-22T09:00:12.345Z"),
			Metrics:     []contract.Metric{{Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"}, Stat: "AVERAGE", Period: 60}},
			Description: "CPU of the api service above 80% for 3 minutes",
		}},
		{"OK transition", "remediate-ecs-ok.json", contract.Alarm{
			Name: "prod-api-cpu-high", ARN: alarmARN("prod-api-cpu-high"), AccountID: acct, Region: "us-east-1",
			NewState: "OK", OldState: "ALARM",
			Reason:    "Threshold Crossed: 1 out of the last 3 datapoints [41.0 (22/11/26 09:06:00)] was not greater than the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition).",
			Namespace: "AWS/ECS", MetricName: "CPUUtilization",
			Dimensions:  map[string]string{"ClusterName": "prod", "ServiceName": "api"},
			Timestamp:   ts("2026-11-22T09:07:42.018Z"),
			Metrics:     []contract.Metric{{Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"}, Stat: "AVERAGE", Period: 60}},
			Description: "CPU of the api service above 80% for 3 minutes",
		}},
		{"metric math keeps the dimensions its metrics share", "remediate-math-alarm.json", contract.Alarm{
			Name: "prod-api-5xx-rate", ARN: alarmARN("prod-api-5xx-rate"), AccountID: acct, Region: "us-east-1",
			NewState: "ALARM", OldState: "OK",
			Reason:     "Threshold Crossed: 5 out of the last 5 datapoints [12.5 (22/11/26 09:04:00), ...] were greater than the threshold (5.0) (minimum 5 datapoints for OK -> ALARM transition).",
			Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"},
			Timestamp:  ts("2026-11-22T09:05:00.250Z"),
			Metrics: []contract.Metric{
				{ID: "rate", Expression: "100*errors/requests", Label: "5xx rate (%)"},
				{ID: "errors", Namespace: "Postdeploy/App", MetricName: "HTTPErrors", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api", "Class": "5xx"}, Stat: "Sum", Period: 60},
				{ID: "requests", Namespace: "Postdeploy/App", MetricName: "Requests", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"}, Stat: "Sum", Period: 60},
			},
			Description: "5xx responses above 5% of requests for 5 minutes",
		}},
		{"composite alarm", "remediate-composite.json", contract.Alarm{
			Name: "prod-api-degraded", ARN: alarmARN("prod-api-degraded"), AccountID: acct, Region: "us-east-1",
			NewState: "ALARM", OldState: "OK",
			Reason:    alarmARN("prod-api-5xx-rate") + " transitioned to ALARM at Sunday 22 November, 2026 09:05:00 UTC",
			Timestamp: ts("2026-11-22T09:05:01Z"),
			Composite: true, Rule: `ALARM("prod-api-cpu-high") AND ALARM("prod-api-5xx-rate")`,
			Description: "CPU high AND 5xx rate high on the api service",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contract.DecodeSNSMessage(snsMessage(t, tt.file, 0))
			if err != nil {
				t.Fatalf("DecodeSNSMessage(%s) error: %v", tt.file, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("DecodeSNSMessage(%s) mismatch (-want +got):\n%s", tt.file, d)
			}
		})
	}
}

func TestDecodeSNSMessageRejects(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		notAlarm bool
	}{
		{"malformed JSON", `{"AlarmName": "x", "NewStateValue": `, false},
		{"not JSON", "hello", false},
		{"JSON that is not an alarm", `{"default":"hello"}`, true},
		{"JSON array", `[1,2]`, false},
		{"unknown state", `{"AlarmName":"a","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a","NewStateValue":"MAYBE","StateChangeTime":"2026-11-22T09:00:00.000+0000"}`, false},
		{"bad time", `{"AlarmName":"a","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a","NewStateValue":"ALARM","StateChangeTime":"yesterday"}`, false},
		{"missing time", `{"AlarmName":"a","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a","NewStateValue":"ALARM"}`, false},
		{"not an alarm ARN", `{"AlarmName":"a","AlarmArn":"arn:aws:sns:us-east-1:1:topic","NewStateValue":"ALARM","StateChangeTime":"2026-11-22T09:00:00.000+0000"}`, false},
		{"missing ARN", `{"AlarmName":"a","NewStateValue":"ALARM","StateChangeTime":"2026-11-22T09:00:00.000+0000"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := contract.DecodeSNSMessage(tt.msg)
			if err == nil {
				t.Fatalf("DecodeSNSMessage(%q) = %+v, nil; want an error", tt.msg, a)
			}
			if got := errors.Is(err, contract.ErrNotAlarm); got != tt.notAlarm {
				t.Errorf("DecodeSNSMessage(%q) error %v: errors.Is(ErrNotAlarm) = %v; want %v", tt.msg, err, got, tt.notAlarm)
			}
		})
	}
}

func TestAlarmFromEventBridge(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "remediate-eventbridge-alarm.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	got, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		t.Fatalf("AlarmFromEventBridge: %v", err)
	}
	fromSNS, err := contract.DecodeSNSMessage(snsMessage(t, "remediate-ecs-alarm.json", 0))
	if err != nil {
		t.Fatal(err)
	}
	// The same state change through either path is the same alarm, with
	// the same idempotency key.
	if got.StateChangeKey() != fromSNS.StateChangeKey() {
		t.Errorf("StateChangeKey: EventBridge %q, SNS %q; want equal", got.StateChangeKey(), fromSNS.StateChangeKey())
	}
	want := fromSNS
	want.Metrics[0].ID = "30b6c6b2-a864-43a2-4877-c09a1afc3b87"
	// SNS notifications spell the statistic in upper case ("AVERAGE", as in
	// aws-lambda-go's cloudwatch-alarm-sns-payload-single-metric.json);
	// EventBridge details use the API's spelling ("Average").
	want.Metrics[0].Stat = "Average"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("AlarmFromEventBridge mismatch with the SNS form (-want +got):\n%s", d)
	}

	composite := events.EventBridgeEvent{
		DetailType: contract.DetailTypeAlarmStateChange, Source: "aws.cloudwatch", AccountID: acct, Region: "us-east-1",
		Resources: []string{alarmARN("c")},
		Detail:    json.RawMessage(`{"alarmName":"c","state":{"value":"ALARM","reason":"r","timestamp":"2026-11-22T09:00:00.000+0000"},"previousState":{"value":"OK"},"configuration":{"alarmRule":"ALARM(a) OR ALARM(b)"},"alarmTags":{"team":"api"}}`),
	}
	c, err := contract.AlarmFromEventBridge(composite)
	if err != nil {
		t.Fatalf("AlarmFromEventBridge(composite): %v", err)
	}
	if !c.Composite || c.Rule != "ALARM(a) OR ALARM(b)" || c.Tags["team"] != "api" {
		t.Errorf("AlarmFromEventBridge(composite) = %+v; want composite with its rule and tags", c)
	}

	other := events.EventBridgeEvent{DetailType: "EC2 Instance State-change Notification", Source: "aws.ec2", Detail: json.RawMessage(`{}`)}
	if _, err := contract.AlarmFromEventBridge(other); !errors.Is(err, contract.ErrNotAlarm) {
		t.Errorf("AlarmFromEventBridge(EC2 event) = %v; want ErrNotAlarm", err)
	}
	bad := composite
	bad.Detail = json.RawMessage(`{"alarmName": 5}`)
	if _, err := contract.AlarmFromEventBridge(bad); err == nil || errors.Is(err, contract.ErrNotAlarm) {
		t.Errorf("AlarmFromEventBridge(bad detail) = %v; want a decode error", err)
	}
}

// FuzzDecodeSNSMessage: any message decodes to an alarm or an error, never
// a panic, and a decoded alarm is usable (state known, ARN and region set).
func FuzzDecodeSNSMessage(f *testing.F) {
	for _, file := range []string{"remediate-ecs-alarm.json", "remediate-ecs-ok.json", "remediate-math-alarm.json", "remediate-composite.json", "remediate-ec2-status-check.json"} {
		f.Add(snsMessage(f, file, 0))
	}
	f.Add(`{"default":"x"}`)
	f.Add(`{"AlarmName":"a","NewStateValue":`)
	f.Fuzz(func(t *testing.T, msg string) {
		a, err := contract.DecodeSNSMessage(msg)
		if err != nil {
			return
		}
		if a.Name == "" || a.ARN == "" || a.Region == "" || a.Timestamp.IsZero() {
			t.Errorf("DecodeSNSMessage(%q) = %+v; want name, ARN, region and time set", msg, a)
		}
		switch a.NewState {
		case contract.StateAlarm, contract.StateOK, contract.StateInsufficientData:
		default:
			t.Errorf("DecodeSNSMessage(%q) state %q; want a known state", msg, a.NewState)
		}
	})
}

// FuzzAlarmFromEventBridge fuzzes the detail of an alarm state change.
func FuzzAlarmFromEventBridge(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "remediate-eventbridge-alarm.json"))
	if err != nil {
		f.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		f.Fatal(err)
	}
	f.Add(string(ev.Detail))
	f.Add(`{"alarmName":"c","state":{"value":"ALARM","timestamp":"2026-11-22T09:00:00.000+0000"},"configuration":{"alarmRule":"TRUE"}}`)
	f.Fuzz(func(t *testing.T, detail string) {
		e := ev
		e.Detail = json.RawMessage(detail)
		a, err := contract.AlarmFromEventBridge(e)
		if err != nil {
			return
		}
		if a.Name == "" || a.Region == "" || a.Timestamp.IsZero() {
			t.Errorf("AlarmFromEventBridge(%q) = %+v; want name, region and time set", detail, a)
		}
	})
}

func BenchmarkDecodeSNSMessage(b *testing.B) {
	msg := snsMessage(b, "remediate-math-alarm.json", 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := contract.DecodeSNSMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}
