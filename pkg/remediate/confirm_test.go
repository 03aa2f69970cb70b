package remediate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// Never act on a message alone: the alarm is read from CloudWatch in the
// function's own account and region (DescribeAlarms by name, metric and
// composite alarms), and the decision is taken on what CloudWatch says.
// Each case delivers a message that does not match CloudWatch and checks
// that nothing the message names is touched, and that the decision is
// "refused", audited, counted and notified.
func TestNeverActsOnAMessageAlone(t *testing.T) {
	genuine := ecsAlarm("api", "ALARM", start) // CloudWatch's alarm: prod/api
	tests := []struct {
		name    string
		msg     func() remediate.Alarm
		want    remediate.Decision
		reason  string
		updates []string
	}{
		{
			name: "an alarm of another account with the same name",
			msg: func() remediate.Alarm {
				a := genuine
				a.ARN, a.AccountID = "arn:aws:cloudwatch:us-east-1:999999999999:alarm:prod-api-cpu-high", "999999999999"
				return a
			},
			want:   remediate.Refused,
			reason: `the message names alarm ARN arn:aws:cloudwatch:us-east-1:999999999999:alarm:prod-api-cpu-high, but CloudWatch's alarm "prod-api-cpu-high" in this function's account and region is arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-cpu-high`,
		},
		{
			name: "an alarm that does not exist",
			msg: func() remediate.Alarm {
				a := ecsAlarm("search", "ALARM", start) // prod/search is opted in, but there is no such alarm
				return a
			},
			want:   remediate.Refused,
			reason: `CloudWatch has no alarm named "prod-search-cpu-high" in this function's account and region (us-east-1)`,
		},
		{
			name: "an alarm name that does not match its ARN",
			msg: func() remediate.Alarm {
				a := genuine
				a.ARN = alarmARN("prod-search-cpu-high")
				return a
			},
			want:   remediate.Refused,
			reason: "but CloudWatch's alarm \"prod-api-cpu-high\" in this function's account and region is " + alarmARN("prod-api-cpu-high"),
		},
		{
			name: "a real alarm whose message claims another service's dimensions acts on the alarm's own service",
			msg: func() remediate.Alarm {
				a := genuine
				dims := map[string]string{"ClusterName": "prod", "ServiceName": "search"}
				a.Dimensions = dims
				a.Metrics = []remediate.Metric{{Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: dims}}
				return a
			},
			want:    remediate.Fixed,
			updates: []string{"prod/api force=true"},
		},
		{
			name: "a real alarm whose message claims another namespace matches on the alarm's own",
			msg: func() remediate.Alarm {
				a := genuine
				a.Namespace, a.Metrics = "AWS/EC2", []remediate.Metric{{Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: map[string]string{"InstanceId": "i-0a1b2c3d4e5f67890"}}}
				a.Dimensions = a.Metrics[0].Dimensions
				return a
			},
			want:    remediate.Fixed,
			updates: []string{"prod/api force=true"},
		},
	}
	tests = append(tests, struct {
		name    string
		msg     func() remediate.Alarm
		want    remediate.Decision
		reason  string
		updates []string
	}{
		// Found by hand against moto: the delivery claim is keyed on the
		// state change time, so an invented time passed for a new state
		// change of an alarm really in ALARM (only the cooldown stopped a
		// second action).
		name: "a real alarm in ALARM with an invented state change time",
		msg: func() remediate.Alarm {
			a := genuine
			a.Timestamp = genuine.Timestamp.Add(-18 * time.Minute)
			return a
		},
		want:   remediate.Refused,
		reason: "but CloudWatch's last state change of it was at " + genuine.Timestamp.UTC().Format(time.RFC3339Nano),
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testPolicy)
			r.cw.transitions = true
			r.cw.define(genuine)
			r.cw.define(ecsAlarm("search", "ALARM", start)) // exists only to be mismatched below
			if tt.name == "an alarm that does not exist" {
				r.cw.defs = map[string]remediate.Alarm{genuine.Name: genuine}
			}
			msg := tt.msg()
			out, err := r.e.Handle(context.Background(), msg)
			if err != nil {
				t.Fatalf("Handle(%s) error = %v; want a decision", msg.ARN, err)
			}
			if out.Decision != tt.want || !strings.Contains(out.Reason, tt.reason) {
				t.Errorf("Handle(%s) = %s (%s); want %s containing %q", msg.ARN, out.Decision, out.Reason, tt.want, tt.reason)
			}
			if got := updates(r.ecs); !cmp.Equal(got, tt.updates) {
				t.Errorf("ECS UpdateService calls = %v; want %v", got, tt.updates)
			}
			if tt.want != remediate.Refused {
				return
			}
			trail := r.trail(t, msg)
			if len(trail) != 1 || trail[0]["decision"] != "refused" || trail[0]["reason"] != out.Reason {
				t.Errorf("audit trail of %s = %v; want one refused record with the reason", msg.ARN, trail)
			}
			if !strings.Contains(r.emf.String(), `"Outcome":"refused"`) {
				t.Errorf("EMF output has no Remediations count with Outcome refused:\n%s", r.emf.String())
			}
			if got := r.n.kinds(); len(got) != 1 {
				t.Errorf("notifications = %v; want one (a refusal is notified)", got)
			} else if m := r.n.msgs[0]; !strings.Contains(m.Subject, "Refused") || strings.Contains(m.Body, "Threshold Crossed") {
				t.Errorf("notification = %q\n%s\nwant a refusal that does not repeat the message's text as evidence", m.Subject, m.Body)
			}
		})
	}
}

