package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// NewLogger returns the functions' logger: Lambda's structured handler,
// JSON when the function's log format is JSON, with the request id (and
// function ARN) on every line inside an invocation.
func NewLogger() *slog.Logger {
	return lambdacontext.NewLogger(lambdacontext.WithFunctionARN())
}

// Metric names the suite emits. infra/ builds its dashboards and alarms on
// these, so they are constants in one place.
const (
	MetricVerifications     = "Verifications"     // count, dimension Verdict
	MetricCheckDuration     = "CheckDuration"     // milliseconds, dimension Kind
	MetricCheckVerdicts     = "CheckVerdicts"     // count, dimensions Kind, Verdict
	MetricRemediations      = "Remediations"      // count, dimensions Action, Outcome
	MetricTimeToRecover     = "TimeToRecover"     // seconds, dimension Alarm-free (no dimension)
	MetricFindings          = "Findings"          // count, dimension Priority
	MetricEventsHandled     = "EventsHandled"     // count, dimension Kind
	MetricEventsUnhandled   = "EventsUnhandled"   // count, dimension Source
	MetricEventsMalformed   = "EventsMalformed"   // count, dimension Source
	MetricNotificationsSent = "NotificationsSent" // count, dimension Kind
	MetricRollbacks         = "Rollbacks"         // count, dimensions Policy, Decision (rolled back, stopped, nothing to stop, failed, refused)
	MetricFindingsRefused   = "FindingsRefused"   // count, dimension Source: one finding of a batch that could not be read
)

// Units of the metrics, as CloudWatch names them.
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
	UnitSeconds      = "Seconds"
	UnitNone         = "None"
)

// Value is one metric value to emit.
type Value struct {
	Name  string
	Unit  string
	Value float64
}

// Metrics writes CloudWatch Embedded Metric Format records: one JSON
// object per line on w (stdout in Lambda), which CloudWatch Logs turns
// into metrics without any API call.
type Metrics struct {
	Namespace string
	W         io.Writer
	Now       func() time.Time

	mu sync.Mutex
}

// NewMetrics returns an EMF writer for namespace on w.
func NewMetrics(namespace string, w io.Writer) *Metrics {
	return &Metrics{Namespace: namespace, W: w, Now: time.Now}
}

// Emit writes one EMF record: values under the given dimensions. A
// dimension with an empty value is dropped. It never fails the caller: a
// metric that cannot be written is not worth failing a deployment for.
func (m *Metrics) Emit(dims map[string]string, values ...Value) {
	if m == nil || m.W == nil || len(values) == 0 {
		return
	}
	rec := make(map[string]any, len(dims)+len(values)+1)
	keys := make([]string, 0, len(dims))
	for k, v := range dims {
		if v == "" {
			continue
		}
		keys = append(keys, k)
		rec[k] = v
	}
	defs := make([]map[string]string, 0, len(values))
	for _, v := range values {
		defs = append(defs, map[string]string{"Name": v.Name, "Unit": v.Unit})
		rec[v.Name] = v.Value
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	directive := map[string]any{"Namespace": m.Namespace, "Metrics": defs, "Dimensions": [][]string{keys}}
	rec["_aws"] = map[string]any{
		"Timestamp":         now().UnixMilli(),
		"CloudWatchMetrics": []any{directive},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.W.Write(append(b, '\n'))
}

// EventPutter is the part of *eventbridge.Client events use.
type EventPutter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Events publishes the suite's own EventBridge events.
type Events struct {
	API    EventPutter
	Bus    string // "" disables publishing
	Source string // e.g. "postdeploy.verify"
}

// Publish sends one event. It reports PutEvents' per-entry failures as
// errors too: a throttled entry comes back inside a 200 response.
func (e Events) Publish(ctx context.Context, detailType string, detail any, resources ...string) error {
	if e.API == nil || e.Bus == "" {
		return nil
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode %q event: %w", detailType, err)
	}
	out, err := e.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(e.Bus),
		Source:       aws.String(e.Source),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(b)),
		Resources:    resources,
	}}})
	if err != nil {
		return fmt.Errorf("put %q event on bus %q: %w", detailType, e.Bus, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		en := out.Entries[0]
		return fmt.Errorf("put %q event on bus %q: entry rejected: %s: %s", detailType, e.Bus, aws.ToString(en.ErrorCode), aws.ToString(en.ErrorMessage))
	}
	return nil
}
