package verify

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// ReportHookStatus is the ReportError.Report of a hook's status.
const ReportHookStatus = "PutLifecycleEventHookExecutionStatus"

// conclude reports a final decision as the hook's status, once, and
// publishes the verification event.
func (h *HookVerifier) conclude(ctx context.Context, inv *invocation, run hookRun, d decision) error {
	v, log, w := h.V, inv.log, inv.w
	status := cdtypes.LifecycleEventStatusFailed
	if d.ok {
		status = cdtypes.LifecycleEventStatusSucceeded
	}
	rctx, cancel := context.WithDeadline(ctx, w.reportBy)
	defer cancel()
	if run.hook != "" {
		running, err := stillRunning(rctx, h.CodeDeploy, run)
		switch {
		case err != nil:
			log.WarnContext(ctx, "could not re-read the hook before reporting; reporting anyway", "error", err.Error())
		case !running:
			log.WarnContext(ctx, "the hook is no longer in progress (reported by another delivery, or timed out); not reporting", "status", string(status))
			v.Metrics.Emit(map[string]string{"Source": sourceHookNotRunning}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
			return nil
		}
	}
	if !h.claim(rctx, log, hookKey(run.ev, "status"), w.end, "status") {
		return nil
	}
	_, err := h.CodeDeploy.PutLifecycleEventHookExecutionStatus(rctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId:                  aws.String(run.ev.DeploymentID),
		LifecycleEventHookExecutionId: aws.String(run.ev.LifecycleEventHookExecutionID),
		Status:                        status,
	}, func(o *codedeploy.Options) { o.Retryer = awsclient.MutatingRetryer() })
	var done *cdtypes.LifecycleEventAlreadyCompletedException
	switch {
	case errors.As(err, &done):
		log.WarnContext(ctx, "CodeDeploy already has this hook's status (another delivery reported it); not reporting again", "status", string(status))
		return nil
	case err != nil:
		log.ErrorContext(ctx, "could not report the hook's status; returning an error so Lambda retries (the retry re-reads the hook first)", "status", string(status), "error", err.Error())
		return &ReportError{Report: ReportHookStatus, JobID: run.ev.LifecycleEventHookExecutionID, Err: err}
	}
	attrs := []any{"status", string(status)}
	if !d.ok {
		// The status carries no message: this line, the event and
		// respond's notification say why.
		attrs = append(attrs, "message", hookText(d.text, run))
	}
	log.InfoContext(ctx, "hook reported", attrs...)
	ev := hookEvent(d, run)
	v.Metrics.Emit(map[string]string{"Verdict": ev.Verdict.String()}, telemetry.Value{Name: telemetry.MetricVerifications, Unit: telemetry.UnitCount, Value: 1})
	if perr := v.Events.Publish(rctx, contract.VerificationDetailType, ev); perr != nil {
		log.WarnContext(ctx, "could not publish the verification event", "error", perr.Error())
	}
	return nil
}