// A metric-math alarm's resource is the dimensions its metrics share in
// CloudWatch's definition, and a composite alarm's the dimensions shared
// by the alarms its rule names, read from CloudWatch too (by name or by
// ARN, quoted or not: PutCompositeAlarm's AlarmRule syntax); never the
// message's.
func TestResourceFromTheAlarmsOwnDefinition(t *testing.T) {
	const policy = `
optInTag: {key: "postdeploy:remediate", value: "true"}
defaults: {verifyTimeout: 2m, verifyInterval: 15s}
rules:
  - name: by-service
    match: {alarmName: "prod-*", dimensions: {ClusterName: "*", ServiceName: "*"}}
    action: ecs.scale
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}", step: 2, min: 2, max: 12}
`
	apiDims := map[string]string{"ClusterName": "prod", "ServiceName": "api"}
	math := remediate.Alarm{
		Name: "prod-api-5xx-rate", ARN: alarmARN("prod-api-5xx-rate"), AccountID: acct, Region: "us-east-1", NewState: "ALARM", Timestamp: start,
		Metrics: []remediate.Metric{
			{ID: "rate", Expression: "100*errors/requests"},
			{ID: "errors", Namespace: "Postdeploy/App", MetricName: "HTTPErrors", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api", "Class": "5xx"}},
			{ID: "requests", Namespace: "Postdeploy/App", MetricName: "Requests", Dimensions: apiDims},
		},
	}
	cpu := ecsAlarm("api", "ALARM", start)
	composite := remediate.Alarm{
		Name: "prod-api-degraded", ARN: alarmARN("prod-api-degraded"), AccountID: acct, Region: "us-east-1", NewState: "ALARM", Timestamp: start,
		Composite: true, Rule: `ALARM("prod-api-cpu-high") AND (ALARM(` + alarmARN("prod-api-5xx-rate") + `) OR NOT OK(prod-nested))`,
	}
	nested := remediate.Alarm{
		Name: "prod-nested", ARN: alarmARN("prod-nested"), AccountID: acct, Region: "us-east-1", NewState: "ALARM", Timestamp: start,
		Composite: true, Rule: `ALARM("prod-api-cpu-high") OR ALARM("arn:aws:cloudwatch:us-east-1:999999999999:alarm:elsewhere")`,
	}
	// The message claims the search service; CloudWatch says api.
	claimSearch := func(a remediate.Alarm) remediate.Alarm {
		a.Dimensions = map[string]string{"ClusterName": "prod", "ServiceName": "search"}
		a.Metrics = []remediate.Metric{{Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: a.Dimensions}}
		a.Composite, a.Rule = false, ""
		return a
	}
	tests := []struct {
		name    string
		defs    []remediate.Alarm
		msg     remediate.Alarm
		updates []string
	}{
		{"metric math: the dimensions its metrics share", []remediate.Alarm{math}, claimSearch(math), []string{"prod/api desired=4"}},
		{"composite: the dimensions its children share, read from CloudWatch", []remediate.Alarm{composite, nested, cpu, math}, claimSearch(composite), []string{"prod/api desired=4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, policy)
			for _, d := range tt.defs {
				r.cw.define(d)
			}
			r.cw.set("ALARM")
			out, err := r.e.Handle(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("Handle(%s) error = %v", tt.msg.Name, err)
			}
			if got := updates(r.ecs); !cmp.Equal(got, tt.updates) {
				t.Errorf("Handle(%s) = %s (%s); ECS calls %v; want %v", tt.msg.Name, out.Decision, out.Reason, got, tt.updates)
			}
		})
	}
}

// The alarm's tags come from CloudWatch (ListTagsForResource), never from
// the message (an EventBridge event carries alarmTags anyone could write).
func TestAlarmTagsFromCloudWatchNotTheMessage(t *testing.T) {
	r := newRig(t, teamAPIPolicy)
	r.cw.tags = map[string]string{"team": "web"}
	msg := ecsAlarm("api", "ALARM", start)
	msg.Tags = map[string]string{"team": "api"}
	if out := r.handle(t, msg); out.Decision != remediate.Ignored || r.cw.tagCalls != 1 {
		t.Errorf("Handle(message tagged team=api, CloudWatch team=web) = %s (%s) after %d tag reads; want ignored after 1", out.Decision, out.Reason, r.cw.tagCalls)
	}
}

// If CloudWatch cannot be read, nothing is decided on the message: the
// error is returned (Lambda retries the delivery) and the state change is
// released, so the retry decides once CloudWatch answers.
func TestCloudWatchUnreadableIsRetriedNotDecided(t *testing.T) {
	r := newRig(t, testPolicy)
	a := ecsAlarm("api", "ALARM", start)
	r.cw.define(a)
	r.cw.hook = func(context.Context) error { return errors.New("InternalFailure: CloudWatch is unwell") }
	out, err := r.e.Handle(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "InternalFailure") {
		t.Fatalf("Handle with CloudWatch failing = %s (%s), %v; want an error naming the failure", out.Decision, out.Reason, err)
	}
	if n := r.ecs.updateCount(); n != 0 {
		t.Errorf("UpdateService calls = %d; want 0 when CloudWatch cannot confirm the alarm", n)
	}
	if got := r.trail(t, a); len(got) != 0 {
		t.Errorf("audit trail = %v; want nothing decided", got)
	}
	r.cw.hook = nil
	if out := r.handle(t, a); out.Decision != remediate.Fixed {
		t.Errorf("retried delivery once CloudWatch answers = %s (%s); want fixed (the claim was released)", out.Decision, out.Reason)
	}
}

// An OK delivery closes the incident only once CloudWatch confirms the
// alarm is OK: a late OK of an alarm that fired again is refused
// (audited and counted, not notified), and the incident stays open with
// its attempts.
func TestRecoveryConfirmedByCloudWatch(t *testing.T) {
	r := newRig(t, testPolicy)
	if out := r.handle(t, ecsAlarm("api", "ALARM", start)); out.Decision != remediate.Fixed {
		t.Fatalf("ALARM: %s (%s); want fixed", out.Decision, out.Reason)
	}
	notes := len(r.n.kinds())
	r.pinned = true
	r.cw.set("ALARM")
	ok := ecsAlarm("api", "OK", start.Add(5*time.Minute))
	out := r.handle(t, ok)
	if out.Decision != remediate.Refused || !strings.Contains(out.Reason, "in state ALARM now, not OK") {
		t.Errorf("OK while CloudWatch says ALARM = %s (%s); want refused", out.Decision, out.Reason)
	}
	if got := r.n.kinds(); len(got) != notes {
		t.Errorf("notifications after the refused OK = %v; want none added", got[notes:])
	}
	r.cw.set("OK")
	out = r.handle(t, ecsAlarm("api", "OK", start.Add(7*time.Minute)))
	if out.Decision != remediate.Recovered || out.TimeToRecover != 7*time.Minute {
		t.Errorf("OK confirmed by CloudWatch = %s after %s; want recovered after 7m (the refused OK left the incident open)", out.Decision, out.TimeToRecover)
	}
	if got := r.n.kinds(); !cmp.Equal(got[len(got)-1:], []notify.Kind{notify.HighCPU}) {
		t.Errorf("notifications = %v; want the recovery last", got)
	}
}
