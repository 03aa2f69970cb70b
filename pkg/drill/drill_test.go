package drill

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/state"
)

func TestClassify(t *testing.T) {
	attrs := func(kv ...string) map[string]messageAttribute {
		m := map[string]messageAttribute{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = messageAttribute{"String", kv[i+1]}
		}
		return m
	}
	tests := []struct {
		name   string
		env    envelope
		want   sighting
		wantOK bool
	}{
		{"CloudWatch's notification",
			envelope{TopicArn: "t", Message: `{"AlarmName":"a","NewStateValue":"ALARM","NewStateReason":"postdeploy drill","StateChangeTime":"2026-12-05T02:00:00.123+0000"}`},
			sighting{from: fromCloudWatch, topic: "t", alarm: "a", state: "ALARM", reason: contract.DrillReason,
				changed: time.Date(2026, 12, 5, 2, 0, 0, 123e6, time.UTC)}, true},
		{"respond's alert",
			envelope{TopicArn: "t", Message: "ALARM: a", MessageAttributes: attrs("alarm", "a", "kind", "high-cpu")},
			sighting{from: fromRespond, topic: "t", alarm: "a"}, true},
		{"remediate's decision",
			envelope{TopicArn: "t", Message: "Dry run", MessageAttributes: attrs("alarm", "a", "decision", "dry-run")},
			sighting{from: fromRemediate, topic: "t", alarm: "a", decision: "dry-run"}, true},
		{"a finding", envelope{TopicArn: "t", Message: "P1 finding", MessageAttributes: attrs("kind", "security")}, sighting{}, false},
		{"JSON that is no alarm", envelope{TopicArn: "t", Message: `{"version":"1.0"}`}, sighting{}, false},
	}
	for _, tc := range tests {
		got, ok := classify(tc.env, time.Time{})
		if ok != tc.wantOK || (ok && (got.from != tc.want.from || got.alarm != tc.want.alarm || got.state != tc.want.state ||
			got.reason != tc.want.reason || got.decision != tc.want.decision || got.topic != tc.want.topic || !got.changed.Equal(tc.want.changed))) {
			t.Errorf("classify(%s) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

type fakeTrail struct{ recs []state.Record }

func (f fakeTrail) Trail(context.Context, string, int) ([]state.Record, error) { return f.recs, nil }

// remediate audits the state change time CloudWatch gave it; the drill
// takes only records of its own ALARM state change.
func TestDecisionMatchesTheDrillsStateChange(t *testing.T) {
	changed := time.Date(2026, 12, 5, 2, 0, 0, 123e6, time.UTC)
	rec := func(at time.Time, st string, kv ...string) state.Record {
		attrs := map[string]string{"stateChangeTime": at.Format(time.RFC3339Nano), "state": st}
		for i := 0; i+1 < len(kv); i += 2 {
			attrs[kv[i]] = kv[i+1]
		}
		return state.Record{Attrs: attrs}
	}
	tests := []struct {
		name      string
		recs      []state.Record
		wantFound bool
		want      string
		called    bool
	}{
		{"none", nil, false, "", false},
		{"an older state change", []state.Record{rec(changed.Add(-time.Hour), "ALARM", "decision", "fixed")}, false, "", false},
		{"the restore's OK", []state.Record{rec(changed, "OK", "decision", "recovered")}, false, "", false},
		{"the drill's, in dry run", []state.Record{rec(changed.Add(300*time.Millisecond), "ALARM", "decision", "dry-run", "rule", "r", "drill", "true", "called", "false")}, true, "dry-run (rule r, drill)", false},
		{"the drill's, acted", []state.Record{rec(changed, "ALARM", "decision", "fixed", "rule", "r", "called", "true", "call", "UpdateService x")}, true, "fixed (rule r, CALLED UpdateService x)", true},
	}
	for _, tc := range tests {
		got, found, err := decision(context.Background(), fakeTrail{tc.recs}, "arn", changed)
		if err != nil || found != tc.wantFound || (found && (got.describe() != tc.want || got.called != tc.called)) {
			t.Errorf("decision(%s) = %q (called %v), %v, %v; want %q (called %v), %v", tc.name, got.describe(), got.called, found, err, tc.want, tc.called, tc.wantFound)
		}
	}
}

// The queue admits SNS for the stack's topics only ("Fanout to Amazon
// SQS queues", Amazon SNS Developer Guide: the queue policy's
// aws:SourceArn condition).
func TestQueuePolicyAdmitsOnlyTheStacksTopics(t *testing.T) {
	topics := []string{"arn:aws:sns:eu-west-1:1:a", "arn:aws:sns:eu-west-1:1:b"}
	p, err := queuePolicy("arn:aws:sqs:eu-west-1:1:q", topics)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
			Resource  string
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(p), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Statement
	if len(s) != 1 || s[0].Effect != "Allow" || s[0].Principal["Service"] != "sns.amazonaws.com" || s[0].Action != "sqs:SendMessage" ||
		s[0].Resource != "arn:aws:sqs:eu-west-1:1:q" || strings.Join(s[0].Condition["ArnEquals"]["aws:SourceArn"], ",") != strings.Join(topics, ",") {
		t.Errorf("queuePolicy = %s; want one Allow of sns.amazonaws.com SendMessage to the queue for exactly the topics", p)
	}
}

type fakeStacks struct {
	describe  *cloudformation.DescribeStacksOutput
	err       error
	resources []cfntypes.StackResourceSummary
}

func (f fakeStacks) DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f.describe, f.err
}

func (f fakeStacks) ListStackResources(context.Context, *cloudformation.ListStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	return &cloudformation.ListStackResourcesOutput{StackResourceSummaries: f.resources}, nil
}

var _ StackAPI = fakeStacks{}

func TestDiscover(t *testing.T) {
	stack := func(status cfntypes.StackStatus, outputs ...string) *cloudformation.DescribeStacksOutput {
		s := cfntypes.Stack{StackName: aws.String("P"), StackId: aws.String("arn:aws:cloudformation:eu-west-1:111122223333:stack/P/x"), StackStatus: status}
		for _, o := range outputs {
			s.Outputs = append(s.Outputs, cfntypes.Output{OutputKey: aws.String(o), OutputValue: aws.String("v-" + o)})
		}
		return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{s}}
	}
	res := func(typ, id string) cfntypes.StackResourceSummary {
		return cfntypes.StackResourceSummary{ResourceType: aws.String(typ), PhysicalResourceId: aws.String(id)}
	}
	resources := []cfntypes.StackResourceSummary{
		res("AWS::CloudWatch::Alarm", "b-alarm"), res("AWS::CloudWatch::Alarm", "a-alarm"), res("AWS::SNS::Topic", "arn:aws:sns:eu-west-1:1:t"),
		res("AWS::CloudWatch::Dashboard", "d"), res("AWS::Lambda::Function", "f"),
	}
	tests := []struct {
		name    string
		api     fakeStacks
		wantErr error
		errText string
	}{
		{"no such stack", fakeStacks{err: &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id P does not exist"}}, ErrNoStack, `stack "P"`},
		{"another version", fakeStacks{describe: stack(cfntypes.StackStatusCreateComplete, "StateTableName"), resources: resources}, ErrOtherVersion, "TokenKeySecretArn"},
		{"still updating", fakeStacks{describe: stack(cfntypes.StackStatusUpdateInProgress, RequiredOutputs...), resources: resources}, nil, "UPDATE_IN_PROGRESS"},
		{"no topics", fakeStacks{describe: stack(cfntypes.StackStatusCreateComplete, RequiredOutputs...)}, ErrOtherVersion, "no SNS topics"},
	}
	for _, tc := range tests {
		_, err := Discover(context.Background(), tc.api, "P")
		if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("Discover(%s) = %v; want %v naming %q", tc.name, err, tc.wantErr, tc.errText)
		}
	}
	s, err := Discover(context.Background(), fakeStacks{describe: stack(cfntypes.StackStatusUpdateComplete, RequiredOutputs...), resources: resources}, "P")
	if err != nil {
		t.Fatalf("Discover(ok) = %v", err)
	}
	if strings.Join(s.Alarms, ",") != "a-alarm,b-alarm" || len(s.Topics) != 1 || len(s.Dashboards) != 1 || s.Table != "v-StateTableName" || s.Region != "eu-west-1" || s.Account != "111122223333" {
		t.Errorf("Discover(ok) = %+v; want sorted alarms, one topic, one dashboard, the table, region and account", s)
	}
}

func TestReportOK(t *testing.T) {
	tests := []struct {
		name string
		rep  Report
		want bool
	}{
		{"all good, an empty widget", Report{Rows: []Row{{Alarm: "a", Restored: "restored to OK"}}, Widgets: []WidgetCheck{{Widget: "w"}}}, true},
		{"a skipped alarm", Report{Rows: []Row{{Alarm: "a", Skipped: "in ALARM now"}}}, true},
		{"a broken path", Report{Rows: []Row{{Alarm: "a", Problems: []string{"x"}}}}, false},
		{"not restored", Report{Rows: []Row{{Alarm: "a", Restored: "NOT restored to OK: denied"}}}, false},
		{"queue left", Report{Cleanup: []string{"delete the drill's queue"}}, false},
	}
	for _, tc := range tests {
		if got := tc.rep.OK(); got != tc.want {
			t.Errorf("Report{%s}.OK() = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// A message on the drill's queue carries whatever its publisher wrote:
// reading it must never panic.
func FuzzClassify(f *testing.F) {
	f.Add(`{"Type":"Notification","TopicArn":"t","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"ALARM\"}"}`)
	f.Add(`{"Type":"Notification","Message":"x","MessageAttributes":{"alarm":{"Type":"String","Value":"a"},"decision":{"Value":7}}}`)
	f.Add(`{"Type":"Notification","Message":" {\"AlarmName\":[1]} "}`)
	f.Fuzz(func(t *testing.T, body string) {
		var e envelope
		if json.Unmarshal([]byte(body), &e) != nil {
			return
		}
		if s, ok := classify(e, time.Time{}); ok && s.alarm == "" {
			t.Errorf("classify(%q) = %+v, true; a sighting must name its alarm", body, s)
		}
	})
}
