package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// invocationClock wraps the fake clock to check, for the invocation in
// flight, that nothing sleeps past its cutoff and that reports are made
// before it ends.
type invocationClock struct {
	*fakeClock
	mu      sync.Mutex
	cutoff  time.Time
	end     time.Time
	overrun []string
}

func (c *invocationClock) start(budget time.Duration, margin time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	c.end = now.Add(budget)
	c.cutoff = c.end.Add(-deadline.Margin(budget, margin))
}

func (c *invocationClock) Sleep(ctx context.Context, d time.Duration) error {
	err := c.fakeClock.Sleep(ctx, d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.Now(); now.After(c.cutoff) {
		c.overrun = append(c.overrun, fmt.Sprintf("slept %s to %s, past the cutoff %s", d, now.Format(time.StampMilli), c.cutoff.Format(time.StampMilli)))
	}
	return err
}

// A spec whose interval is longer than an invocation (bake 30s, interval
// 10s, a 3 s function) must hand over before every cutoff, and still take
// every sample: the "interval longer than the invocation" case.
func TestIntervalLongerThanTheInvocationHandsOverInTime(t *testing.T) {
	sm := &scripted{result: pass}
	e := newEnv(sm)
	clock := &invocationClock{fakeClock: e.clock}
	e.v.Sleep = clock.Sleep
	var lateReports []string
	e.cp.onReport = func(ctx context.Context) {
		if now := e.clock.Now(); now.After(clock.cutoff) {
			lateReports = append(lateReports, fmt.Sprintf("report at %s, after the cutoff %s", now.Format(time.StampMilli), clock.cutoff.Format(time.StampMilli)))
		}
	}
	const budget = 3 * time.Second
	params := inlineSpec("30s", "10s", "health")
	ev := jobEvent(t, "job-long", params, "")
	invocations := 0
	for ; invocations < 60; invocations++ {
		before := e.cp.reports()
		clock.start(budget, e.v.SafetyMargin)
		if err := e.invoke(t, ev, budget); err != nil {
			t.Fatalf("invocation %d: Handle error: %v", invocations+1, err)
		}
		if got := e.cp.reports() - before; got != 1 {
			t.Fatalf("invocation %d made %d reports; want exactly 1", invocations+1, got)
		}
		if len(e.cp.failures) > 0 {
			t.Fatalf("invocation %d failed: %s", invocations+1, aws.ToString(e.cp.failures[0].FailureDetails.Message))
		}
		tok := aws.ToString(e.cp.successes[len(e.cp.successes)-1].ContinuationToken)
		if tok == "" {
			break
		}
		ev = jobEvent(t, "job-long", params, tok)
	}
	for _, o := range append(clock.overrun, lateReports...) {
		t.Error(o)
	}
	last := e.cp.successes[len(e.cp.successes)-1]
	if aws.ToString(last.ContinuationToken) != "" {
		t.Fatalf("the bake never ended after %d invocations", invocations)
	}
	if sm.samples != 4 || last.OutputVariables["verdict"] != "Succeeded" {
		t.Errorf("bake ended with %d samples, verdict %s; want 4 samples (0s, 10s, 20s, 30s) and Succeeded", sm.samples, last.OutputVariables["verdict"])
	}
}

// Every sample's context ends at the invocation's cutoff — never later,
// even for a sample near the end of a short invocation (it used to be
// given half the time left to the deadline, past the margin).
func TestSampleContextEndsAtTheCutoff(t *testing.T) {
	e := newEnv(nil)
	clock := &invocationClock{fakeClock: e.clock}
	e.v.Sleep = clock.Sleep
	var beyond []string
	sampler := samplerFunc(func(ctx context.Context, _ check.Sample) []verdict.Result {
		dl, ok := ctx.Deadline()
		switch {
		case !ok:
			beyond = append(beyond, "a sample context without a deadline")
		case dl.After(clock.cutoff):
			beyond = append(beyond, fmt.Sprintf("sample deadline %s is after the cutoff %s", dl.Format(time.StampMilli), clock.cutoff.Format(time.StampMilli)))
		}
		return []verdict.Result{pass(0, 0)}
	})
	e.v.Build = func(s spec.Spec) (check.Suite, error) {
		return check.Suite{Count: 1, Groups: []check.Group{{Kind: "fake", Items: []check.Item{{Index: 0, Check: s.Checks[0]}}, Sampler: sampler}}}, nil
	}
	params := inlineSpec("10s", "1s", "health")
	ev := jobEvent(t, "job-dl", params, "")
	for range 30 {
		clock.start(2*time.Second, e.v.SafetyMargin)
		if err := e.invoke(t, ev, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		tok := aws.ToString(e.cp.successes[len(e.cp.successes)-1].ContinuationToken)
		if tok == "" {
			break
		}
		ev = jobEvent(t, "job-dl", params, tok)
	}
	if len(beyond) > 0 {
		t.Errorf("%d sample deadlines past the cutoff, e.g. %s", len(beyond), beyond[0])
	}
}

type samplerFunc func(context.Context, check.Sample) []verdict.Result

func (f samplerFunc) Sample(ctx context.Context, s check.Sample) []verdict.Result { return f(ctx, s) }

func TestInsaneTokenIsRefusedWithoutWaiting(t *testing.T) {
	tests := []struct {
		name string
		edit func(st *State, now time.Time)
		want string
	}{
		{"bake start in the future", func(st *State, now time.Time) { st.StartMS = now.Add(6 * time.Hour).UnixMilli() }, "is in the future"},
		{"bake start 30 days ago", func(st *State, now time.Time) { st.StartMS = now.Add(-30 * 24 * time.Hour).UnixMilli() }, "ago"},
		{"rewritten tally", func(st *State, _ time.Time) { st.Checks[0].Failed = -1000 }, "count of -1000"},
		{"sample count MaxInt64", func(st *State, _ time.Time) { st.Samples = 1<<63 - 1 }, "counts 9223372036854775807 samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := &scripted{result: pass}
			e := newEnv(sm)
			params := inlineSpec("10m", "1m", "health")
			now := e.clock.Now()
			st := NewState(now.Add(-time.Minute), SpecHash(specBytes(t, params)), 1)
			st.Samples, st.Checks[0].Succeeded = 1, 1
			tt.edit(&st, now)
			tok, err := testKeys.Encode(st)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.invoke(t, jobEvent(t, "job-x", params, tok), time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(e.cp.failures) != 1 || e.cp.reports() != 1 {
				t.Fatalf("reports = %d successes, %d failures; want exactly 1 failure", len(e.cp.successes), len(e.cp.failures))
			}
			if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, tt.want) {
				t.Errorf("failure = %q; want it to name the cause (%q)", msg, tt.want)
			}
			if sm.samples != 0 || !e.clock.Now().Equal(now) {
				t.Errorf("took %d samples and waited %s; want neither", sm.samples, e.clock.Now().Sub(now))
			}
		})
	}
}

// specBytes is the spec part of inline UserParameters as verify hashes it.
func specBytes(t *testing.T, params map[string]any) []byte {
	t.Helper()
	p, err := ParseParams(string(mustJSON(t, params)))
	if err != nil {
		t.Fatal(err)
	}
	return p.Spec
}

// A check that ignores its context and never returns is abandoned at the
// cutoff: the job is reported before the deadline with that check in
// ERROR. This runs on the real clock.
func TestCheckIgnoringItsContextCannotDelayTheReport(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(nil)
	e.v.Now, e.v.Sleep = nil, nil
	e.v.SafetyMargin = 10 * time.Second
	hung := samplerFunc(func(context.Context, check.Sample) []verdict.Result {
		<-release // ignores ctx
		return []verdict.Result{pass(0, 0)}
	})
	e.v.Build = func(s spec.Spec) (check.Suite, error) {
		return check.Suite{Count: 1, Groups: []check.Group{{Kind: "http", Items: []check.Item{{Index: 0, Check: s.Checks[0]}}, Sampler: hung}}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()
	var reportedLate bool
	e.cp.onReport = func(rctx context.Context) { reportedLate = rctx.Err() != nil || time.Now().After(dl) }
	if _, err := lambda.NewHandler(e.v.Handle).Invoke(ctx, jobEvent(t, "job-hung", inlineSpec("0s", "1s", "health"), "")); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 || reportedLate {
		t.Fatalf("reports = %d failures (late: %t); want one failure reported before the deadline", len(e.cp.failures), reportedLate)
	}
	// pkg/check's Suite.Run answers for a late group itself; verify's
	// sample abandons the whole suite when it does not.
	if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, "ERROR health") ||
		(!strings.Contains(msg, "abandoned") && !strings.Contains(msg, "did not finish before the sample's deadline (the invocation's cutoff")) {
		t.Errorf("failure = %q; want the check in ERROR, cut off at the cutoff", msg)
	}
}

// A setup step that ignores its context (here the check registry) cannot
// hold the report either.
func TestStuckSetupStillReportsInTime(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(&scripted{result: pass})
	e.v.Now, e.v.Sleep = nil, nil
	e.v.Build = func(spec.Spec) (check.Suite, error) { <-release; return check.Suite{}, errors.New("released") }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var reportedLate bool
	e.cp.onReport = func(rctx context.Context) { reportedLate = rctx.Err() != nil }
	if _, err := lambda.NewHandler(e.v.Handle).Invoke(ctx, jobEvent(t, "job-stuck", inlineSpec("0s", "1s", "health"), "")); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 || reportedLate {
		t.Fatalf("reports = %d failures (late: %t); want one failure reported in time", len(e.cp.failures), reportedLate)
	}
	if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, "did not finish its work before the function's deadline") {
		t.Errorf("failure = %q; want it to say the work did not stop in time", msg)
	}
}

// Report retries under throttling stop when another attempt could not
// finish before the deadline: here each attempt takes 20 s of a 60 s
// invocation, so the third is never started, and every attempt's context
// ends before Lambda's deadline, so its outcome is known.
func TestReportRetriesStopBeforeTheDeadline(t *testing.T) {
	throttle := &cptypes.ConcurrentPipelineExecutionsLimitExceededException{Message: aws.String("slow down")}
	e := newEnv(&scripted{result: pass})
	e.cp.errs = []error{throttle, throttle, throttle, throttle}
	end := e.clock.Now().Add(time.Minute)
	var attemptEnds []time.Time
	var unbounded int
	e.cp.onReport = func(ctx context.Context) {
		if dl, ok := ctx.Deadline(); !ok || !dl.Before(end) {
			unbounded++
		}
		e.clock.mu.Lock()
		e.clock.now = e.clock.now.Add(20 * time.Second)
		e.clock.mu.Unlock()
		attemptEnds = append(attemptEnds, e.clock.Now())
	}
	err := e.invoke(t, jobEvent(t, "job-t", inlineSpec("0s", "1s", "health"), ""), time.Minute)
	var re *ReportError
	if !errors.As(err, &re) {
		t.Fatalf("Handle error = %v (%T); want a *ReportError so Lambda retries", err, err)
	}
	if e.cp.attempts != 2 {
		t.Errorf("report attempts = %d; want 2 (a third could not finish before the deadline)", e.cp.attempts)
	}
	for i, at := range attemptEnds {
		if at.After(end) {
			t.Errorf("attempt %d ended at %s, after the deadline %s", i+1, at.Format(time.StampMilli), end.Format(time.StampMilli))
		}
	}
	if unbounded > 0 {
		t.Errorf("%d report attempts ran under a context that ends no earlier than Lambda's deadline", unbounded)
	}
	if strings.Count(e.logs.String(), `"jobId"`) != strings.Count(e.logs.String(), "\n") {
		t.Errorf("every log line should carry jobId exactly once:\n%s", e.logs.String())
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	sp := spec.Spec{Bake: spec.Duration(10 * time.Minute), Interval: spec.Duration(time.Minute), Checks: []spec.Check{{Name: "a"}, {Name: "b"}}}
	good := func() State {
		st := NewState(now.Add(-3*time.Minute), "h", 2)
		st.Samples = 3
		st.Checks[0].Tally = verdict.Tally{Succeeded: 2, Errors: 1, ConsecutiveErrors: 1}
		st.Checks[1].Tally = verdict.Tally{Succeeded: 3}
		return st
	}
	tests := []struct {
		name string
		edit func(*State)
		want string // "" for valid
	}{
		{"valid", func(*State) {}, ""},
		{"start a few seconds ahead (clock skew)", func(s *State) {
			s.StartMS = now.Add(10 * time.Second).UnixMilli()
			s.Samples = 0
			s.Checks = make([]CheckState, 2)
		}, ""},
		{"start in the future", func(s *State) { s.StartMS = now.Add(time.Hour).UnixMilli() }, "in the future"},
		{"start too old for the bake", func(s *State) { s.StartMS = now.Add(-40 * time.Minute).UnixMilli() }, "ago"},
		{"no start", func(s *State) { s.StartMS = 0 }, "no bake start"},
		{"fewer tallies than checks", func(s *State) { s.Checks = s.Checks[:1] }, "holds 1 check tallies; the spec has 2"},
		{"negative count", func(s *State) { s.Checks[0].Failed = -1000 }, "count of -1000"},
		{"count above samples", func(s *State) { s.Checks[1].Succeeded = 4 }, "count of 4"},
		{"counts do not add up", func(s *State) { s.Checks[1].Succeeded = 2 }, "counts 2 verdicts over 3 samples"},
		{"more samples than the bake allows", func(s *State) { s.Samples = 11 }, "counts 11 samples"},
		{"negative samples", func(s *State) { s.Samples = -1 }, "counts -1 samples"},
		{"errors in a row above errors", func(s *State) { s.Checks[0].ConsecutiveErrors = 2 }, "2 errors in a row but 1"},
		{"overflowing counts", func(s *State) {
			s.Checks[1].Tally = verdict.Tally{Succeeded: 1<<63 - 1, Failed: 1<<63 - 1, Inconclusive: 5}
		}, "count of 9223372036854775807"},
		{"evidence too long", func(s *State) { s.Checks[0].Last = strings.Repeat("x", maxEvidence+1) }, "evidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := good()
			tt.edit(&st)
			err := st.Validate(sp, now)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate(%+v) = %v; want nil", st, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate(%+v) = %v; want an error containing %q", st, err, tt.want)
			}
		})
	}
}

