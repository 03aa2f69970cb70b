package respond

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// awsSamples returns the event samples AWS ships with aws-lambda-go
// (events/testdata), from the module version this build uses.
func awsSamples(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/aws/aws-lambda-go: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", dir, err)
	}
	samples := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		samples[filepath.Base(f)] = b
	}
	return samples
}

// metricTotal sums name over every record, whatever its dimensions.
func (r *rig) metricTotal(name string) float64 {
	var sum float64
	for line := range strings.SplitSeq(strings.TrimSpace(r.metrics.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			if v, ok := rec[name].(float64); ok {
				sum += v
			}
		}
	}
	return sum
}

// logLines decodes the JSON log lines with the given message prefix.
func (r *rig) logLines(prefix string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(r.logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec["msg"].(string), prefix) {
			out = append(out, rec)
		}
	}
	return out
}

// TestHandleAWSSampleEvents runs every event sample AWS ships with
// aws-lambda-go through the runtime's handler path: an EventBridge event
// whose source and detail-type respond routes is handled, or refused as
// malformed with the field named; every other payload (other
// detail-types, S3/SQS/SNS records, API Gateway requests, CloudWatch
// alarm notifications...) is logged as unknown with what identifies it
// and counted; a sample that is not JSON (dynamodb-event-malformed.2.json)
// reaches the malformed path. Never a panic, never an error.
func TestHandleAWSSampleEvents(t *testing.T) {
	samples := awsSamples(t)
	handled := 0
	for name, payload := range samples {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			if _, err := lambda.NewHandler(r.h).Invoke(context.Background(), payload); err != nil {
				t.Fatalf("Invoke(%s) = %v; want nil (handled or dropped, never failed)", name, err)
			}
			ok, unhandled, malformed := r.metricTotal(telemetry.MetricEventsHandled), r.metricTotal(telemetry.MetricEventsUnhandled), r.metricTotal(telemetry.MetricEventsMalformed)
			if ok+unhandled+malformed != 1 {
				t.Fatalf("Invoke(%s) counted handled %v, unhandled %v, malformed %v; want exactly one of them once\nlogs:\n%s", name, ok, unhandled, malformed, r.logs)
			}
			var probe struct {
				Source     string `json:"source"`
				DetailType string `json:"detail-type"`
			}
			isJSON := json.Unmarshal(payload, &probe) == nil
			_, run := r.h.route(probe.Source, probe.DetailType)
			switch {
			case !isJSON:
				if got := r.metric(telemetry.MetricEventsMalformed, "Source", sourceInvalidJSON); got != 1 {
					t.Errorf("Invoke(%s) (not JSON): EventsMalformed{Source=%s} = %v; want 1", name, sourceInvalidJSON, got)
				}
				if len(r.logLines("malformed payload dropped: not valid JSON")) != 1 {
					t.Errorf("Invoke(%s) (not JSON) logged no malformed line:\n%s", name, r.logs)
				}
			case run != nil:
				if ok == 1 {
					t.Logf("%s (%s / %s): handled", name, probe.Source, probe.DetailType)
					handled++
					return
				}
				lines := r.logLines("malformed event dropped")
				if malformed != 1 || len(lines) != 1 || !strings.Contains(lines[0]["error"].(string), ": ") {
					t.Errorf("Invoke(%s) (routed %s / %s): want handled, or malformed with the field named; logs:\n%s", name, probe.Source, probe.DetailType, r.logs)
				}
			default:
				if unhandled != 1 {
					t.Errorf("Invoke(%s): EventsUnhandled = %v; want 1", name, unhandled)
				}
				var lines []map[string]any
				if probe.Source != "" {
					lines = r.logLines("unhandled event")
				} else {
					lines = r.logLines("unknown payload dropped")
				}
				if len(lines) != 1 {
					t.Fatalf("Invoke(%s) logged %d identifying lines; want 1:\n%s", name, len(lines), r.logs)
				}
				l := lines[0]
				if probe.Source != "" && (l["source"] != probe.Source || l["detailType"] != probe.DetailType) {
					t.Errorf("Invoke(%s) unhandled line = %v; want source %q and detailType %q", name, l, probe.Source, probe.DetailType)
				}
				if probe.Source == "" && l["jsonType"] == nil {
					t.Errorf("Invoke(%s) unknown line = %v; want its JSON type and keys", name, l)
				}
			}
		})
	}
	if handled < 4 {
		t.Errorf("only %d AWS samples were handled; want at least the CodeBuild, CodeDeploy, CodePipeline and ECR scan ones", handled)
	}
}

