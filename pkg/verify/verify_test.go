package verify

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// fakeCodePipeline records reports and fails them as scripted.
type fakeCodePipeline struct {
	mu        sync.Mutex
	successes []*codepipeline.PutJobSuccessResultInput
	failures  []*codepipeline.PutJobFailureResultInput
	attempts  int
	errs      []error // returned by successive report attempts, then nil
	details   *cptypes.JobDetails
	// onReport, when set, is called with each report attempt's context
	// (to record when it was made and how it was bounded).
	onReport func(ctx context.Context)
}

var _ CodePipelineAPI = (*fakeCodePipeline)(nil)

func (f *fakeCodePipeline) nextErr(ctx context.Context) error {
	if f.onReport != nil {
		f.onReport(ctx)
	}
	f.attempts++
	if len(f.errs) > 0 {
		e := f.errs[0]
		f.errs = f.errs[1:]
		return e
	}
	return nil
}

func (f *fakeCodePipeline) PutJobSuccessResult(ctx context.Context, in *codepipeline.PutJobSuccessResultInput, _ ...func(*codepipeline.Options)) (*codepipeline.PutJobSuccessResultOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextErr(ctx); err != nil {
		return nil, err
	}
	f.successes = append(f.successes, in)
	return &codepipeline.PutJobSuccessResultOutput{}, nil
}

func (f *fakeCodePipeline) PutJobFailureResult(ctx context.Context, in *codepipeline.PutJobFailureResultInput, _ ...func(*codepipeline.Options)) (*codepipeline.PutJobFailureResultOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextErr(ctx); err != nil {
		return nil, err
	}
	f.failures = append(f.failures, in)
	return &codepipeline.PutJobFailureResultOutput{}, nil
}

func (f *fakeCodePipeline) GetJobDetails(context.Context, *codepipeline.GetJobDetailsInput, ...func(*codepipeline.Options)) (*codepipeline.GetJobDetailsOutput, error) {
	if f.details == nil {
		return nil, errors.New("no details in this test")
	}
	return &codepipeline.GetJobDetailsOutput{JobDetails: f.details}, nil
}

func (f *fakeCodePipeline) reports() int { return len(f.successes) + len(f.failures) }

type fakeSSM struct {
	params map[string]string
	secure map[string]bool // SecureString parameters
}

var _ SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if !aws.ToBool(in.WithDecryption) {
		return nil, errors.New("test: GetParameter without decryption")
	}
	v, ok := f.params[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	typ := ssmtypes.ParameterTypeString
	if f.secure[aws.ToString(in.Name)] {
		typ = ssmtypes.ParameterTypeSecureString
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(v), Type: typ}}, nil
}

type fakeS3 struct {
	objects map[string][]byte
	creds   *aws.Credentials
}

var _ S3API = (*fakeS3)(nil)

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b)))}, nil
}

// scripted is a Sampler whose results a test decides per sample.
type scripted struct {
	mu      sync.Mutex
	samples int
	result  func(sample, item int) verdict.Result
}

func (s *scripted) Sample(_ context.Context, _ check.Sample) []verdict.Result {
	s.mu.Lock()
	n := s.samples
	s.samples++
	s.mu.Unlock()
	out := make([]verdict.Result, 0, 8)
	for i := 0; i < 64; i++ {
		out = append(out, s.result(n, i))
	}
	return out
}

// buildWith returns a Build func placing every check in one scripted group.
func buildWith(sm *scripted) func(spec.Spec) (check.Suite, error) {
	return func(s spec.Spec) (check.Suite, error) {
		items := make([]check.Item, len(s.Checks))
		for i, c := range s.Checks {
			items[i] = check.Item{Index: i, Check: c}
		}
		g := check.Group{Kind: "fake", Items: items, Sampler: trim{sm, len(items)}}
		return check.Suite{Groups: []check.Group{g}, Count: len(items)}, nil
	}
}

type trim struct {
	s *scripted
	n int
}

func (t trim) Sample(ctx context.Context, at check.Sample) []verdict.Result {
	return t.s.Sample(ctx, at)[:t.n]
}

func pass(int, int) verdict.Result {
	return verdict.Result{Verdict: verdict.Succeeded, Target: "https://api.example.com/health", Observed: "status 200", Values: map[string]float64{"latency_ms": 42}}
}

