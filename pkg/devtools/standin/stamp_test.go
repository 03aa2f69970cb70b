package standin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// A notification replayed from events/ carries the state change time the
// stand-in's CloudWatch recorded, as CloudWatch's own notification does;
// other records are left alone.
func TestStampAlarmNotifications(t *testing.T) {
	s := startServer(t, Scenario{Alarms: []Alarm{{Name: "prod-worker-status-check", State: "ALARM", Since: Duration{Duration: 30 * time.Second},
		Namespace: "AWS/EC2", MetricName: "StatusCheckFailed_Instance", Dimensions: map[string]string{"InstanceId": "i-0a1b2c3d4e5f67890"}}}})
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "remediate-mixed-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StampAlarmNotifications(raw)
	if err != nil {
		t.Fatalf("StampAlarmNotifications: %v", err)
	}
	at, _ := s.AlarmStateChanged("prod-worker-status-check")
	want := at.UTC().Format("2006-01-02T15:04:05.000-0700")
	var before, after events.SNSEvent
	if err := json.Unmarshal(raw, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatal(err)
	}
	stamped := 0
	for i, rec := range after.Records {
		var msg map[string]any
		if json.Unmarshal([]byte(rec.SNS.Message), &msg) != nil || msg["AlarmName"] != "prod-worker-status-check" {
			if rec.SNS.Message != before.Records[i].SNS.Message {
				t.Errorf("record %d (not this stand-in's alarm) was rewritten:\n%s", i, rec.SNS.Message)
			}
			continue
		}
		stamped++
		if msg["StateChangeTime"] != want {
			t.Errorf("record %d StateChangeTime = %v; want %s", i, msg["StateChangeTime"], want)
		}
	}
	if stamped == 0 {
		t.Fatal("no record of prod-worker-status-check in the sample; the test checks nothing")
	}
	if _, err := s.StampAlarmNotifications([]byte("not json")); err == nil {
		t.Error("StampAlarmNotifications(not JSON) = nil error; want one")
	}
}
