package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Verifier runs a CodePipeline job's verification and reports it.
type Verifier struct {
	CodePipeline CodePipelineAPI
	Loader       Loader
	// Build turns a parsed spec into the checks to run (registry.Build
	// with the function's clients; tests pass their own).
	Build func(spec.Spec) (check.Suite, error)
	// Keys signs and checks continuation tokens (a *TokenKeySource in
	// the function; fixed TokenKeys in tests).
	Keys    KeySource
	Events  telemetry.Events
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// SafetyMargin is kept free before the deadline to report.
	SafetyMargin time.Duration
	Now          func() time.Time
	Sleep        func(context.Context, time.Duration) error
	// ReportAttempts and ReportBackoff bound retries of a failed report
	// (DefaultReportAttempts, DefaultReportBackoff doubling).
	ReportAttempts int
	ReportBackoff  time.Duration
	// STS and BuildWith let a spec look at other accounts and regions
	// (roleArn, region; accounts.go): when both are set, each invocation
	// builds its checks with BuildWith and its own awsclient.Assumer
	// instead of Build.
	STS       awsclient.AssumeRoleAPI
	BuildWith func(spec.Spec, *awsclient.Assumer) (check.Suite, error)
	// Hooks answers CodeDeploy lifecycle hook invocations (hook.go); nil
	// refuses them as not a CodePipeline job, as before.
	Hooks *HookVerifier

	// finished remembers the jobs this warm instance has reported
	// terminally, so a duplicate delivery that lands here is dropped at
	// once instead of baking again only to be refused at report time.
	finished finishedJobs
}

// finishedJobs is a small set of job ids, oldest forgotten first.
type finishedJobs struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string
}

const maxFinishedJobs = 1024

func (f *finishedJobs) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[string]bool{}
	}
	if f.ids[id] {
		return
	}
	f.ids[id] = true
	f.order = append(f.order, id)
	if len(f.order) > maxFinishedJobs {
		delete(f.ids, f.order[0])
		f.order = f.order[1:]
	}
}

func (f *finishedJobs) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

// decision is what an invocation reports.
type decision struct {
	final       bool // a terminal report (not a continuation)
	ok          bool // PutJobSuccessResult
	failureType cptypes.FailureType
	text        string // summary or failure message
	token       string
	percent     int
	vars        map[string]string
	event       *contract.VerificationCompleted
}

// jobInfo is where the job runs, from GetJobDetails — or, for a
// CodeDeploy lifecycle hook, the deployment and hook, from CodeDeploy.
type jobInfo struct{ pipeline, executionID, stage, action, deployment, hook string }