// fakeClock advances only when the verifier sleeps. It starts an hour
// ahead of the real clock so context deadlines set from it never expire
// in real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Now().Add(time.Hour).Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// testKeys sign the tests' continuation tokens.
var testKeys, _ = NewTokenKeys([]byte("test-token-key-0123456789abcdef-current"), []byte("test-token-key-0123456789abcdef-previous"))

type env struct {
	cp    *fakeCodePipeline
	ssm   *fakeSSM
	s3    *fakeS3
	clock *fakeClock
	logs  *bytes.Buffer
	v     *Verifier
}

func newEnv(sm *scripted) *env {
	e := &env{cp: &fakeCodePipeline{}, ssm: &fakeSSM{params: map[string]string{}}, s3: &fakeS3{objects: map[string][]byte{}}, clock: newClock(), logs: &bytes.Buffer{}}
	e.v = &Verifier{
		CodePipeline: e.cp,
		Loader: Loader{SSM: e.ssm, S3: func(c aws.Credentials) S3API {
			e.s3.creds = &c
			return e.s3
		}},
		Build:         buildWith(sm),
		Keys:          testKeys,
		Log:           slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SafetyMargin:  2 * time.Second,
		Now:           e.clock.Now,
		Sleep:         e.clock.Sleep,
		ReportBackoff: time.Millisecond,
	}
	return e
}

// invoke runs the handler through aws-lambda-go's JSON path with a
// deadline `budget` after the fake clock's now.
func (e *env) invoke(t *testing.T, payload []byte, budget time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(budget))
	defer cancel()
	_, err := lambda.NewHandler(e.v.Handle).Invoke(ctx, payload)
	return err
}

func jobEvent(t *testing.T, id string, params any, token string) []byte {
	t.Helper()
	up, ok := params.(string)
	if !ok {
		b, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		up = string(b)
	}
	ev := events.CodePipelineJobEvent{CodePipelineJob: events.CodePipelineJob{ID: id, AccountID: "111111111111", Data: events.CodePipelineData{
		ActionConfiguration: events.CodePipelineActionConfiguration{Configuration: events.CodePipelineConfiguration{FunctionName: "verify", UserParameters: up}},
		ArtifactCredentials: events.CodePipelineArtifactCredentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "SECRET-never-logged", SessionToken: "TOKEN-never-logged"},
		ContinuationToken:   token,
	}}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	return b
}

func inlineSpec(bake, interval string, checks ...string) map[string]any {
	var cs []any
	for _, n := range checks {
		cs = append(cs, map[string]any{"name": n, "http": map[string]any{"url": "https://api.example.com/" + n}})
	}
	return map[string]any{"spec": map[string]any{"bake": bake, "interval": interval, "checks": cs}}
}

func TestFailingCheckGetsOneFailureNamingIt(t *testing.T) {
	sm := &scripted{result: func(sample, item int) verdict.Result {
		if item == 1 {
			return verdict.Result{Verdict: verdict.Failed, Target: "https://api.example.com/orders", Observed: "status 503 after 120ms", Expected: "status == 200"}
		}
		return pass(sample, item)
	}}
	e := newEnv(sm)
	if err := e.invoke(t, jobEvent(t, "job-1", inlineSpec("0s", "1s", "health", "orders"), ""), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 || len(e.cp.successes) != 0 {
		t.Fatalf("reports = %d failures, %d successes; want exactly 1 failure", len(e.cp.failures), len(e.cp.successes))
	}
	fd := e.cp.failures[0].FailureDetails
	if fd.Type != cptypes.FailureTypeJobFailed {
		t.Errorf("failure type = %s; want JobFailed", fd.Type)
	}
	msg := aws.ToString(fd.Message)
	for _, want := range []string{"FAILED orders [http] https://api.example.com/orders", "status 503 after 120ms", "expected status == 200", "Passed: health"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message missing %q:\n%s", want, msg)
		}
	}
}

func TestBadSpecListsEveryProblem(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	if err := e.invoke(t, readEvent(t, "verify-bad-spec.json"), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 || e.cp.reports() != 1 {
		t.Fatalf("reports = %d (failures %d); want exactly 1 failure", e.cp.reports(), len(e.cp.failures))
	}
	fd := e.cp.failures[0].FailureDetails
	if fd.Type != cptypes.FailureTypeConfigurationError {
		t.Errorf("failure type = %s; want ConfigurationError", fd.Type)
	}
	msg := aws.ToString(fd.Message)
	for _, want := range []string{"bake:", "checks[0].http.url:", "checks[0].http.timeout:", "checks[1].htpp:", "checks[1].name:", "checks[2].name:", "checks[2].alarms:", "checks[3].metric.period:", "checks[3].noData:", "limits.inconclusive:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ConfigurationError message missing %q:\n%s", want, msg)
		}
	}
}

