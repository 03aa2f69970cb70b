package respond

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// suiteCW is CloudWatch's DescribeAlarms over a few metric alarms, by
// name, as CloudWatch answers AlarmNames: the alarms of those names, none
// for a name it does not have.
type suiteCW struct {
	alarms map[string]cwtypes.MetricAlarm
	err    error
	asked  []string
}

var _ AlarmAPI = (*suiteCW)(nil)

func (f *suiteCW) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.asked = append(f.asked, in.AlarmNames...)
	if f.err != nil {
		return nil, f.err
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if a, ok := f.alarms[n]; ok {
			out.MetricAlarms = append(out.MetricAlarms, a)
		}
	}
	return out, nil
}

const suiteAccount = "123456789012"

func alarmARN(account, name string) string {
	return "arn:aws:cloudwatch:us-east-1:" + account + ":alarm:" + name
}

// lambdaErrorsAlarm is a Lambda Errors alarm notifying topic on ALARM
// and on OK, as infra/stack suiteAlarms makes them.
func lambdaErrorsAlarm(name, topic string) cwtypes.MetricAlarm {
	return cwtypes.MetricAlarm{
		AlarmName: aws.String(name), AlarmArn: aws.String(alarmARN(suiteAccount, name)),
		AlarmActions: []string{topic}, OKActions: []string{topic},
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
	}
}

// lambdaErrorsEvent is EventBridge's "CloudWatch Alarm State Change" for
// a Lambda Errors alarm (the shape of events/respond-alarm-errors.json).
func lambdaErrorsEvent(t *testing.T, account, name, state, previous string) []byte {
	t.Helper()
	at := testNow.Add(-time.Minute)
	d := map[string]any{
		"alarmName":     name,
		"state":         map[string]any{"value": state, "reason": "Threshold Crossed: 1 datapoint [2.0] was greater than or equal to the threshold (1.0).", "timestamp": at.Format("2006-01-02T15:04:05.000-0700")},
		"previousState": map[string]any{"value": previous, "reason": "", "timestamp": at.Add(-time.Hour).Format("2006-01-02T15:04:05.000-0700")},
		"configuration": map[string]any{"description": "postdeploy respond failed at least once in 5 minutes (Lambda Errors ≥ 1).", "metrics": []any{map[string]any{
			"id": "m1", "returnData": true,
			"metricStat": map[string]any{"metric": map[string]any{"namespace": "AWS/Lambda", "name": "Errors", "dimensions": map[string]string{"FunctionName": "postdeploy-respond"}}, "period": 300, "stat": "Sum"},
		}}},
	}
	db, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "e-" + name + "-" + state, DetailType: contract.DetailTypeAlarmStateChange, Source: contract.AlarmSource,
		AccountID: account, Time: at, Region: "us-east-1", Resources: []string{alarmARN(account, name)}, Detail: db})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestSuiteAlarmNotRepagedApplicationAlarmStillPaged: the suite's own
