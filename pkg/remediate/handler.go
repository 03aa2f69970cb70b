package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Handler handles what Lambda delivers to remediate: the SNS deliveries
// of CloudWatch alarm notifications (its subscriptions), and the
// EventBridge "CloudWatch Alarm State Change" event, for a user who
// wires a rule straight to the function. It decides on the payload's
// shape, not on a Go type the runtime would decode into: anything else —
// an empty object, null, a CodePipeline job, S3 or SQS records, text
// that is not JSON — is logged with what it was (its shape, source,
// detail-type or record source; never its content), counted in
// EventsUnhandled or EventsMalformed, and dropped with no error, as a
// retry cannot make it an alarm.
type Handler struct {
	Engine  *Engine
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Invoke is the lambda.Handler interface: main passes the handler itself
// to lambda.Start, so the runtime hands over the payload as it came and
// a payload that is not JSON reaches Handle's malformed path, instead of
// failing in the runtime's decoder (an error Lambda would retry).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if err := h.Handle(ctx, payload); err != nil {
		return nil, err
	}
	return []byte("null"), nil
}

// The metric dimension Source of a dropped payload: a fixed set, so a
// caller cannot mint dimension values.
const (
	sourceSNS         = "sns"
	sourceEventBridge = "eventbridge"
	sourceRecords     = "records"
	sourcePayload     = "payload"
)

// Handle dispatches one payload by its shape: SNS records, an
// EventBridge event, or something else (dropped, logged and counted).
// Each SNS record is handled on its own: SNS gives Lambda no
// partial-batch response, so one bad record must never sink the others.
// The error reports only alarms whose state change the engine released
// after a failure of its own dependencies (CloudWatch, the state table,
// tag reads) or after running out of time (ErrOutOfTime) before acting:
// Lambda's retry of the asynchronous invocation then handles them, and
// the records already handled come back as duplicates.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) error {
	if !json.Valid(payload) {
		h.drop(ctx, telemetry.MetricEventsMalformed, sourcePayload, "payload dropped: not JSON", "bytes", len(payload))
		return nil
	}
	var top map[string]json.RawMessage
	if body := bytes.TrimSpace(payload); len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &top) != nil {
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourcePayload, "payload dropped: not a JSON object", "shape", jsonKind(body))
		return nil //nolint:nilerr // logged and counted; a retry cannot make it an alarm
	}
	switch {
	case top["Records"] != nil:
		return h.records(ctx, top["Records"])
	case top["source"] != nil && top["detail-type"] != nil:
		return h.eventBridge(ctx, payload)
	case top["CodePipeline.job"] != nil:
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourcePayload, "payload dropped: a CodePipeline job, not an alarm (remediate is no pipeline action)", "shape", "CodePipeline job")
	case len(top) == 0:
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourcePayload, "payload dropped: an empty object", "shape", "{}")
	default:
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourcePayload, "payload dropped: neither SNS records nor an EventBridge event", "shape", "object", "keys", keysOf(top))
	}
	return nil
}

// records handles a payload with Records: SNS records are alarm
// notifications; records of other sources (S3, SQS, DynamoDB, ...) are
// dropped one by one.
func (h *Handler) records(ctx context.Context, raw json.RawMessage) error {
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		h.drop(ctx, telemetry.MetricEventsMalformed, sourceRecords, "payload dropped: Records is not a list", "shape", jsonKind(raw))
		return nil //nolint:nilerr // logged and counted; a retry cannot fix it
	}
	if len(recs) == 0 {
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourceRecords, "payload dropped: no records", "shape", "Records: []")
		return nil
	}
	var errs []error
	for i, raw := range recs {
		var probe struct {
			EventSource string `json:"EventSource"` // SNS spells it so; S3, SQS and others eventSource (matched too)
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			h.drop(ctx, telemetry.MetricEventsMalformed, sourceRecords, "record dropped: not a record object", "record", i, "shape", jsonKind(raw))
			continue
		}
		if probe.EventSource != "aws:sns" {
			h.drop(ctx, telemetry.MetricEventsUnhandled, sourceRecords, "record dropped: not an SNS record", "record", i, "eventSource", clip(probe.EventSource))
			continue
		}
		var rec events.SNSEventRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			h.drop(ctx, telemetry.MetricEventsMalformed, sourceSNS, "SNS record skipped", "record", i, "error", err.Error())
			continue
		}
		if err := h.snsRecord(ctx, i, rec.SNS); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) snsRecord(ctx context.Context, i int, sns events.SNSEntity) error {
	a, err := contract.DecodeSNSMessage(sns.Message)
	if err != nil {
		metric := telemetry.MetricEventsMalformed
		if errors.Is(err, contract.ErrNotAlarm) {
			metric = telemetry.MetricEventsUnhandled
		}
		h.drop(ctx, metric, sourceSNS, "SNS record skipped", "record", i, "messageId", sns.MessageID, "topic", sns.TopicArn, "subject", clip(sns.Subject), "error", err.Error())
		return nil
	}
	return h.alarm(ctx, a, "record", i, "messageId", sns.MessageID)
}