func (j jobInfo) String() string {
	var parts []string
	for _, p := range [][2]string{{"pipeline", j.pipeline}, {"stage", j.stage}, {"action", j.action}, {"execution", j.executionID}, {"deployment", j.deployment}, {"hook", j.hook}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	return strings.Join(parts, ", ")
}

// Handle is the Lambda handler. It reports the job exactly once per
// invocation — success, continuation or failure — even when the spec is
// bad, AWS fails, a check hangs or something panics, and it reports
// before the deadline: all work stops at the cutoff (the deadline less
// the safety margin, see pkg/deadline), the report runs in the margin,
// bounded so its outcome is known before Lambda's deadline. It returns an
// error only when no report could be made (a *ReportError, so Lambda's
// async retry delivers the job again) or the event is not a job (a
// *NotAJobError).
func (v *Verifier) Handle(ctx context.Context, ev events.CodePipelineJobEvent) error {
	job := ev.CodePipelineJob
	if job.ID == "" {
		return refuseNotAJob(ctx, v.log(), v.Metrics, "", "CodePipeline.job.id is missing")
	}
	// Every line this invocation logs goes through its secrets, which
	// learn the spec's once it is read.
	sec := &secrets{}
	log := slog.New(redactingHandler{next: v.log().Handler(), s: sec}).With("jobId", job.ID)
	if v.finished.has(job.ID) {
		// A job reported terminally can never legitimately come back.
		log.WarnContext(ctx, "duplicate delivery of a job this instance already reported; not verifying again")
		return nil
	}
	inv := &invocation{log: log, jobID: job.ID, w: v.window(ctx), secrets: sec}
	w := inv.w
	d := v.decide(ctx, inv, job).redact(sec)
	rep := v.reporter(log, w)
	var err error
	if d.ok {
		err = rep.success(ctx, job.ID, d.token, d.text, d.percent, d.vars)
	} else {
		err = rep.failure(ctx, job.ID, d.failureType, d.text)
	}
	if d.final && (err == nil || errors.Is(err, ErrAlreadyReported)) {
		v.finished.add(job.ID)
	}
	switch {
	case errors.Is(err, ErrAlreadyReported):
		return nil
	case err != nil:
		log.ErrorContext(ctx, "could not report the job; returning an error so Lambda retries", "error", err.Error())
		return err
	}
	if d.event != nil {
		v.Metrics.Emit(nil, telemetry.Value{Name: telemetry.MetricVerifications, Unit: telemetry.UnitCount, Value: 1})
		v.Metrics.Emit(map[string]string{"Verdict": d.event.Verdict.String()}, telemetry.Value{Name: telemetry.MetricVerifications, Unit: telemetry.UnitCount, Value: 1})
		pctx, cancel := context.WithDeadline(ctx, w.reportBy)
		if perr := v.Events.Publish(pctx, contract.VerificationDetailType, d.event); perr != nil {
			log.WarnContext(ctx, "could not publish the verification event", "error", perr.Error())
		}
		cancel()
	}
	log.InfoContext(ctx, "job reported", "final", d.final, "success", d.ok, "failureType", string(d.failureType), "percent", d.percent)
	return nil
}

// decide works out the job's report under a context that ends at the
// cutoff. run normally returns by then (every wait and every check is
// bounded by that context); if it does not — something in the spec
// loading ignored its context — decide stops waiting shortly after the
// cutoff and fails the job, so the report is still made
// in time. A panic anywhere in run fails the job too.
func (v *Verifier) decide(ctx context.Context, inv *invocation, job events.CodePipelineJob) decision {
	return v.guard(ctx, inv, "Retry the stage", "job id "+job.ID, func(wctx context.Context) decision { return v.run(wctx, inv, job) })
}

// guard runs work under a context that ends at the cutoff, turning a
// panic or a run that does not stop in time into a final failure (see
// decide); retry and ref complete its messages ("Retry the stage", "job
// id …"). CodePipeline jobs and CodeDeploy hooks share it.
func (v *Verifier) guard(ctx context.Context, inv *invocation, retry, ref string, work func(context.Context) decision) decision {
	log, w := inv.log, inv.w
	wctx, cancel := context.WithDeadlineCause(ctx, w.cutoff, errCutoff)
	defer cancel()
	done := make(chan decision, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "verify panicked; failing the job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				done <- decision{final: true, failureType: cptypes.FailureTypeJobFailed,
					text: fmt.Sprintf("Post-deploy verification stopped on an internal error (a postdeploy bug, not your release): %v. %s; if it repeats, report it with %s.", p, retry, ref)}
			}
		}()
		done <- work(wctx)
	}()
	select {
	case d := <-done:
		return d
	case <-wctx.Done():
	}
	// Twice the grace: a sample abandons its late checks one grace after
	// the cutoff, and the bake then reports what it has.
	t := time.NewTimer(2 * w.grace)
	defer t.Stop()
	select {
	case d := <-done:
		return d
	case <-t.C:
		log.ErrorContext(ctx, "verification did not stop at the cutoff; failing the job so it is still reported in time", "cutoff", w.cutoff.Format(time.RFC3339Nano))
		return decision{final: true, failureType: cptypes.FailureTypeJobFailed,
			text: fmt.Sprintf("Post-deploy verification did not finish its work before the function's deadline less its safety margin (%s): something in setting up or running the checks did not stop in time. %s; if it repeats, raise the function's timeout or report it with %s.", w.margin.Round(time.Millisecond), retry, ref)}
	}
}

// invocation is what one invocation's work shares.
type invocation struct {
	log   *slog.Logger // carries the job id; redacts through secrets
	jobID string
	info  jobInfo
	w     window
	keys  TokenKeys
	// secrets redacts everything that leaves the function.
	secrets *secrets
	// assumer holds the invocation's role sessions (nil when the spec
	// cannot name other accounts).
	assumer *awsclient.Assumer
}

