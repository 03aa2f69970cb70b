package remediate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

var _ lambda.Handler = (*remediate.Handler)(nil)

// observed runs one payload through the handler as the Lambda runtime
// does (lambda.Start(h): the handler receives the payload's bytes) and
// returns the error, the log and the EMF output of that invocation.
func (r *handlerRig) observed(t *testing.T, payload []byte) (logs, emf string, err error) {
	t.Helper()
	var lb, mb bytes.Buffer
	h := *r.h
	h.Log = slog.New(slog.NewJSONHandler(&lb, nil))
	h.Metrics = telemetry.NewMetrics("Postdeploy", &mb)
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Invoke(%.60q) panicked: %v", payload, p)
		}
	}()
	_, err = lambda.NewHandler(&h).Invoke(context.Background(), payload)
	return lb.String(), mb.String(), err
}

func readEvent(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An EventBridge "CloudWatch Alarm State Change" event wired straight to
// remediate is handled like CloudWatch's SNS notification (CloudWatch
// User Guide, "Alarm events and EventBridge").
func TestHandlerEventBridgeAlarmLikeSNS(t *testing.T) {
	r := newHandlerRig(t)
	logs, emf, err := r.observed(t, readEvent(t, "remediate-eventbridge-alarm.json"))
	if err != nil {
		t.Fatalf("Invoke(remediate-eventbridge-alarm.json) error = %v", err)
	}
	if got := updates(r.ecs); len(got) != 1 || got[0] != "prod/api force=true" {
		t.Errorf("ECS UpdateService calls = %v; want [prod/api force=true]\n%s", got, logs)
	}
	if !strings.Contains(emf, `"EventsHandled":1`) || !strings.Contains(logs, `"decision":"fixed"`) {
		t.Errorf("EventBridge alarm not counted as handled and fixed:\nlogs: %s\nemf: %s", logs, emf)
	}
	// The same state change by SNS afterwards is a duplicate.
	if err := r.invoke(t, "remediate-ecs-alarm.json"); err != nil || len(updates(r.ecs)) != 1 {
		t.Errorf("the same state change by SNS after EventBridge: %v, %d updates; want a duplicate", err, len(updates(r.ecs)))
	}
}

// Anything that is not an alarm is logged with what it was and counted,
// and the invocation succeeds: a retry cannot make it an alarm.
func TestHandlerDropsWhatIsNotAnAlarm(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		metric  string // EventsUnhandled or EventsMalformed
		logs    string // what the log says it was
	}{
		{"empty object", []byte(`{}`), "EventsUnhandled", `"shape":"{}"`},
		{"null", []byte(`null`), "EventsUnhandled", `"shape":"null"`},
		{"a list", []byte(`[{"Records":[]}]`), "EventsUnhandled", `"shape":"array"`},
		{"a string", []byte(`"ALARM"`), "EventsUnhandled", `"shape":"string"`},
		{"not JSON", []byte(`{"Records": [`), "EventsMalformed", `"msg":"payload dropped: not JSON"`},
		{"plain text", []byte(`ALARM prod-api-cpu-high`), "EventsMalformed", `"msg":"payload dropped: not JSON"`},
		{"a CodePipeline job", readEvent(t, "verify-inline.json"), "EventsUnhandled", `"shape":"CodePipeline job"`},
		{"another EventBridge event", readEvent(t, "respond-codebuild-failed.json"), "EventsUnhandled", `"source":"aws.codebuild","detailType":"CodeBuild Build State Change"`},
		{"S3 records", []byte(`{"Records":[{"eventSource":"aws:s3","s3":{"object":{"key":"secret-key-name"}}}]}`), "EventsUnhandled", `"eventSource":"aws:s3"`},
		{"SQS records", []byte(`{"Records":[{"eventSource":"aws:sqs","body":"password=hunter2"}]}`), "EventsUnhandled", `"eventSource":"aws:sqs"`},
		{"Records that are not a list", []byte(`{"Records":{"a":1}}`), "EventsMalformed", `"shape":"object"`},
		{"no records", []byte(`{"Records":[]}`), "EventsUnhandled", `"shape":"Records: []"`},
		{"an unknown object", []byte(`{"hello":"world","token":"abc123"}`), "EventsUnhandled", `"keys":["hello","token"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHandlerRig(t)
			logs, emf, err := r.observed(t, tt.payload)
			if err != nil {
				t.Errorf("Invoke(%.60q) error = %v; want nil (dropped, not retried)", tt.payload, err)
			}
			if !strings.Contains(emf, `"`+tt.metric+`":1`) {
				t.Errorf("Invoke(%.60q) EMF = %s; want %s counted", tt.payload, emf, tt.metric)
			}
			if !strings.Contains(logs, tt.logs) {
				t.Errorf("Invoke(%.60q) logs = %s; want them to say %s", tt.payload, logs, tt.logs)
			}
			for _, secret := range []string{"secret-key-name", "hunter2", "abc123"} {
				if strings.Contains(logs, secret) {
					t.Errorf("Invoke(%.60q) logged the payload's content %q:\n%s", tt.payload, secret, logs)
				}
			}
			if n := len(updates(r.ecs)) + len(r.sns.published()); n != 0 {
				t.Errorf("Invoke(%.60q) acted or notified %d times; want nothing", tt.payload, n)
			}
		})
	}
}

// Decoding the payload in Handle, not in the runtime, is what lets text
// that is not JSON be counted and dropped: the runtime's own decoder
// (lambda.NewHandler on a func taking json.RawMessage) fails the
// invocation, which Lambda retries.
func TestInvalidJSONReachesTheMalformedPath(t *testing.T) {
	r := newHandlerRig(t)
	bad := []byte(`{"Records": [`)
	if _, err := lambda.NewHandler(r.h.Handle).Invoke(context.Background(), bad); err == nil {
		t.Fatal("the runtime's decoder accepted invalid JSON; the Invoke method is no longer needed")
	}
	if _, emf, err := r.observed(t, bad); err != nil || !strings.Contains(emf, `"EventsMalformed":1`) {
		t.Errorf("Invoke(invalid JSON) through the handler = %v, EMF %s; want nil and EventsMalformed counted", err, emf)
	}
}

// awsSamples lists the event samples AWS ships in aws-lambda-go
// (events/testdata) of the module version this build uses.
func awsSamples(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/aws/aws-lambda-go: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no aws-lambda-go samples: %v", err)
	}
	return files
}

// Every sample event AWS ships with aws-lambda-go goes through the
// handler: CloudWatch's alarm notifications (cloudwatch-alarm-sns-payload-*,
// delivered in an SNS record) are decoded and decided on — never dropped
// — and every other sample (S3, SQS, DynamoDB, Kinesis, API Gateway,
// CodePipeline jobs, EventBridge events of other services, SNS messages
// that are not alarms, a malformed file) is logged and counted, never a
// panic and never an error.
func TestHandlerAWSSamples(t *testing.T) {
	for _, f := range awsSamples(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			alarm := strings.HasPrefix(name, "cloudwatch-alarm-sns-payload-")
			if alarm {
				b = inSNSRecord(t, b)
			}
			r := newHandlerRig(t)
			logs, emf, err := r.observed(t, b)
			if err != nil {
				t.Errorf("Invoke(%s) error = %v; want nil", name, err)
			}
			dropped := strings.Contains(emf, `"EventsUnhandled":1`) || strings.Contains(emf, `"EventsMalformed":1`)
			if alarm {
				if dropped || !strings.Contains(logs, `"msg":"alarm handled"`) {
					t.Errorf("Invoke(%s): the alarm notification was not decided on:\nlogs: %s\nemf: %s", name, logs, emf)
				}
				// The samples' alarms are not this function's (their ARNs
				// name region REGION): decided, and refused.
				if !strings.Contains(logs, `"decision":"refused"`) || len(updates(r.ecs)) != 0 {
					t.Errorf("Invoke(%s): want the sample's alarm refused and nothing touched:\n%s", name, logs)
				}
				return
			}
			if !dropped || strings.Contains(emf, "EventsHandled") {
				t.Errorf("Invoke(%s): not counted as unhandled or malformed:\nlogs: %s\nemf: %s", name, logs, emf)
			}
			if n := len(updates(r.ecs)) + len(r.sns.published()); n != 0 {
				t.Errorf("Invoke(%s) acted or notified %d times; want nothing", name, n)
			}
		})
	}
}

// inSNSRecord returns b as an SNS event: as is when it already is one (the
// samples ship so), else wrapped as the Message of one SNS record.
func inSNSRecord(t *testing.T, b []byte) []byte {
	t.Helper()
	var ev events.SNSEvent
	if json.Unmarshal(b, &ev) == nil && len(ev.Records) > 0 && ev.Records[0].SNS.Message != "" {
		return b
	}
	out, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
		SNS: events.SNSEntity{Type: "Notification", MessageID: "sample", TopicArn: "arn:aws:sns:us-east-1:" + acct + ":postdeploy-alarms", Message: string(b)}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzHandlerPayload: whatever Lambda delivers, the handler never panics,
// and a payload that names no alarm is never an error (Lambda would
// retry it) and never acts.
func FuzzHandlerPayload(f *testing.F) {
	for _, file := range []string{"remediate-ecs-alarm.json", "remediate-eventbridge-alarm.json", "remediate-mixed-batch.json", "remediate-composite.json", "verify-inline.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"Records":[{"eventSource":"aws:s3"}]}`, `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{\"AlarmName\":\"x\"}"}}]}`, `{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":5}`} {
		f.Add([]byte(s))
	}
	// No table (the shared dynalite is not for fuzz workers): an
	// in-memory store, CloudWatch holding the events/ files' alarms.
	ecsFake := newFakeECS(map[string]map[string]string{"prod/api": {"postdeploy:remediate": "true"}, "prod/search": {"postdeploy:remediate": "true"}})
	cw := &fakeCloudWatch{}
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "remediate-*.json"))
	for _, a := range eventAlarms(f, files...) {
		if !strings.HasPrefix(a.ARN, "arn:aws:cloudwatch:us-east-1:999") {
			cw.define(a)
		}
	}
	n := &fakeNotifier{}
	clk := &clock{t: start}
	e := (&remediate.Engine{
		Policy: loadPolicy(f, shippedPolicy), Store: newMemStore(), Alarms: cw, Notify: n, Log: quiet, Region: "us-east-1",
		Actions: remediate.Actions(remediate.Clients{ECS: ecsFake, EC2: &fakeEC2{}, Notify: n}), Now: clk.Now, Sleep: clk.Sleep,
	}).SetDefaults()
	h := &remediate.Handler{Engine: e, Log: quiet}
	f.Fuzz(func(t *testing.T, payload []byte) {
		before := ecsFake.updateCount()
		err := h.Handle(context.Background(), payload)
		if err != nil && !strings.Contains(err.Error(), "alarm ") {
			t.Errorf("Handle(%.80q) = %v; want nil, or an error naming the alarm the engine could not decide on", payload, err)
		}
		if !bytes.Contains(payload, []byte("prod-")) && ecsFake.updateCount() != before {
			t.Errorf("Handle(%.80q) acted on a payload naming none of CloudWatch's alarms", payload)
		}
	})
}

// Through the handler, with the events/ files: the OK that closes the
// incident is summarised and notified with the rule and action that
// handled it.
func TestHandlerRecoveredNamesItsAction(t *testing.T) {
	r := newHandlerRig(t)
	r.mustInvoke(t, "remediate-ecs-alarm.json")
	r.cw.set("OK")
	logs, _, err := r.observed(t, readEvent(t, "remediate-ecs-ok.json"))
	if err != nil {
		t.Fatalf("Invoke(remediate-ecs-ok.json) error = %v", err)
	}
	if !strings.Contains(logs, `"decision":"recovered"`) || !strings.Contains(logs, "(rule ecs-cpu-redeploy, action ecs.redeploy)") {
		t.Errorf("recovered log line does not name its action:\n%s", logs)
	}
	r.sns.mu.Lock()
	last := aws.ToString(r.sns.pub[len(r.sns.pub)-1].Message)
	r.sns.mu.Unlock()
	if !strings.Contains(last, "Recovered") || !strings.Contains(last, "handled by rule ecs-cpu-redeploy with action ecs.redeploy") {
		t.Errorf("recovery notification does not name its action:\n%s", last)
	}
}
