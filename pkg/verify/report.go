package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// CodePipelineAPI is the part of *codepipeline.Client verify uses.
type CodePipelineAPI interface {
	PutJobSuccessResult(ctx context.Context, in *codepipeline.PutJobSuccessResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutJobSuccessResultOutput, error)
	PutJobFailureResult(ctx context.Context, in *codepipeline.PutJobFailureResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutJobFailureResultOutput, error)
	GetJobDetails(ctx context.Context, in *codepipeline.GetJobDetailsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetJobDetailsOutput, error)
}

// Limits CodePipeline sets on what a job worker reports.
const (
	MaxSummary        = 2048
	MaxFailureMessage = 5000
)

// ErrAlreadyReported means CodePipeline refused the report because the
// job is no longer in progress: another delivery of the same job (the
// invoke is asynchronous and at least once) has already reported it.
var ErrAlreadyReported = errors.New("job already reported")

// reporter sends a job's report, retrying transient failures; the SDK's
// own retryer handles throttling within each attempt.
type reporter struct {
	api      CodePipelineAPI
	log      *slog.Logger
	attempts int
	backoff  time.Duration
	sleep    func(context.Context, time.Duration) error
}

func (r reporter) do(ctx context.Context, what, jobID string, call func(context.Context) error) error {
	var err error
	for i := range r.attempts {
		if i > 0 {
			if serr := r.sleep(ctx, r.backoff<<(i-1)); serr != nil {
				break
			}
		}
		err = call(ctx)
		if err == nil {
			return nil
		}
		var invalid *cptypes.InvalidJobStateException
		if errors.As(err, &invalid) {
			r.log.WarnContext(ctx, "job already reported by another delivery; not reporting again", "jobId", jobID, "report", what)
			return ErrAlreadyReported
		}
		var notFound *cptypes.JobNotFoundException
		if errors.As(err, &notFound) {
			return fmt.Errorf("%s for job %s: job not found: %w", what, jobID, err)
		}
		r.log.WarnContext(ctx, "report failed; retrying", "jobId", jobID, "report", what, "attempt", i+1, "error", err.Error())
	}
	return fmt.Errorf("%s for job %s: %w", what, jobID, err)
}

func (r reporter) success(ctx context.Context, jobID, token, summary string, percent int, vars map[string]string) error {
	in := &codepipeline.PutJobSuccessResultInput{
		JobId: aws.String(jobID),
		ExecutionDetails: &cptypes.ExecutionDetails{
			Summary:             aws.String(clip(summary, MaxSummary)),
			PercentComplete:     aws.Int32(int32(max(0, min(100, percent)))),
			ExternalExecutionId: aws.String(jobID),
		},
	}
	what := "PutJobSuccessResult"
	if token != "" {
		in.ContinuationToken = aws.String(token)
		what += " (continue)"
	} else if len(vars) > 0 {
		in.OutputVariables = vars
	}
	return r.do(ctx, what, jobID, func(ctx context.Context) error {
		_, err := r.api.PutJobSuccessResult(ctx, in)
		return err
	})
}

func (r reporter) failure(ctx context.Context, jobID string, typ cptypes.FailureType, msg string) error {
	in := &codepipeline.PutJobFailureResultInput{
		JobId: aws.String(jobID),
		FailureDetails: &cptypes.FailureDetails{
			Type:                typ,
			Message:             aws.String(clip(msg, MaxFailureMessage)),
			ExternalExecutionId: aws.String(jobID),
		},
	}
	return r.do(ctx, "PutJobFailureResult", jobID, func(ctx context.Context) error {
		_, err := r.api.PutJobFailureResult(ctx, in)
		return err
	})
}

// clip cuts s to at most n bytes on a rune boundary, ending in "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + ell
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
