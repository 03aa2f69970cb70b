package remediate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Handler handles the SNS deliveries of CloudWatch alarm notifications.
type Handler struct {
	Engine  *Engine
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Handle processes every record independently: SNS gives Lambda no
// partial-batch response, so one bad record must never sink the others.
// Messages that are not alarms, malformed JSON and unknown states are
// logged, counted and skipped. The error reports only records whose
// state change the engine released after a failure of its own
// dependencies (state table, tag reads) or after running out of time
// (ErrOutOfTime: the engine stops a margin before ctx's
// deadline) before acting: Lambda's retry of the asynchronous invocation
// then handles them, and the records already handled come back as
// duplicates.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for i, rec := range ev.Records {
		msgID := rec.SNS.MessageID
		a, err := contract.DecodeSNSMessage(rec.SNS.Message)
		if err != nil {
			metric := telemetry.MetricEventsMalformed
			level := slog.LevelWarn
			if errors.Is(err, contract.ErrNotAlarm) {
				metric, level = telemetry.MetricEventsUnhandled, slog.LevelInfo
			}
			h.Log.Log(ctx, level, "SNS record skipped", "record", i, "messageId", msgID, "topic", rec.SNS.TopicArn, "subject", rec.SNS.Subject, "error", err.Error())
			h.Metrics.Emit(map[string]string{"Source": "sns"}, telemetry.Value{Name: metric, Unit: telemetry.UnitCount, Value: 1})
			continue
		}
		out, err := h.Engine.Handle(ctx, a)
		if err != nil {
			h.Log.ErrorContext(ctx, "alarm not handled; the delivery will be retried", "record", i, "messageId", msgID, "alarm", a.Name, "error", err.Error())
			errs = append(errs, fmt.Errorf("record %d (SNS message %s, alarm %s): %w", i, msgID, a.Name, err))
			continue
		}
		h.Metrics.Emit(map[string]string{"Kind": "alarm"}, telemetry.Value{Name: telemetry.MetricEventsHandled, Unit: telemetry.UnitCount, Value: 1})
		h.Log.InfoContext(ctx, "alarm handled", "record", i, "messageId", msgID, "alarm", a.Name, "state", a.NewState, "decision", string(out.Decision), "rule", out.Rule, "summary", out.String())
	}
	return errors.Join(errs...)
}