func TestMalformedUserParameters(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	if err := e.invoke(t, readEvent(t, "verify-malformed-params.json"), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 {
		t.Fatalf("failures = %d; want 1", len(e.cp.failures))
	}
	fd := e.cp.failures[0].FailureDetails
	if fd.Type != cptypes.FailureTypeConfigurationError || !strings.Contains(aws.ToString(fd.Message), "UserParameters") {
		t.Errorf("failure = %s %q; want ConfigurationError naming UserParameters", fd.Type, aws.ToString(fd.Message))
	}
}

func zipped(spec string) []byte {
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("deploy/verify.yaml")
	_, _ = w.Write([]byte(spec))
	_ = zw.Close()
	return zbuf.Bytes()
}

func TestSpecSources(t *testing.T) {
	const yamlSpec = "checks:\n  - name: health\n    http: {url: \"https://HOST/health\"}\n"

	tests := []struct {
		name     string
		event    []byte
		setup    func(e *env)
		wantOK   bool
		wantType cptypes.FailureType
		wantText string
	}{
		{"inline", readEvent(t, "verify-inline.json"), nil, true, "", "Verified: 2 checks passed"},
		{"ssm", readEvent(t, "verify-ssm.json"), func(e *env) {
			e.ssm.params["/postdeploy/prod-api/verify"] = "checks: [{name: img, imageScan: {repository: app, digest: \"#{IMAGE_DIGEST}\"}}]"
		}, true, "", "img: Succeeded"},
		{"ssm missing", readEvent(t, "verify-ssm.json"), nil, false, cptypes.FailureTypeConfigurationError, "SSM parameter \"/postdeploy/prod-api/verify\" not found"},
		{"artifact", readEvent(t, "verify-artifact.json"), func(e *env) {
			e.s3.objects["codepipeline-us-east-1-111111111111/prod-api/BuildOutpu/Xy12AbC"] = zipped(strings.Replace(yamlSpec, "HOST", "api.example.com", 1))
		}, true, "", "health: Succeeded"},
		{"artifact missing file", readEvent(t, "verify-artifact.json"), func(e *env) {
			e.s3.objects["codepipeline-us-east-1-111111111111/prod-api/BuildOutpu/Xy12AbC"] = []byte("not a zip")
		}, false, cptypes.FailureTypeConfigurationError, "not a zip file"},
		{"artifact unresolved variable", readEvent(t, "verify-artifact.json"), func(e *env) {
			e.s3.objects["codepipeline-us-east-1-111111111111/prod-api/BuildOutpu/Xy12AbC"] = zipped(strings.Replace(yamlSpec, "HOST", "#{HOST}", 1))
		}, false, cptypes.FailureTypeConfigurationError, "unresolved variable #{HOST}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(&scripted{result: pass})
			if tt.setup != nil {
				tt.setup(e)
			}
			if err := e.invoke(t, tt.event, time.Minute); err != nil {
				t.Fatalf("Handle error: %v", err)
			}
			if e.cp.reports() != 1 {
				t.Fatalf("reports = %d; want 1", e.cp.reports())
			}
			if tt.wantOK {
				if len(e.cp.successes) != 1 {
					t.Fatalf("want success; got failure %q", aws.ToString(e.cp.failures[0].FailureDetails.Message))
				}
				if got := aws.ToString(e.cp.successes[0].ExecutionDetails.Summary); !strings.Contains(got, tt.wantText) {
					t.Errorf("summary = %q; want it to contain %q", got, tt.wantText)
				}
				return
			}
			if len(e.cp.failures) != 1 {
				t.Fatalf("want failure; got success")
			}
			fd := e.cp.failures[0].FailureDetails
			if fd.Type != tt.wantType || !strings.Contains(aws.ToString(fd.Message), tt.wantText) {
				t.Errorf("failure = %s %q; want %s containing %q", fd.Type, aws.ToString(fd.Message), tt.wantType, tt.wantText)
			}
		})
	}
}