// eventBridge handles an EventBridge event: CloudWatch's alarm state
// change like the SNS notification; any other event is dropped.
func (h *Handler) eventBridge(ctx context.Context, payload json.RawMessage) error {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		h.drop(ctx, telemetry.MetricEventsMalformed, sourceEventBridge, "EventBridge event dropped: the envelope does not decode", "error", err.Error())
		return nil
	}
	if ev.Source != contract.AlarmSource || ev.DetailType != contract.DetailTypeAlarmStateChange {
		h.drop(ctx, telemetry.MetricEventsUnhandled, sourceEventBridge, "EventBridge event dropped: not a CloudWatch alarm state change", "source", clip(ev.Source), "detailType", clip(ev.DetailType), "eventId", clip(ev.ID))
		return nil
	}
	a, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		h.drop(ctx, telemetry.MetricEventsMalformed, sourceEventBridge, "EventBridge alarm event dropped", "eventId", clip(ev.ID), "error", err.Error())
		return nil
	}
	return h.alarm(ctx, a, "eventId", ev.ID)
}

// alarm hands one alarm state change to the engine; the error, for
// Lambda's retry, when the engine released it.
func (h *Handler) alarm(ctx context.Context, a Alarm, where ...any) error {
	out, err := h.Engine.Handle(ctx, a)
	if err != nil {
		h.Log.ErrorContext(ctx, "alarm not handled; the delivery will be retried", append(where, "alarm", a.Name, "error", err.Error())...)
		return fmt.Errorf("%s (alarm %s): %w", label(where), a.Name, err)
	}
	h.Metrics.Emit(map[string]string{"Kind": "alarm"}, telemetry.Value{Name: telemetry.MetricEventsHandled, Unit: telemetry.UnitCount, Value: 1})
	h.Log.InfoContext(ctx, "alarm handled", append(where, "alarm", a.Name, "state", a.NewState, "decision", string(out.Decision), "rule", out.Rule, "summary", out.String())...)
	return nil
}

// label renders key-value pairs as "record 0, messageId m-1".
func label(kv []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v %v", kv[i], kv[i+1])
	}
	return b.String()
}

// drop logs what was dropped and counts it.
func (h *Handler) drop(ctx context.Context, metric, source, msg string, attrs ...any) {
	level := slog.LevelInfo
	if metric == telemetry.MetricEventsMalformed {
		level = slog.LevelWarn
	}
	h.Log.Log(ctx, level, msg, attrs...)
	h.Metrics.Emit(map[string]string{"Source": source}, telemetry.Value{Name: metric, Unit: telemetry.UnitCount, Value: 1})
}

// jsonKind names the kind of a JSON value: object, array, string,
// number, true/false, null.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// keysOf lists an object's first keys, sorted and clipped: enough to
// recognise an event, never its values.
func keysOf(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, clip(k))
	}
	slices.Sort(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], fmt.Sprintf("… %d more", len(m)-12))
	}
	return keys
}

// clip bounds a caller-controlled string written to the log.
func clip(s string) string {
	const limit = 128
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
