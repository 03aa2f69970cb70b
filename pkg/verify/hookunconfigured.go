package verify

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/contract"
)

// handleHook fails a hook while verify is misconfigured: once CodeDeploy
// confirms the hook is running, one Failed status (the cause is the log
// line and the returned *ConfigError: a status carries no message), so
// the deployment stops now instead of after the hook's hour.
func (u *Unconfigured) handleHook(ctx context.Context, log *slog.Logger, ev contract.CodeDeployHookEvent) error {
	log = log.With("deploymentId", ev.DeploymentID, "hookExecutionId", ev.LifecycleEventHookExecutionID)
	cerr := &ConfigError{Err: u.Err}
	if _, stop, ret, _ := confirmHook(ctx, log, u.Metrics, u.CodeDeploy, ev); stop {
		if ret == nil {
			return cerr
		}
		return ret
	}
	now := u.Now
	if now == nil {
		now = time.Now
	}
	w := newWindow(ctx, now(), u.SafetyMargin)
	pctx, pcancel := context.WithDeadline(ctx, w.reportBy)
	defer pcancel()
	_, perr := u.CodeDeploy.PutLifecycleEventHookExecutionStatus(pctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId: aws.String(ev.DeploymentID), LifecycleEventHookExecutionId: aws.String(ev.LifecycleEventHookExecutionID),
		Status: cdtypes.LifecycleEventStatusFailed,
	}, func(o *codedeploy.Options) { o.Retryer = awsclient.MutatingRetryer() })
	var done *cdtypes.LifecycleEventAlreadyCompletedException
	switch {
	case perr == nil || errors.As(perr, &done):
		log.ErrorContext(ctx, "verify is misconfigured; reported the hook Failed", "errorType", "ConfigError", "error", u.Err.Error())
	default:
		log.ErrorContext(ctx, "verify is misconfigured and could not fail the hook", "errorType", "ConfigError", "error", u.Err.Error(), "reportError", perr.Error())
	}
	return cerr
}