func TestArtifactCredentialsUsedNotLogged(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	e.s3.objects["codepipeline-us-east-1-111111111111/prod-api/BuildOutpu/Xy12AbC"] = zipped(`checks: [{name: a, http: {url: "https://x/"}}]`)
	if err := e.invoke(t, readEvent(t, "verify-artifact.json"), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if e.s3.creds == nil || e.s3.creds.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" || e.s3.creds.SecretAccessKey == "" {
		t.Fatalf("S3 client credentials = %+v; want the job's artifact credentials", e.s3.creds)
	}
	for _, secret := range []string{e.s3.creds.SecretAccessKey, e.s3.creds.SessionToken, e.s3.creds.AccessKeyID} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs contain an artifact credential %q:\n%s", secret, e.logs.String())
		}
	}
	if e.logs.Len() == 0 {
		t.Error("no logs written; the credential check above proves nothing")
	}
}

func TestContinuationLoop(t *testing.T) {
	sm := &scripted{result: pass}
	e := newEnv(sm)
	params := inlineSpec("10s", "1s", "health")
	ev := jobEvent(t, "job-c", params, "")
	invocations := 0
	for e.cp.reports() < 20 {
		invocations++
		before := len(e.cp.successes)
		// A 5s function: with a 1.25s margin, about 4 samples an invocation.
		if err := e.invoke(t, ev, 5*time.Second); err != nil {
			t.Fatalf("invocation %d: Handle error: %v", invocations, err)
		}
		if len(e.cp.failures) > 0 {
			t.Fatalf("invocation %d failed: %s", invocations, aws.ToString(e.cp.failures[0].FailureDetails.Message))
		}
		if len(e.cp.successes) != before+1 {
			t.Fatalf("invocation %d made %d reports; want 1", invocations, len(e.cp.successes)-before)
		}
		last := e.cp.successes[len(e.cp.successes)-1]
		tok := aws.ToString(last.ContinuationToken)
		if tok == "" {
			if last.OutputVariables["verdict"] != "Succeeded" || last.OutputVariables["samples"] != "11" {
				t.Errorf("final output variables = %v; want verdict Succeeded over 11 samples", last.OutputVariables)
			}
			break
		}
		if len(tok) > MaxToken {
			t.Fatalf("token is %d chars; limit %d", len(tok), MaxToken)
		}
		if last.OutputVariables != nil {
			t.Errorf("continuation carries output variables; CodePipeline rejects that")
		}
		if p := aws.ToInt32(last.ExecutionDetails.PercentComplete); p <= 0 || p >= 100 {
			t.Errorf("percentComplete = %d; want 1–99 while baking", p)
		}
		ev = jobEvent(t, "job-c", params, tok)
	}
	if invocations < 3 {
		t.Errorf("a 10s bake in 5s invocations took %d invocations; want at least 3", invocations)
	}
	if sm.samples != 11 {
		t.Errorf("samples taken = %d; want 11 (0s…10s every 1s)", sm.samples)
	}
}

func TestFailFastStopsTheBake(t *testing.T) {
	sm := &scripted{result: func(sample, item int) verdict.Result {
		if sample == 2 {
			return verdict.Result{Verdict: verdict.Failed, Observed: "status 500", Expected: "status 200"}
		}
		return pass(sample, item)
	}}
	e := newEnv(sm)
	if err := e.invoke(t, jobEvent(t, "job-ff", inlineSpec("1m", "1s", "health"), ""), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(e.cp.failures) != 1 || sm.samples != 3 {
		t.Fatalf("failures = %d after %d samples; want 1 failure after 3", len(e.cp.failures), sm.samples)
	}
	if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, "stopped early") || !strings.Contains(msg, "sample 3: observed status 500") {
		t.Errorf("message = %q; want it to say it stopped early with the sample's evidence", msg)
	}
}

func TestPanics(t *testing.T) {
	t.Run("in a check: that check's Error", func(t *testing.T) {
		sm := &scripted{result: func(sample, item int) verdict.Result {
			if item == 0 {
				panic("nil map in check")
			}
			return pass(sample, item)
		}}
		e := newEnv(sm)
		e.v.Build = func(s spec.Spec) (check.Suite, error) {
			return check.Suite{Count: 1, Groups: []check.Group{{Kind: "http", Items: []check.Item{{Index: 0, Check: s.Checks[0]}}, Sampler: trim{sm, 1}}}}, nil
		}
		if err := e.invoke(t, jobEvent(t, "job-p", inlineSpec("0s", "1s", "health"), ""), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) != 1 {
			t.Fatalf("failures = %d; want 1", len(e.cp.failures))
		}
		msg := aws.ToString(e.cp.failures[0].FailureDetails.Message)
		if !strings.Contains(msg, "ERROR health") || !strings.Contains(msg, "check panicked: nil map in check") {
			t.Errorf("message = %q; want the check in ERROR with the panic", msg)
		}
	})
	t.Run("outside a check: still one report", func(t *testing.T) {
		e := newEnv(&scripted{result: pass})
		e.v.Build = func(spec.Spec) (check.Suite, error) { panic("registry bug") }
		if err := e.invoke(t, jobEvent(t, "job-q", inlineSpec("0s", "1s", "health"), ""), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) != 1 || !strings.Contains(aws.ToString(e.cp.failures[0].FailureDetails.Message), "internal error") {
			t.Fatalf("failures = %v; want 1 internal-error failure", e.cp.failures)
		}
	})
}