// TestUnknownPayloadsIdentifiedNotLogged: a payload that is not an
// EventBridge event is logged by its JSON type, its top-level keys and
// its first record's event source — never its contents.
func TestUnknownPayloadsIdentifiedNotLogged(t *testing.T) {
	const canary = "CANARY-do-not-log-7f3a"
	tests := []struct {
		name      string
		payload   string
		wantAttrs map[string]any
		wantDim   string
	}{
		{"SQS record", `{"Records":[{"eventSource":"aws:sqs","messageId":"m-1","body":"` + canary + `"}]}`,
			map[string]any{"jsonType": "object", "records": 1.0, "recordsEventSource": "aws:sqs"}, "aws:sqs"},
		{"SNS record", `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"` + canary + `"}}]}`,
			map[string]any{"recordsEventSource": "aws:sns"}, "aws:sns"},
		{"CodePipeline job", `{"CodePipeline.job":{"id":"j-1","data":{"artifactCredentials":{"secretAccessKey":"` + canary + `"}}}}`,
			map[string]any{"jsonType": "object", "keys": []any{"CodePipeline.job"}}, sourceNotEventBridge},
		{"empty object", `{}`, map[string]any{"jsonType": "object"}, sourceNotEventBridge},
		{"null", `null`, map[string]any{"jsonType": "null"}, sourceNotEventBridge},
		{"array", `["` + canary + `"]`, map[string]any{"jsonType": "array"}, sourceNotEventBridge},
		{"string", `"` + canary + `"`, map[string]any{"jsonType": "string"}, sourceNotEventBridge},
		{"number", `42`, map[string]any{"jsonType": "number"}, sourceNotEventBridge},
		{"hostile key", `{"` + canary + strings.Repeat("x", 100) + `\u0007":1}`, map[string]any{"jsonType": "object"}, sourceNotEventBridge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if err := r.invoke(t, []byte(tt.payload)); err != nil {
				t.Fatalf("Invoke(%s) = %v; want nil", tt.payload, err)
			}
			lines := r.logLines("unknown payload dropped")
			if len(lines) != 1 {
				t.Fatalf("Invoke(%s) logged %d unknown-payload lines; want 1:\n%s", tt.payload, len(lines), r.logs)
			}
			for k, want := range tt.wantAttrs {
				got, _ := json.Marshal(lines[0][k])
				wantJSON, _ := json.Marshal(want)
				if string(got) != string(wantJSON) {
					t.Errorf("Invoke(%s) logged %s = %s; want %s", tt.payload, k, got, wantJSON)
				}
			}
			if strings.Contains(r.logs.String(), canary+"-") || strings.Contains(r.logs.String(), canary+`"`) || strings.Contains(r.logs.String(), strings.Repeat("x", 50)) {
				t.Errorf("Invoke(%s) logged the payload's contents:\n%s", tt.payload, r.logs)
			}
			if got := r.metric(telemetry.MetricEventsUnhandled, "Source", tt.wantDim); got != 1 {
				t.Errorf("EventsUnhandled{Source=%s} = %v; want 1", tt.wantDim, got)
			}
		})
	}
}

// TestInvalidJSONReachesMalformedPath: through the runtime's handler path
// (lambda.NewHandler), a payload that is not JSON reaches respond's
// malformed path and metric instead of failing the invocation in the
// runtime's decoder, as a handler taking a decoded argument would.
func TestInvalidJSONReachesMalformedPath(t *testing.T) {
	for _, payload := range []string{`{"source":"aws.guardduty","detail-type":`, `not json`, ``, `{"a":1}}`} {
		r := newRig(t)
		if _, err := lambda.NewHandler(r.h).Invoke(context.Background(), []byte(payload)); err != nil {
			t.Errorf("Invoke(%q) = %v; want nil (dropped as malformed)", payload, err)
		}
		if got := r.metric(telemetry.MetricEventsMalformed, "Source", sourceInvalidJSON); got != 1 {
			t.Errorf("Invoke(%q): EventsMalformed{Source=%s} = %v; want 1", payload, sourceInvalidJSON, got)
		}
	}
}

// TestMalformedEnvelopeNamesTheField: an EventBridge event respond routes
// whose envelope does not decode is dropped as malformed with the field
// named.
func TestMalformedEnvelopeNamesTheField(t *testing.T) {
	tests := []struct{ payload, field string }{
		{`{"source":"aws.codebuild","detail-type":"CodeBuild Build State Change","time":"yesterday","detail":{}}`, "time"},
		{`{"source":"aws.codebuild","detail-type":"CodeBuild Build State Change","resources":"arn","detail":{}}`, "resources"},
		{`{"source":7,"detail-type":"CodeBuild Build State Change"}`, "source"},
		{`{"source":"aws.codebuild","detail-type":["x"]}`, "detail-type"},
	}
	for _, tt := range tests {
		r := newRig(t)
		if err := r.invoke(t, []byte(tt.payload)); err != nil {
			t.Fatalf("Invoke(%s) = %v; want nil", tt.payload, err)
		}
		lines := r.logLines("malformed event dropped")
		if len(lines) != 1 || !strings.HasPrefix(lines[0]["error"].(string), tt.field+":") {
			t.Errorf("Invoke(%s) logged %v; want one malformed line whose error starts with %q", tt.payload, lines, tt.field+":")
		}
		if got := r.metricTotal(telemetry.MetricEventsMalformed); got != 1 {
			t.Errorf("Invoke(%s): EventsMalformed = %v; want 1", tt.payload, got)
		}
	}
}
