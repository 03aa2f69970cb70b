package verify

import (
	"errors"
	"fmt"
)

// The errors Handle returns to Lambda. aws-lambda-go names an error by
// its Go type (lambda/errors.go: the type's name, pointer or not, becomes
// errorType), so each is a named type whose name says what happened:
// Lambda's console, the async invocation record and the function's
// Errors metric show "ConfigError" or "ReportError", never "wrapError"
// or "joinError".

// ConfigError is returned when the function itself is misconfigured (its
// environment, the token key secret): the function cannot verify
// anything until the stack is fixed. Handle has already failed the job
// with a ConfigurationError naming the problem when it could.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string {
	return "verify is misconfigured: " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ReportError is returned when the job's report could not be delivered
// to CodePipeline before the deadline: returning it makes Lambda retry
// the asynchronous invocation, which reports again (a report that did
// land makes the retry's report an InvalidJobStateException, taken as
// already reported).
type ReportError struct {
	// Report is the call that failed, e.g. "PutJobFailureResult".
	Report string
	JobID  string
	Err    error
}

func (e *ReportError) Error() string {
	return fmt.Sprintf("%s for job %s: %v", e.Report, e.JobID, e.Err)
}

func (e *ReportError) Unwrap() error { return e.Err }

// NotAJobError is returned for an event that is not a CodePipeline job
// (no CodePipeline.job.id): there is no job to report, so the error is
// the only trace the invocation leaves.
type NotAJobError struct{ Reason string }

func (e *NotAJobError) Error() string {
	return "not a CodePipeline job event: " + e.Reason + "; verify is invoked only by a CodePipeline Invoke action"
}

// ErrNotAJob matches every *NotAJobError with errors.Is.
var ErrNotAJob = errors.New("not a CodePipeline job event")

// Is makes errors.Is(err, ErrNotAJob) hold.
func (e *NotAJobError) Is(target error) bool { return target == ErrNotAJob }