// A verify that could not be configured fails the job with a
// ConfigurationError naming the problem, and Lambda sees the same
// message under a meaningful error type (aws-lambda-go takes errorType
// from the error's Go type name, lambda/errors.go).
func TestUnconfiguredFailsTheJobAndTellsLambda(t *testing.T) {
	cp := &fakeCodePipeline{}
	problem := errors.New(`POSTDEPLOY_SAFETY_MARGIN="soon": must be a duration such as "20s"`)
	u := &Unconfigured{CodePipeline: cp, Err: problem, Log: slog.New(slog.DiscardHandler)}
	_, err := lambda.NewHandler(u.Handle).Invoke(context.Background(), jobEvent(t, "job-u", inlineSpec("0s", "1s", "a"), ""))
	var ce *ConfigError
	if !errors.As(err, &ce) || reflect.TypeOf(err).Elem().Name() != "ConfigError" || !strings.Contains(err.Error(), "POSTDEPLOY_SAFETY_MARGIN") {
		t.Errorf("Handle error = %v (%T); want a *ConfigError naming the variable", err, err)
	}
	if len(cp.failures) != 1 || cp.reports() != 1 {
		t.Fatalf("reports = %d; want exactly one failure", cp.reports())
	}
	fd := cp.failures[0].FailureDetails
	if msg := aws.ToString(fd.Message); fd.Type != cptypes.FailureTypeConfigurationError || !strings.Contains(msg, "POSTDEPLOY_SAFETY_MARGIN") || !strings.Contains(msg, "retry the stage") {
		t.Errorf("failure = %s %q; want a ConfigurationError naming the problem and the fix", fd.Type, msg)
	}
	if _, err := lambda.NewHandler(u.Handle).Invoke(context.Background(), []byte(`{"Records":[]}`)); !errors.Is(err, ErrNotAJob) {
		t.Errorf("Handle(not a job) = %v; want ErrNotAJob", err)
	}
}

