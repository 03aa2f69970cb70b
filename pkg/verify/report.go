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
// own retryer handles throttling within each attempt. Every attempt runs
// under a context that ends at by, a little before Lambda's deadline, so
// the outcome of the last attempt is known — landed, refused or cut off —
// while the invocation can still return it to Lambda; and a retry starts
// only when it can finish by then (its backoff plus the longest attempt
// so far), so no attempt is lost mid-flight at the deadline.
type reporter struct {
	api      CodePipelineAPI
	log      *slog.Logger // already carries the job id
	attempts int
	backoff  time.Duration
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	// by is when the last attempt must have finished (zero: ctx alone
	// bounds the report).
	by time.Time
}

// Report retry defaults.
const (
	DefaultReportAttempts = 4
	DefaultReportBackoff  = 500 * time.Millisecond
)

func newReporter(api CodePipelineAPI, log *slog.Logger, w window, attempts int, backoff time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) reporter {
	if attempts <= 0 {
		attempts = DefaultReportAttempts
	}
	if backoff <= 0 {
		backoff = DefaultReportBackoff
	}
	return reporter{api: api, log: log, attempts: attempts, backoff: backoff, sleep: sleep, now: now, by: w.reportBy}
}

func (r reporter) do(ctx context.Context, what, jobID string, call func(context.Context) error) error {
	if !r.by.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, r.by)
		defer cancel()
	}
	var err error
	var longest time.Duration
	for i := range r.attempts {
		if i > 0 {
			wait := r.backoff << (i - 1)
			if !r.by.IsZero() && r.now().Add(wait+longest).After(r.by) {
				r.log.WarnContext(ctx, "not retrying the report: another attempt could not finish before the deadline", "report", what, "attempts", i, "error", err.Error())
				break
			}
			if serr := r.sleep(ctx, wait); serr != nil {
				break
			}
		}
		began := r.now()
		err = call(ctx)
		longest = max(longest, r.now().Sub(began))
		if err == nil {
			return nil
		}
		var invalid *cptypes.InvalidJobStateException
		if errors.As(err, &invalid) {
			r.log.WarnContext(ctx, "job already reported by another delivery; not reporting again", "report", what)
			return ErrAlreadyReported
		}
		var notFound *cptypes.JobNotFoundException
		if errors.As(err, &notFound) {
			return &ReportError{Report: what, JobID: jobID, Err: fmt.Errorf("job not found: %w", err)}
		}
		r.log.WarnContext(ctx, "report attempt failed", "report", what, "attempt", i+1, "of", r.attempts, "error", err.Error())
	}
	return &ReportError{Report: what, JobID: jobID, Err: err}
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