func (v *Verifier) run(ctx context.Context, inv *invocation, job events.CodePipelineJob) decision {
	log := inv.log
	info := v.jobInfo(ctx, log, job.ID)
	inv.info = info
	configFail := func(source string, err error) decision {
		msg := configMessage(source, err)
		problems := 1
		var errs spec.Errors
		if errors.As(err, &errs) {
			problems = len(errs)
		}
		log.WarnContext(ctx, "configuration error", "source", source, "problems", problems)
		return decision{final: true, failureType: cptypes.FailureTypeConfigurationError, text: msg,
			event: &contract.VerificationCompleted{Verdict: verdict.Error, JobID: job.ID, Pipeline: info.pipeline, ExecutionID: info.executionID, Stage: info.stage, Action: info.action, Summary: clip(msg, MaxSummary), FailedChecks: []string{}, Checks: []verdict.Result{}}}
	}
	params, err := ParseParams(job.Data.ActionConfiguration.Configuration.UserParameters)
	if err != nil {
		return configFail("UserParameters", err)
	}
	loaded, err := v.Loader.Load(ctx, params, job.Data)
	raw, source := loaded.Raw, loaded.Source
	if loaded.Secure {
		inv.secrets.set(forSecureSource(raw))
	}
	if err != nil {
		if errors.Is(err, ErrConfig) {
			return configFail(source, err)
		}
		log.ErrorContext(ctx, "could not load the spec", "source", source, "error", err.Error())
		return decision{final: true, failureType: cptypes.FailureTypeSystemUnavailable,
			text: fmt.Sprintf("Post-deploy verification could not load its spec from %s: %v. This is usually transient (throttling, an AWS outage) or a missing permission: retry the stage.", source, err)}
	}
	s, err := spec.Parse(raw, params.Variables)
	if err != nil {
		return configFail(source, err)
	}
	inv.secrets.set(forSpec(s, raw, loaded.Secure))
	suite, errs := v.buildSuite(s, inv)
	if len(errs) > 0 {
		return configFail(source, errs)
	}
	// The checks redact their own evidence too, with what verify knows
	// beyond the spec (a SecureString source).
	suite.Redactor = inv.secrets.redactor()
	suite.OnPanic = func(kind string, value any, stack []byte) {
		log.ErrorContext(ctx, "check panicked", "kind", kind, "panic", fmt.Sprint(value), "stack", string(stack))
	}
	keys, err := v.tokenKeys(ctx)
	if err != nil {
		return v.keyFailure(ctx, log, err)
	}
	hash := SpecHash(raw)
	var st State
	if tok := job.Data.ContinuationToken; tok != "" {
		refuse := func(err error) decision {
			log.WarnContext(ctx, "continuation token refused", "error", err.Error())
			return decision{final: true, failureType: cptypes.FailureTypeJobFailed, text: "Post-deploy verification refused to resume its bake: " + err.Error() + ". Retry the stage to start a fresh bake."}
		}
		st, err = keys.Decode(tok)
		if err != nil {
			return refuse(err)
		}
		if st.SpecHash != hash {
			return configFail(source, spec.Errors{{Msg: "the spec changed during the bake (it is re-read on every continuation): retry the stage to verify with the new spec"}})
		}
		if err := st.Validate(s, v.now()); err != nil {
			return refuse(err)
		}
	} else {
		st = NewState(v.now(), hash, len(s.Checks))
	}
	inv.keys = keys
	if d, stop := v.preflight(ctx, inv, s); stop {
		return d
	}
	return v.refused(inv, v.bake(ctx, inv, s, suite, st))
}

// buildSuite builds the spec's checks: a problem building them, or a
// spec whose state cannot fit a continuation token, is a spec error.
func (v *Verifier) buildSuite(s spec.Spec, inv *invocation) (check.Suite, spec.Errors) {
	errs := CheckTokenFits(s)
	suite, err := v.build(s, inv)
	if err != nil {
		var be spec.Errors
		if !errors.As(err, &be) {
			be = spec.Errors{{Msg: err.Error()}}
		}
		errs = append(errs, be...)
	}
	return suite, errs
}

func (v *Verifier) tokenKeys(ctx context.Context) (TokenKeys, error) {
	if v.Keys == nil {
		return TokenKeys{}, asConfig("no continuation-token key source is configured")
	}
	return v.Keys.Keys(ctx)
}

// keyFailure fails a job whose token key could not be read: a problem the
// stack must fix (no secret, no access) is a ConfigurationError, anything
// else (throttling, an outage) is worth a retry of the stage.
func (v *Verifier) keyFailure(ctx context.Context, log *slog.Logger, err error) decision {
	log.ErrorContext(ctx, "could not read the continuation-token key", "error", err.Error())
	if errors.Is(err, ErrConfig) {
		return decision{final: true, failureType: cptypes.FailureTypeConfigurationError,
			text: fmt.Sprintf("Post-deploy verification cannot run: its continuation-token key could not be read: %v. Fix the verify function's configuration (the postdeploy stack creates the secret, names it in %s and grants access to it), then retry the stage.", err, config.EnvTokenKeySecret)}
	}
	return decision{final: true, failureType: cptypes.FailureTypeSystemUnavailable,
		text: fmt.Sprintf("Post-deploy verification could not read its continuation-token key: %v. This is usually transient (throttling, an AWS outage): retry the stage.", err)}
}

func verdictList(rs []verdict.Result) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Check + "=" + r.Verdict.String()
	}
	return strings.Join(parts, " ")
}

func (v *Verifier) outcome(s spec.Spec, st State, last []verdict.Result, info jobInfo, start time.Time, early bool) outcome {
	return newOutcome(s, st, last, info.String(), v.now().Sub(start), early)
}