func TestReporting(t *testing.T) {
	throttle := &cptypes.ConcurrentPipelineExecutionsLimitExceededException{Message: aws.String("slow down")}
	tests := []struct {
		name         string
		errs         []error
		wantErr      bool
		wantReported int
		wantAttempts int
	}{
		{"first try", nil, false, 1, 1},
		{"transient errors then success", []error{throttle, errors.New("connection reset")}, false, 1, 3},
		{"already reported by a duplicate delivery", []error{&cptypes.InvalidJobStateException{Message: aws.String("job is not in progress")}}, false, 0, 1},
		{"never succeeds: Lambda must retry", []error{throttle, throttle, throttle, throttle}, true, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(&scripted{result: pass})
			e.cp.errs = tt.errs
			err := e.invoke(t, jobEvent(t, "job-r", inlineSpec("0s", "1s", "health"), ""), time.Minute)
			if (err != nil) != tt.wantErr {
				t.Errorf("Handle error = %v; want error %t", err, tt.wantErr)
			}
			if e.cp.reports() != tt.wantReported || e.cp.attempts != tt.wantAttempts {
				t.Errorf("reports = %d after %d attempts; want %d after %d", e.cp.reports(), e.cp.attempts, tt.wantReported, tt.wantAttempts)
			}
		})
	}
}

func TestSpecChangedMidBake(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	st := NewState(e.clock.Now(), "0000000000000000", 1)
	tok, err := testKeys.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.invoke(t, jobEvent(t, "job-s", inlineSpec("1m", "1s", "health"), tok), time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(e.cp.failures) != 1 || e.cp.failures[0].FailureDetails.Type != cptypes.FailureTypeConfigurationError ||
		!strings.Contains(aws.ToString(e.cp.failures[0].FailureDetails.Message), "spec changed during the bake") {
		t.Fatalf("failures = %+v; want a ConfigurationError saying the spec changed", e.cp.failures)
	}
}

// The sample event's token is signed with another stack's key: it is
// refused with one failure naming the cause, and the stage can be
// retried.
func TestContinuationEventFromFileIsRefused(t *testing.T) {
	sm := &scripted{result: pass}
	e := newEnv(sm)
	if err := e.invoke(t, readEvent(t, "verify-continuation.json"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(e.cp.failures) != 1 || e.cp.reports() != 1 {
		t.Fatalf("reports = %d successes, %d failures; want exactly 1 failure", len(e.cp.successes), len(e.cp.failures))
	}
	fd := e.cp.failures[0].FailureDetails
	if msg := aws.ToString(fd.Message); fd.Type != cptypes.FailureTypeJobFailed || !strings.Contains(msg, "refused to resume its bake") || !strings.Contains(msg, "signature does not match") || !strings.Contains(msg, "Retry the stage") {
		t.Errorf("failure = %s %q; want JobFailed refusing to resume, naming the cause", fd.Type, msg)
	}
	if sm.samples != 0 {
		t.Errorf("samples = %d; want none taken on a refused token", sm.samples)
	}
}

func TestInconclusivePolicy(t *testing.T) {
	unsure := func(int, int) verdict.Result {
		return verdict.Result{Verdict: verdict.Inconclusive, Observed: "no data points in 5m", Expected: "value < 5"}
	}
	for _, policy := range []string{"fail", "pass"} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(&scripted{result: unsure})
			p := inlineSpec("0s", "1s", "errors")
			p["spec"].(map[string]any)["limits"] = map[string]any{"inconclusive": policy}
			if err := e.invoke(t, jobEvent(t, "job-i", p, ""), time.Minute); err != nil {
				t.Fatal(err)
			}
			if policy == "fail" {
				if len(e.cp.failures) != 1 || !strings.Contains(aws.ToString(e.cp.failures[0].FailureDetails.Message), "INCONCLUSIVE") {
					t.Fatalf("inconclusive=fail: want one INCONCLUSIVE failure; got %d failures", len(e.cp.failures))
				}
				return
			}
			if len(e.cp.successes) != 1 || !strings.Contains(aws.ToString(e.cp.successes[0].ExecutionDetails.Summary), "limits.inconclusive=pass") {
				t.Fatalf("inconclusive=pass: want one success that says why; got %d successes", len(e.cp.successes))
			}
		})
	}
}

