package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Unconfigured is the handler of a verify function that could not be
// configured at cold start (a bad environment variable, an unreadable
// token key) but can still reach CodePipeline. It does not verify: it
// fails every job it is given with a ConfigurationError naming the
// problem and the fix, so the pipeline stops at once instead of waiting
// out CodePipeline's 20-minute job timeout, and it returns a *ConfigError
// carrying the same message, so Lambda records the invocation as failed
// with that message (its Errors metric, the async invocation record and
// the function's log all show it).
//
// Why not Lambda's init error (POST /runtime/init/error)? A runtime that
// posts it is never handed an event: the Runtime API moves it to its
// InitError state, in which /runtime/invocation/next is refused, and
// Lambda answers the invocation with the init error ("Using the Lambda
// runtime API for custom runtimes", Initialization error,
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror).
// The job would then wait for its timeout — the failure this type
// exists to avoid. ReportInitError is kept for when no CodePipeline
// client can be built, so no job could be failed anyway.
type Unconfigured struct {
	CodePipeline CodePipelineAPI
	// CodeDeploy, when set, lets it fail CodeDeploy lifecycle hooks too
	// (hookunconfigured.go), so a hook does not wait out its hour.
	CodeDeploy CodeDeployAPI
	// Err is every configuration problem found at cold start.
	Err     error
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	// SafetyMargin bounds the report as it does a verification's.
	SafetyMargin time.Duration
	Now          func() time.Time
	Sleep        func(context.Context, time.Duration) error
}

// Handle fails the job with a ConfigurationError and returns a
// *ConfigError.
func (u *Unconfigured) Handle(ctx context.Context, ev events.CodePipelineJobEvent) error {
	log := u.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	job := ev.CodePipelineJob
	if job.ID == "" {
		return refuseNotAJob(ctx, log, u.Metrics, "", "CodePipeline.job.id is missing")
	}
	log = log.With("jobId", job.ID)
	now, sleep := u.Now, u.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = deadline.Sleep
	}
	cerr := &ConfigError{Err: u.Err}
	msg := fmt.Sprintf("Post-deploy verification cannot run: its Lambda function is misconfigured. %v. Fix the function's configuration (the postdeploy stack sets its environment and grants it access to the token key secret; redeploy the stack), then retry the stage.", u.Err)
	rep := newReporter(u.CodePipeline, log, newWindow(ctx, now(), u.SafetyMargin), 0, 0, now, sleep)
	switch err := rep.failure(ctx, job.ID, cptypes.FailureTypeConfigurationError, msg); {
	case err == nil || errors.Is(err, ErrAlreadyReported):
		log.ErrorContext(ctx, "verify is misconfigured; failed the job with a ConfigurationError", "errorType", "ConfigError", "error", u.Err.Error())
	default:
		log.ErrorContext(ctx, "verify is misconfigured and could not fail the job", "errorType", "ConfigError", "error", u.Err.Error(), "reportError", err.Error())
	}
	return cerr
}