// newOutcome judges a bake: each check's final verdict from its tally,
// and the verification's, the worst of the critical checks'.
func newOutcome(s spec.Spec, st State, last []verdict.Result, where string, elapsed time.Duration, early bool) outcome {
	limits := limitsOf(s)
	o := outcome{Samples: st.Samples, Elapsed: elapsed, Where: where, EndedEarly: early, PassUnsure: s.Limits.Inconclusive == spec.PolicyPass}
	var critical []verdict.Verdict
	for i, c := range s.Checks {
		co := checkOutcome{Name: c.Name, Kind: c.Kind(), Target: last[i].Target, Critical: c.IsCritical(), Tally: st.Checks[i].Tally, Last: last[i], Evidence: st.Checks[i].Last}
		co.Verdict = co.Tally.Final(limits)
		if co.Critical {
			critical = append(critical, co.Verdict)
		}
		o.Checks = append(o.Checks, co)
	}
	o.Verdict = verdict.Succeeded
	if len(critical) > 0 {
		o.Verdict = verdict.Worst(critical...)
	}
	return o
}

func (v *Verifier) handOver(ctx context.Context, inv *invocation, s spec.Spec, st State, last []verdict.Result, start time.Time) decision {
	o := v.outcome(s, st, last, inv.info, start, false)
	tok, err := inv.keys.Encode(st)
	if err != nil {
		// Validation makes this unreachable for a valid spec; fail rather
		// than leave the job hanging.
		return decision{final: true, failureType: cptypes.FailureTypeJobFailed, text: "Post-deploy verification could not save its progress: " + err.Error()}
	}
	pct := 100
	if b := s.Bake.D(); b > 0 {
		pct = int(100 * o.Elapsed / b)
	}
	pct = min(pct, 99)
	inv.log.InfoContext(ctx, "handing over to the next invocation", "samples", st.Samples, "elapsed", o.Elapsed.String(), "percent", pct)
	return decision{ok: true, token: tok, percent: pct, text: progressSummary(o, s.Bake.D())}
}

func (v *Verifier) finish(ctx context.Context, inv *invocation, s spec.Spec, st State, last []verdict.Result, start time.Time, early bool) decision {
	info := inv.info
	o := v.outcome(s, st, last, info, start, early)
	ev := &contract.VerificationCompleted{Verdict: o.Verdict, JobID: inv.jobID, Pipeline: info.pipeline, ExecutionID: info.executionID, Stage: info.stage, Action: info.action,
		Samples: o.Samples, BakeSeconds: int(o.Elapsed.Seconds()), FailedChecks: []string{}}
	for _, c := range o.Checks {
		r := c.Last
		r.Verdict = c.Verdict
		if c.Verdict != verdict.Succeeded {
			ev.FailedChecks = append(ev.FailedChecks, c.Name)
			if c.Evidence != "" {
				r.Observed = c.Evidence
			}
		}
		ev.Checks = append(ev.Checks, r)
	}
	inv.log.InfoContext(ctx, "verification finished", "verdict", o.Verdict.String(), "samples", o.Samples, "failedChecks", strings.Join(ev.FailedChecks, ","))
	if o.passes() {
		sum := successSummary(o)
		ev.Summary = sum
		return decision{final: true, ok: true, percent: 100, text: sum, vars: outputVariables(o), event: ev}
	}
	msg := failureMessage(o)
	ev.Summary = clip(msg, MaxSummary)
	return decision{final: true, failureType: cptypes.FailureTypeJobFailed, text: msg, event: ev}
}

// jobInfo looks up where the job runs, for messages and the event. It is
// best effort: verification goes on without it.
func (v *Verifier) jobInfo(ctx context.Context, log *slog.Logger, jobID string) jobInfo {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := v.CodePipeline.GetJobDetails(cctx, &codepipeline.GetJobDetailsInput{JobId: aws.String(jobID)})
	if err != nil {
		log.WarnContext(ctx, "GetJobDetails failed; messages will not name the pipeline", "error", err.Error())
		return jobInfo{}
	}
	var ji jobInfo
	if out.JobDetails != nil && out.JobDetails.Data != nil && out.JobDetails.Data.PipelineContext != nil {
		pc := out.JobDetails.Data.PipelineContext
		ji.pipeline = aws.ToString(pc.PipelineName)
		ji.executionID = aws.ToString(pc.PipelineExecutionId)
		if pc.Stage != nil {
			ji.stage = aws.ToString(pc.Stage.Name)
		}
		if pc.Action != nil {
			ji.action = aws.ToString(pc.Action.Name)
		}
	}
	return ji
}

func (v *Verifier) log() *slog.Logger {
	if v.Log != nil {
		return v.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) sleep(ctx context.Context, d time.Duration) error {
	if v.Sleep != nil {
		return v.Sleep(ctx, d)
	}
	return deadline.Sleep(ctx, d)
}
