package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// respond's invocations come from EventBridge rules, but a payload is
// whatever the invoker sent: anything that is not an EventBridge event is
// logged with what identifies it — its JSON type, its top-level keys, the
// event source of its first record — and counted, never the payload
// itself (an SQS body or an S3 object key is not respond's to log).

// Source dimensions of payloads that carry no EventBridge source.
const (
	sourceInvalidJSON    = "invalid-json"
	sourceNotEventBridge = "not-eventbridge"
)

var _ lambda.Handler = (*Handler)(nil)

// Invoke implements lambda.Handler, so the runtime hands respond the raw
// payload: one that is not JSON reaches Handle's malformed path and metric
// instead of failing in the runtime's own decoder (lambda.NewHandler
// decodes into the handler's argument type before calling it, and a
// decode error fails the invocation, which Lambda retries). Lambda's
// Invoke API itself rejects a body that is not JSON
// (InvalidRequestContentException, "The request body could not be parsed
// as JSON", https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html);
// this covers every other path to the runtime.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if err := h.Handle(ctx, payload); err != nil {
		return nil, err
	}
	return []byte("null"), nil // what lambda.NewHandler answers for a handler that returns only an error
}

// Handle identifies one payload and processes it. Only an EventBridge
// event whose source and detail-type respond routes is decoded and
// handled; a payload that is not JSON is counted as malformed, anything
// else as unhandled, each logged with what identifies it, and dropped
// (a retry cannot change either).
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) error {
	log := h.logger()
	p, err := identify(payload)
	if err != nil {
		log.ErrorContext(ctx, "malformed payload dropped: not valid JSON", "bytes", len(payload), "error", err.Error())
		h.Metrics.Emit(map[string]string{"Source": sourceInvalidJSON}, telemetry.Value{Name: telemetry.MetricEventsMalformed, Unit: telemetry.UnitCount, Value: 1})
		return nil
	}
	if !p.eventBridge {
		log.WarnContext(ctx, "unknown payload dropped: not an EventBridge event", p.attrs()...)
		h.Metrics.Emit(map[string]string{"Source": dimension(p.recordSource, sourceNotEventBridge)}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
		return nil
	}
	log = log.With("source", printable(p.source, maxLogChars), "detailType", printable(p.detailType, maxLogChars), "eventId", printable(p.id, maxLogChars))
	if p.err != nil {
		return h.dropEnvelope(ctx, log, p.source, p.err)
	}
	if _, run := h.route(p.source, p.detailType); run == nil {
		h.unhandled(ctx, log, p.source)
		return nil
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return h.dropEnvelope(ctx, log, p.source, envelopeError(err))
	}
	return h.HandleEvent(ctx, ev)
}

// dropEnvelope logs and counts an EventBridge envelope that does not
// decode, and drops it: nil, since Lambda's retry would fail the same way.
func (h *Handler) dropEnvelope(ctx context.Context, log *slog.Logger, source string, err error) error {
	log.ErrorContext(ctx, "malformed event dropped: the EventBridge envelope does not decode", "error", err.Error())
	h.Metrics.Emit(map[string]string{"Source": dimension(source, sourceNotEventBridge)}, telemetry.Value{Name: telemetry.MetricEventsMalformed, Unit: telemetry.UnitCount, Value: 1})
	return nil
}

// payloadShape is what identifies a payload without its contents.
type payloadShape struct {
	// kind is the JSON type: object, array, string, number, boolean, null.
	kind string
	// keys are an object's top-level keys, sorted, at most maxKeys.
	keys []string
	more int // keys left out
	// records and recordSource describe a "Records" array (S3, SQS, SNS,
	// DynamoDB, Kinesis...): its length and its first record's
	// eventSource (EventSource for SNS).
	records      int
	recordSource string
	// eventBridge is set for an object with "source" and "detail-type"
	// keys; source, detailType and id are read from it, err says which
	// of them is not a string.
	eventBridge            bool
	source, detailType, id string
	err                    error
}

const (
	maxKeys     = 12
	maxKeyChars = 40
	// maxLogChars bounds the source, detail-type and id logged from an
	// envelope (AWS's own are far shorter).
	maxLogChars = 128
)

// identify reads the shape of payload; the error is for a payload that is
// not JSON.
func identify(payload []byte) (payloadShape, error) {
	var p payloadShape
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return p, errors.New("empty payload")
	}
	if !json.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v) // the syntax error, with its offset
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return p, err
	}
	switch trimmed[0] {
	case '{':
		p.kind = "object"
	case '[':
		p.kind = "array"
		return p, nil
	case '"':
		p.kind = "string"
		return p, nil
	case 't', 'f':
		p.kind = "boolean"
		return p, nil
	case 'n':
		p.kind = "null"
		return p, nil
	default:
		p.kind = "number"
		return p, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return p, err
	}
	for k := range obj {
		p.keys = append(p.keys, printable(k, maxKeyChars))
	}
	slices.Sort(p.keys)
	if len(p.keys) > maxKeys {
		p.more = len(p.keys) - maxKeys
		p.keys = p.keys[:maxKeys]
	}
	if raw, ok := obj["Records"]; ok {
		var recs []map[string]json.RawMessage
		if json.Unmarshal(raw, &recs) == nil {
			p.records = len(recs)
			if len(recs) > 0 {
				for _, k := range []string{"eventSource", "EventSource"} {
					var s string
					if json.Unmarshal(recs[0][k], &s) == nil && s != "" {
						p.recordSource = printable(s, maxKeyChars)
						break
					}
				}
			}
		}
	}
	rawSource, hasSource := obj["source"]
	rawType, hasType := obj["detail-type"]
	if !hasSource || !hasType {
		return p, nil
	}
	p.eventBridge = true
	var errs []error
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{{"source", rawSource, &p.source}, {"detail-type", rawType, &p.detailType}, {"id", obj["id"], &p.id}} {
		if f.raw == nil {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			errs = append(errs, fmt.Errorf("%s: want a string (%w)", f.name, err))
		}
	}
	p.err = errors.Join(errs...)
	return p, nil
}

// attrs are the log attributes that identify a payload that is not an
// EventBridge event.
func (p payloadShape) attrs() []any {
	a := []any{"jsonType", p.kind}
	if len(p.keys) > 0 {
		a = append(a, "keys", p.keys)
	}
	if p.more > 0 {
		a = append(a, "moreKeys", p.more)
	}
	if p.records > 0 {
		a = append(a, "records", p.records, "recordsEventSource", p.recordSource)
	}
	return a
}

// envelopeError names the envelope field a decode error is about.
func envelopeError(err error) error {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Errorf("%s: %w", te.Field, err)
	case errors.As(err, &pe):
		return fmt.Errorf("time: want RFC 3339 (%w)", err)
	}
	return fmt.Errorf("envelope: %w", err)
}

// printable makes an identifier from a payload safe to log and bounded:
// printable ASCII, at most n bytes.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}

// dimension bounds a metric dimension value taken from a payload: the
// characters of AWS source names, at most 64 of them, else def.
func dimension(s, def string) string {
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune(".:_-/", r)
	}) {
		return def
	}
	return s
}
