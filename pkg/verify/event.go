package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// What verify does with an event that is not a CodePipeline job (another
// service's event, a test payload, not JSON at all): it refuses it with
// a *NotAJobError, after logging its shape and counting it
// (MetricEventsUnhandled, or MetricEventsMalformed when it is not JSON).
//
// An error, not a quiet drop, because verify has exactly one legitimate
// trigger, a CodePipeline Invoke action: anything else means the
// function is wired to the wrong source or was invoked by hand, and the
// error is what makes that visible where operators look — Lambda's
// Errors metric and, once Lambda's two asynchronous retries (which
// change nothing: verify acts on no such event) are spent, the
// asynchronous invocation's on-failure destination or dead-letter queue,
// which keep the event for inspection ("Asynchronous invocation",
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
// respond, whose EventBridge rules route it events it may rightly
// ignore, drops them instead.

// Dimension values of the refusal metrics.
const (
	sourceNotAJob    = "not-a-codepipeline-job"
	sourceNotJSON    = "invalid-json"
	maxShapeKeys     = 6
	maxShapeKeyChars = 40
	nullResponse     = "null" // what lambda.NewHandler answers for a handler returning only an error
)

// Invoke is the lambda.Handler main starts. It decodes the payload itself,
// so a payload that is not a CodePipeline job event — not JSON, or JSON
// of another shape — is refused as a *NotAJobError (errorType
// "NotAJobError"), logged by its shape and counted, rather than failing
// in the runtime's decoder with a json.SyntaxError.
func (v *Verifier) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if v.Hooks != nil {
		if hev, ok, err := decodeHook(ctx, v.log(), v.Metrics, payload); ok || err != nil {
			if err == nil {
				err = v.Hooks.Handle(ctx, hev)
			}
			if err != nil {
				return nil, err
			}
			return []byte(nullResponse), nil
		}
	}
	ev, err := decodeJob(ctx, v.log(), v.Metrics, payload)
	if err != nil {
		return nil, err
	}
	if err := v.Handle(ctx, ev); err != nil {
		return nil, err
	}
	return []byte(nullResponse), nil
}

// Invoke is Unconfigured's lambda.Handler, as Verifier's.
func (u *Unconfigured) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	log := u.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if u.CodeDeploy != nil {
		if hev, ok, err := decodeHook(ctx, log, u.Metrics, payload); ok || err != nil {
			if err == nil {
				err = u.handleHook(ctx, log, hev)
			}
			return nil, err
		}
	}
	ev, err := decodeJob(ctx, log, u.Metrics, payload)
	if err != nil {
		return nil, err
	}
	if err := u.Handle(ctx, ev); err != nil {
		return nil, err
	}
	return []byte(nullResponse), nil
}

// decodeJob decodes a CodePipeline job event, refusing anything else.
func decodeJob(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, payload []byte) (events.CodePipelineJobEvent, error) {
	var ev events.CodePipelineJobEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		var probe any
		if json.Unmarshal(payload, &probe) != nil {
			log.WarnContext(ctx, "refused: the payload is not JSON, so not a CodePipeline job", "bytes", len(payload), "error", err.Error())
			m.Emit(map[string]string{"Source": sourceNotJSON}, telemetry.Value{Name: telemetry.MetricEventsMalformed, Unit: telemetry.UnitCount, Value: 1})
			return ev, &NotAJobError{Reason: "the payload is not JSON"}
		}
		return ev, refuseNotAJob(ctx, log, m, shape(payload), "it does not decode as one: "+err.Error())
	}
	if ev.CodePipelineJob.ID == "" {
		return ev, refuseNotAJob(ctx, log, m, shape(payload), "CodePipeline.job.id is missing")
	}
	return ev, nil
}

// refuseNotAJob logs and counts an event that is not a job, and returns
// the error Lambda gets.
func refuseNotAJob(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, shape, reason string) error {
	args := []any{"reason", reason}
	if shape != "" {
		args = append(args, "shape", shape)
	}
	log.WarnContext(ctx, "refused: not a CodePipeline job event", args...)
	m.Emit(map[string]string{"Source": sourceNotAJob}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
	return &NotAJobError{Reason: reason}
}

// shape describes a JSON payload for the log without its values: its
// type, or an object's first top-level keys (sorted, clipped, quoted so
// control characters cannot forge log lines).
func shape(payload []byte) string {
	var top any
	if json.Unmarshal(payload, &top) != nil {
		return ""
	}
	switch x := top.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		more := len(keys) > maxShapeKeys
		keys = keys[:min(len(keys), maxShapeKeys)]
		for i, k := range keys {
			keys[i] = fmt.Sprintf("%q", shorten(strings.Map(printableRune, k), maxShapeKeyChars))
		}
		s := "object with keys " + strings.Join(keys, ", ")
		if more {
			s += fmt.Sprintf(" (and %d more)", len(x)-maxShapeKeys)
		}
		return s
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", x)
	}
}

func printableRune(r rune) rune {
	if unicode.IsPrint(r) {
		return r
	}
	return '?'
}