// alarms (Postdeploy-<function>-errors, …) notify the escalation topic
// through their alarm actions, so respond does not page them again — not
// to the application topic with the application-errors runbook, nor to
// any other — and counts each one left to its actions. An alarm is the
// suite's only when its name has the prefix AND CloudWatch confirms that
// its action for the new state notifies the escalation topic, for this
// alarm's ARN; any other alarm, including one of a similar name without
// the prefix, is paged as before.
func TestSuiteAlarmNotRepagedApplicationAlarmStillPaged(t *testing.T) {
	escalation, application := topicARN(notify.Escalation), topicARN(notify.Application)
	cw := map[string]cwtypes.MetricAlarm{
		"Postdeploy-respond-errors":     lambdaErrorsAlarm("Postdeploy-respond-errors", escalation),
		"Postdeployment-respond-errors": lambdaErrorsAlarm("Postdeployment-respond-errors", application),
		"Postdeploy-checkout-errors":    lambdaErrorsAlarm("Postdeploy-checkout-errors", application),
	}
	tests := []struct {
		name, prefix, account, alarm, state, previous string
		cwErr                                         error
		wantTopic                                     string // "" for no page
		wantDescribed                                 bool
	}{
		{"suite alarm to ALARM: left to its alarm action", "Postdeploy-", suiteAccount, "Postdeploy-respond-errors", contract.StateAlarm, contract.StateOK, nil, "", true},
		{"suite alarm back to OK: left to its OK action", "Postdeploy-", suiteAccount, "Postdeploy-respond-errors", contract.StateOK, contract.StateAlarm, nil, "", true},
		{"application alarm of a similar name without the prefix: paged", "Postdeploy-", suiteAccount, "Postdeployment-respond-errors", contract.StateAlarm, contract.StateOK, nil, application, false},
		{"application alarm with the prefix whose action is not the escalation topic: paged", "Postdeploy-", suiteAccount, "Postdeploy-checkout-errors", contract.StateAlarm, contract.StateOK, nil, application, true},
		{"member account's alarm of the suite's name (another ARN): paged", "Postdeploy-", "210987654321", "Postdeploy-respond-errors", contract.StateAlarm, contract.StateOK, nil, application, true},
		{"CloudWatch cannot confirm (DescribeAlarms fails): paged", "Postdeploy-", suiteAccount, "Postdeploy-respond-errors", contract.StateAlarm, contract.StateOK, errors.New("api error Throttling: Rate exceeded"), application, true},
		{"no prefix configured: paged as any alarm", "", suiteAccount, "Postdeploy-respond-errors", contract.StateAlarm, contract.StateOK, nil, application, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			api := &suiteCW{alarms: cw, err: tt.cwErr}
			rem := &recordingRemediator{out: "none"}
			r.h.Alarms, r.h.Remediator = api, rem
			r.h.SuiteAlarms = SuiteAlarms{Prefix: tt.prefix, Escalation: escalation}
			if err := r.invoke(t, lambdaErrorsEvent(t, tt.account, tt.alarm, tt.state, tt.previous)); err != nil {
				t.Fatalf("Invoke(%s %s) error: %v", tt.alarm, tt.state, err)
			}
			if got := len(api.asked) > 0; got != tt.wantDescribed {
				t.Errorf("DescribeAlarms asked for %v; want asked %v", api.asked, tt.wantDescribed)
			}
			notRouted := r.metric(MetricSuiteAlarmsNotRouted, "Alarm", tt.alarm)
			if tt.wantTopic == "" {
				if len(r.sns.in) != 0 {
					t.Errorf("Invoke(%s %s) published to %s (%q); want no page: its alarm action notifies the escalation topic",
						tt.alarm, tt.state, aws.ToString(r.sns.in[0].TopicArn), aws.ToString(r.sns.in[0].Subject))
				}
				if notRouted != 1 {
					t.Errorf("%s{Alarm=%s} = %v; want 1\nmetrics:\n%s", MetricSuiteAlarmsNotRouted, tt.alarm, notRouted, r.metrics)
				}
				if !strings.Contains(r.logs.String(), "its own alarm action notifies the escalation topic") {
					t.Errorf("no log line says why the alarm was not notified:\n%s", r.logs)
				}
				if len(rem.alarms) != 0 {
					t.Errorf("remediation engine handed %v; want nothing: the suite never tries to fix itself", rem.alarms)
				}
				if got := r.metric("EventsHandled", "Kind", kindAlarm); got != 1 {
					t.Errorf("EventsHandled{Kind=alarm} = %v; want 1 (handled: left to its action)", got)
				}
				return
			}
			if len(r.sns.in) != 1 {
				t.Fatalf("Invoke(%s %s) published %d messages; want 1 page\nlogs:\n%s", tt.alarm, tt.state, len(r.sns.in), r.logs)
			}
			if got := aws.ToString(r.sns.in[0].TopicArn); got != tt.wantTopic {
				t.Errorf("Invoke(%s %s) paged %s; want %s", tt.alarm, tt.state, got, tt.wantTopic)
			}
			if notRouted != 0 {
				t.Errorf("%s{Alarm=%s} = %v; want 0 for a paged alarm", MetricSuiteAlarmsNotRouted, tt.alarm, notRouted)
			}
		})
	}
}