func TestMessagesStayWithinLimits(t *testing.T) {
	long := strings.Repeat("x", 400)
	sm := &scripted{result: func(int, int) verdict.Result {
		return verdict.Result{Verdict: verdict.Failed, Target: "https://api.example.com/" + long, Observed: long, Expected: long}
	}}
	e := newEnv(sm)
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("check-%02d", i)
	}
	p := inlineSpec("0s", "1s", names...)
	p["spec"].(map[string]any)["limits"] = map[string]any{"failFast": false}
	if err := e.invoke(t, jobEvent(t, "job-l", p, ""), time.Minute); err != nil {
		t.Fatal(err)
	}
	msg := aws.ToString(e.cp.failures[0].FailureDetails.Message)
	if len(msg) > MaxFailureMessage || !strings.Contains(msg, "…and ") {
		t.Errorf("message is %d bytes (limit %d), ends %q; want it cut with \"…and N more\"", len(msg), MaxFailureMessage, msg[max(0, len(msg)-40):])
	}
}

func TestNotAJob(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	if err := e.invoke(t, []byte(`{"Records": []}`), time.Minute); err == nil {
		t.Error("Handle(SNS-shaped event) error = nil; want an error: there is no job to report")
	}
	if e.cp.attempts != 0 {
		t.Errorf("report attempts = %d; want 0", e.cp.attempts)
	}
}

// FuzzHandle feeds arbitrary bytes through the Lambda JSON path: the
// handler must never panic, and any event with a job id gets exactly one
// report.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"verify-inline.json", "verify-bad-spec.json", "verify-malformed-params.json", "verify-continuation.json"} {
		b, err := os.ReadFile("../../events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"CodePipeline.job":{"id":"j","data":{"actionConfiguration":{"configuration":{"UserParameters":"{\"spec\":{\"checks\":[]}}"}},"continuationToken":"{\"v\":1}"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e := newEnv(&scripted{result: pass})
		e.v.ReportAttempts = 1
		ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(time.Minute))
		defer cancel()
		_, err := lambda.NewHandler(e.v.Handle).Invoke(ctx, payload)
		var ev events.CodePipelineJobEvent
		if json.Unmarshal(payload, &ev) == nil && ev.CodePipelineJob.ID != "" {
			if err != nil || e.cp.reports() != 1 {
				t.Fatalf("job %q: Handle error %v, %d reports; want nil and exactly 1", ev.CodePipelineJob.ID, err, e.cp.reports())
			}
		}
	})
}

func TestDuplicateDeliveryToAWarmInstance(t *testing.T) {
	sm := &scripted{result: pass}
	e := newEnv(sm)
	ev := jobEvent(t, "job-dup", inlineSpec("0s", "1s", "health"), "")
	for i := range 3 {
		if err := e.invoke(t, ev, time.Minute); err != nil {
			t.Fatalf("delivery %d: Handle error: %v", i+1, err)
		}
	}
	if e.cp.reports() != 1 || sm.samples != 1 {
		t.Errorf("3 deliveries of one job: %d reports, %d samples; want 1 report and 1 sample (duplicates dropped before baking)", e.cp.reports(), sm.samples)
	}
	// A continuation is not terminal: the next invocation must still run.
	e2 := newEnv(&scripted{result: pass})
	cont := jobEvent(t, "job-cont", inlineSpec("10s", "1s", "health"), "")
	if err := e2.invoke(t, cont, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	tok := aws.ToString(e2.cp.successes[0].ContinuationToken)
	if tok == "" {
		t.Fatal("first invocation of a 10s bake in 3s did not continue")
	}
	if err := e2.invoke(t, jobEvent(t, "job-cont", inlineSpec("10s", "1s", "health"), tok), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(e2.cp.successes) != 2 {
		t.Errorf("continued job: %d reports; want the second invocation to report too", len(e2.cp.successes))
	}
}
