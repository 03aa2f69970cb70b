package verify

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/strict"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// lambdaErrorType is the errorType Lambda records for err:
// aws-lambda-go's lambda/errors.go takes the name of the error's Go type
// (of what it points to, for a pointer).
func lambdaErrorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Every path verify logs on, run once: no line may set a key twice (the
// issue's "report failed; retrying" had jobId twice).
func TestNoLogLineRepeatsAKey(t *testing.T) {
	throttle := &cptypes.ConcurrentPipelineExecutionsLimitExceededException{Message: aws.String("slow down")}
	failing := func(int, int) verdict.Result {
		return verdict.Result{Verdict: verdict.Failed, Observed: "status 503", Expected: "status 200"}
	}
	tests := []struct {
		name    string
		sampler func(int, int) verdict.Result
		setup   func(e *env)
		payload func(t *testing.T) []byte
		budget  time.Duration
	}{
		{"success", pass, nil, func(t *testing.T) []byte { return jobEvent(t, "j1", inlineSpec("0s", "1s", "a"), "") }, time.Minute},
		{"failure", failing, nil, func(t *testing.T) []byte { return jobEvent(t, "j2", inlineSpec("0s", "1s", "a"), "") }, time.Minute},
		{"continuation", pass, nil, func(t *testing.T) []byte { return jobEvent(t, "j3", inlineSpec("1m", "1s", "a"), "") }, 3 * time.Second},
		{"throttled report", pass, func(e *env) { e.cp.errs = []error{throttle, throttle, throttle, throttle} }, func(t *testing.T) []byte { return jobEvent(t, "j4", inlineSpec("0s", "1s", "a"), "") }, time.Minute},
		{"refused token", pass, nil, func(t *testing.T) []byte { return jobEvent(t, "j5", inlineSpec("1m", "1s", "a"), "pd2.x.{}") }, time.Minute},
		{"bad spec", pass, nil, func(t *testing.T) []byte { return readEvent(t, "verify-bad-spec.json") }, time.Minute},
		{"panic", pass, func(e *env) { e.v.Build = func(spec.Spec) (check.Suite, error) { panic("bug") } }, func(t *testing.T) []byte { return jobEvent(t, "j6", inlineSpec("0s", "1s", "a"), "") }, time.Minute},
		{"not a job", pass, nil, func(*testing.T) []byte { return []byte(`{"Records":[{"eventSource":"aws:sqs"}]}`) }, time.Minute},
		{"not JSON", pass, nil, func(*testing.T) []byte { return []byte(`{"CodePipeline.job": [1, 2`) }, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(&scripted{result: tt.sampler})
			if tt.setup != nil {
				tt.setup(e)
			}
			ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(tt.budget))
			defer cancel()
			_, _ = e.v.Invoke(ctx, tt.payload(t))
			lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
			if len(lines) == 0 || lines[0] == "" {
				t.Fatal("nothing logged; the test proves nothing")
			}
			for _, line := range lines {
				if dups := strict.DuplicateKeys([]byte(line)); len(dups) > 0 {
					t.Errorf("log line sets %s twice: %s", dups[0].Path, line)
				}
			}
		})
	}
}

// What Handle returns to Lambda is always one of verify's named error
// types, so errorType says what happened — never wrapError, joinError,
// errorString or a json decoder's SyntaxError.
func TestErrorsReturnedToLambdaHaveMeaningfulTypes(t *testing.T) {
	throttle := &cptypes.ConcurrentPipelineExecutionsLimitExceededException{Message: aws.String("slow down")}
	tests := []struct {
		name    string
		invoke  func(t *testing.T) error
		want    string
		wantMsg string
	}{
		{"not JSON", func(t *testing.T) error {
			_, err := newEnv(nil).v.Invoke(context.Background(), []byte(`{"CodePipeline.job": [1, 2`))
			return err
		}, "NotAJobError", "not JSON"},
		{"JSON but no job", func(t *testing.T) error {
			_, err := newEnv(nil).v.Invoke(context.Background(), []byte(`{"detail-type":"x"}`))
			return err
		}, "NotAJobError", "CodePipeline.job.id is missing"},
		{"job of the wrong type", func(t *testing.T) error {
			_, err := newEnv(nil).v.Invoke(context.Background(), []byte(`{"CodePipeline.job":"j"}`))
			return err
		}, "NotAJobError", "does not decode as one"},
		{"report never lands", func(t *testing.T) error {
			e := newEnv(&scripted{result: pass})
			e.cp.errs = []error{throttle, throttle, throttle, throttle}
			return e.invoke(t, jobEvent(t, "j", inlineSpec("0s", "1s", "a"), ""), time.Minute)
		}, "ReportError", "PutJobSuccessResult for job j"},
		{"misconfigured", func(t *testing.T) error {
			u := &Unconfigured{CodePipeline: &fakeCodePipeline{}, Err: errors.Join(errors.New("A=1: bad"), errors.New("B=2: bad")), Log: slog.New(slog.DiscardHandler)}
			_, err := u.Invoke(context.Background(), jobEvent(t, "j", inlineSpec("0s", "1s", "a"), ""))
			return err
		}, "ConfigError", "A=1: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.invoke(t)
			if err == nil {
				t.Fatalf("error = nil; want a %s", tt.want)
			}
			if got := lambdaErrorType(err); got != tt.want || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("errorType %s, message %q; want %s containing %q", got, err, tt.want, tt.wantMsg)
			}
		})
	}
	// The typed handler as the runtime wraps it gives the same.
	_, err := lambda.NewHandler(newEnv(nil).v.Handle).Invoke(context.Background(), []byte(`{}`))
	if got := lambdaErrorType(err); got != "NotAJobError" {
		t.Errorf("lambda.NewHandler(Handle)({}) errorType = %s; want NotAJobError", got)
	}
}