// ReportInitError speaks the Runtime API's init error call.
func TestReportInitError(t *testing.T) {
	var gotPath, gotType, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotType, gotBody = r.Method+" "+r.URL.Path, r.Header.Get("Lambda-Runtime-Function-Error-Type"), string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	err := ReportInitError(context.Background(), srv.Client(), strings.TrimPrefix(srv.URL, "http://"), errors.New("AWS_RETRY_MODE: bogus"))
	if err != nil {
		t.Fatalf("ReportInitError error: %v", err)
	}
	want := `{"errorMessage":"AWS_RETRY_MODE: bogus","errorType":"Runtime.ConfigError","stackTrace":[]}`
	if gotPath != "POST /2018-06-01/runtime/init/error" || gotType != InitErrorType || gotBody != want {
		t.Errorf("request = %s, type %q, body %s; want POST /2018-06-01/runtime/init/error, %q, %s", gotPath, gotType, gotBody, InitErrorType, want)
	}
	if err := ReportInitError(context.Background(), nil, "", errors.New("x")); err == nil {
		t.Error("ReportInitError without AWS_LAMBDA_RUNTIME_API = nil; want an error")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Samples keep to the schedule start + k·interval: one that starts late
// or runs long does not push the rest of the bake past its end (losing
// the last sample), and one longer than the interval skips the slots it
// overran instead of sampling back to back.
func TestScheduleKeepsToItsSlots(t *testing.T) {
	tests := []struct {
		name     string
		took     time.Duration // how long each sample takes
		bake     string
		interval string
		want     int
	}{
		{"instant samples", 0, "3s", "1s", 4},
		{"each sample 50ms late", 50 * time.Millisecond, "3s", "1s", 4},
		{"samples longer than the interval", 1500 * time.Millisecond, "4s", "1s", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(nil)
			var at []time.Duration
			start := e.clock.Now()
			slow := samplerFunc(func(context.Context, check.Sample) []verdict.Result {
				at = append(at, e.clock.Now().Sub(start))
				e.clock.mu.Lock()
				e.clock.now = e.clock.now.Add(tt.took)
				e.clock.mu.Unlock()
				return []verdict.Result{pass(0, 0)}
			})
			e.v.Build = func(s spec.Spec) (check.Suite, error) {
				return check.Suite{Count: 1, Groups: []check.Group{{Kind: "fake", Items: []check.Item{{Index: 0, Check: s.Checks[0]}}, Sampler: slow}}}, nil
			}
			if err := e.invoke(t, jobEvent(t, "job-s", inlineSpec(tt.bake, tt.interval, "a"), ""), 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(at) != tt.want || len(e.cp.successes) != 1 {
				t.Errorf("samples at %v (%d reports); want %d samples and one success", at, e.cp.reports(), tt.want)
			}
		})
	}
}
