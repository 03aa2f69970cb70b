package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// CodeDeploy lifecycle hooks.
//
// Why the verify function answers hooks itself (dispatching on the
// payload's shape, hookroute.go) instead of a sibling function: the
// verdict bus admits exactly one principal, verify's role, and respond
// trusts a "Post-Deploy Verification Completed" event because only that
// role can put it (infra busPolicy; DESIGN "Trust boundaries"). A sibling
// would need its own role on the bus and a second trusted publisher.
// The same function also keeps one token key, one redactor, one set of
// check clients and one bake loop. The price is that verify's role gains
// the hook calls (CodeDeploy reads and PutLifecycleEventHookExecutionStatus
// on deployment groups, lambda:InvokeFunction on itself; infra/stack/hooks.go)
// next to the CodePipeline job calls it already had.
//
// The flow of one invocation:
//  1. decode strictly (hookroute.go); trust nothing in it;
//  2. read the deployment and the running lifecycle event from CodeDeploy
//     (hookresolve.go): a deployment CodeDeploy does not know, or one
//     with no hook in progress, is logged, counted and not reported (no
//     status could be accepted: PutLifecycleEventHookExecutionStatus
//     answers DeploymentDoesNotExistException or
//     LifecycleEventAlreadyCompletedException);
//  3. claim the step in the state table (hookclaim.go), so a duplicate
//     or retried delivery of the same invocation does not bake twice;
//  4. load the group's hook spec from SSM and parse the running hook's
//     section (hookspec.go), with the hook's variables;
//  5. bake with the CodePipeline path's loop, checks, verdicts and limits
//     (bake.go), within the Lambda deadline and the hook's time limit;
//  6. either report Succeeded or Failed exactly once (hookreport.go), or
//     hand over to a new invocation of itself carrying the signed state
//     (hookhandover.go).
//
// PutLifecycleEventHookExecutionStatus carries no message: the cause of a
// Failed status is in the log line, the published event's summary, and
// so in respond's notification.

// HookTimeLimit is how long CodeDeploy waits for a hook's status: one
// hour from the lifecycle event's start, after which CodeDeploy fails the
// hook itself. The hour is issue 14's figure; the stored CodeDeploy pages
// ("AppSpec 'hooks' section", the API Reference) do not state it, so it
// is kept as one constant here. (Amazon ECS's own deployment lifecycle
// hooks, a different mechanism, default to 24 hours:
// DeploymentLifecycleHookTimeoutConfiguration.)
const HookTimeLimit = time.Hour

// DefaultHookMargin is how long before HookTimeLimit verify reports
// Failed at the latest, so its own status, not CodeDeploy's timeout, ends
// the hook, with a message saying why.
const DefaultHookMargin = 2 * time.Minute

// Claimer takes a claim in the state table (*state.Store).
type Claimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration, attrs map[string]string) (bool, error)
}

// HookVerifier answers CodeDeploy lifecycle hook invocations with the
// Verifier's engine.
type HookVerifier struct {
	V          *Verifier
	CodeDeploy CodeDeployAPI
	// Lambda and FunctionName let a bake hand over to a new invocation
	// of this function (nil or "": a bake that outlasts the invocation
	// fails the hook, saying so).
	Lambda       LambdaInvokeAPI
	FunctionName string
	// Claims dedupes deliveries (nil: CodeDeploy's refusal of a second
	// status is the only guard).
	Claims Claimer
	// ELB reads the listeners behind #{TEST_LISTENER_URL} and
	// #{PROD_LISTENER_URL}, only for a spec that uses them
	// (hooklisteners.go; nil: such a spec fails the hook, saying so).
	ELB ELBv2API
	// SpecPrefix is the SSM path of the groups' hook specs
	// (config.DefaultHookSpecPrefix).
	SpecPrefix string
	// Margin is kept before HookTimeLimit (DefaultHookMargin when 0).
	Margin time.Duration
}

func (h *HookVerifier) margin() time.Duration {
	if h.Margin > 0 {
		return h.Margin
	}
	return DefaultHookMargin
}

// limit is when the hook's work must be over: its start plus the hour,
// less the margin.
func (h *HookVerifier) limit(run hookRun) time.Time {
	return run.started.Add(HookTimeLimit - h.margin())
}

// Handle answers one hook invocation (CodeDeploy's, or verify's own
// hand-over). It returns an error only when the invocation could not be
// acted on or reported: a *HookEventError (no such deployment, not a
// hook verify can run) or a *ReportError (Lambda retries the invocation,
// which re-reads CodeDeploy first).
func (h *HookVerifier) Handle(ctx context.Context, ev contract.CodeDeployHookEvent) error {
	v := h.V
	sec := &secrets{}
	log := slog.New(redactingHandler{next: v.log().Handler(), s: sec}).With("deploymentId", ev.DeploymentID, "hookExecutionId", ev.LifecycleEventHookExecutionID)
	run, stop, ret, err := confirmHook(ctx, log, v.Metrics, h.CodeDeploy, ev)
	if stop {
		return ret
	}
	inv := &invocation{log: log, secrets: sec}
	if err == nil {
		log = log.With("hook", run.hook)
		inv.log = log
		inv.info = jobInfo{deployment: ev.DeploymentID, hook: run.hook}
		// Names the AssumeRole sessions of cross-account checks
		// (postdeploy-verify-<deployment id>); never the event's job id,
		// which hooks have none of.
		inv.jobID = ev.DeploymentID
		var wcancel context.CancelFunc
		inv.w, wcancel = h.window(ctx, run)
		defer wcancel()
	} else {
		inv.w = v.window(ctx)
	}
	if !h.claimStep(ctx, log, ev, inv.w) {
		return nil
	}
	var d decision
	if err != nil {
		// CodeDeploy could not be read (throttling, an outage, access
		// denied, two hooks in progress): fail the hook naming why,
		// rather than leave it to time out.
		log.ErrorContext(ctx, "could not confirm the hook with CodeDeploy", "error", err.Error())
		d = decision{final: true, text: "Post-deploy verification could not confirm the hook with CodeDeploy: " + err.Error() + ". Retry the deployment; if it repeats, check verify's codedeploy:GetDeployment, ListDeploymentTargets and GetDeploymentTarget permissions on the deployment group."}
	} else {
		d = v.guard(ctx, inv, "Retry the deployment", "deployment "+ev.DeploymentID, func(wctx context.Context) decision { return h.run(wctx, inv, run) })
	}
	d = d.redact(sec)
	if !d.final {
		d = h.handOver(ctx, inv, run, d)
		if !d.final {
			return nil
		}
	}
	return h.conclude(ctx, inv, run, d)
}

// window is the invocation's window: it ends at the hook's limit when
// that comes before Lambda's deadline, so the bake stops and reports in
// time. A hook already past its limit (a late delivery, a slow
// hand-over) keeps Lambda's own window: run fails it at once, and the
// report still has the margin to be made in — CodeDeploy's hour is not
// over until the margin is.
func (h *HookVerifier) window(ctx context.Context, run hookRun) (window, context.CancelFunc) {
	limit := h.limit(run)
	if !h.V.now().Before(limit) {
		return h.V.window(ctx), func() {}
	}
	lctx, cancel := context.WithDeadline(ctx, limit)
	return h.V.window(lctx), cancel
}

// resolveTimeout bounds the CodeDeploy reads that confirm the hook.
const resolveTimeout = 10 * time.Second

// run loads the hook's spec and bakes it; it mirrors Verifier.run for a
// CodePipeline job, with the spec from the group's hook document.
func (h *HookVerifier) run(ctx context.Context, inv *invocation, run hookRun) decision {
	v, log := h.V, inv.log
	now := v.now()
	if limit := h.limit(run); !now.Before(limit) {
		return decision{final: true, text: fmt.Sprintf("Post-deploy verification ran out of the hook's time: %s started at %s and CodeDeploy allows a hook %s; verify reports before the last %s. Shorten the hook spec's bake.", run.hook, run.started.UTC().Format(time.RFC3339), HookTimeLimit, h.margin())}
	}
	name := h.SpecPrefix + run.application + "/" + run.group
	source := "SSM parameter " + name
	configFail := func(err error) decision {
		log.WarnContext(ctx, "configuration error", "source", source)
		return decision{final: true, text: configMessage(source, err) + fmt.Sprintf(" (%s reads the spec for each hook from the %q section of %s)", run.where(), "hooks."+run.hook, source)}
	}
	raw, secure, err := v.Loader.fromSSM(ctx, name)
	if secure {
		inv.secrets.set(forSecureSource(raw))
	}
	if err != nil {
		if errors.Is(err, ErrConfig) {
			return configFail(err)
		}
		log.ErrorContext(ctx, "could not load the hook spec", "source", source, "error", err.Error())
		return decision{final: true, text: fmt.Sprintf("Post-deploy verification could not load its spec from %s: %v. This is usually transient (throttling, an AWS outage) or a missing permission: retry the deployment.", source, err)}
	}
	platformHooks := contract.ECSHooks
	if run.platform == cdtypes.ComputePlatformLambda {
		platformHooks = contract.LambdaHooks
	}
	section, err := hookSection(raw, platformHooks, run.hook)
	if err != nil {
		return configFail(err)
	}
	lctx, lcancel := context.WithTimeout(ctx, resolveTimeout)
	vars, err := listenerVars(lctx, h.ELB, run.vars, section)
	lcancel()
	if err != nil {
		log.ErrorContext(ctx, "could not resolve a listener URL", "error", err.Error())
		return decision{final: true, text: fmt.Sprintf("Post-deploy verification could not resolve a listener URL for %s: %v.", run.where(), err)}
	}
	s, err := spec.Parse(section, vars)
	if err != nil {
		return configFail(inSection(err, run.hook))
	}
	inv.secrets.set(forSpec(s, section, secure))
	// Cross-account checks assume their roles per invocation (accounts.go).
	suite, errs := v.buildSuite(s, inv)
	if len(errs) > 0 {
		return configFail(inSection(errs, run.hook))
	}
	suite.Redactor = inv.secrets.redactor()
	suite.OnPanic = func(kind string, value any, stack []byte) {
		log.ErrorContext(ctx, "check panicked", "kind", kind, "panic", fmt.Sprint(value), "stack", string(stack))
	}
	keys, err := v.tokenKeys(ctx)
	if err != nil {
		d := v.keyFailure(ctx, log, err)
		return decision{final: true, text: d.text}
	}
	hash := hookSpecHash(section, run.ev)
	var st State
	if tok := run.ev.Continuation; tok != "" {
		refuse := func(err error) decision {
			log.WarnContext(ctx, "continuation refused", "error", err.Error())
			return decision{final: true, text: "Post-deploy verification refused to resume the hook's bake: " + err.Error() + "."}
		}
		if st, err = keys.Decode(tok); err != nil {
			return refuse(err)
		}
		if st.SpecHash != hash {
			return refuse(errors.New("the continuation was written for another hook execution, or the hook's spec changed during the bake (it is re-read on every continuation)"))
		}
		if err := st.Validate(s, now); err != nil {
			return refuse(err)
		}
	} else {
		st = NewState(now, hash, len(s.Checks))
	}
	if end := st.Start().Add(s.Bake.D()); end.After(h.limit(run)) {
		return configFail(spec.Errors{{Path: spec.Field("hooks", run.hook) + ".bake", Msg: fmt.Sprintf("a %s bake started at %s would end at %s, after the hook's limit (%s from the lifecycle event's start at %s, less verify's %s margin): shorten the bake", s.Bake, st.Start().UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), HookTimeLimit, run.started.UTC().Format(time.RFC3339), h.margin())}})
	}
	inv.keys = keys
	if d, stop := v.preflight(ctx, inv, s); stop {
		return d
	}
	return v.refused(inv, v.bake(ctx, inv, s, suite, st))
}

// hookSpecHash binds a bake's state to the spec section and to the hook
// execution: a continuation made for one hook execution does not resume
// another's bake (the token is signed, so the hash cannot be edited).
func hookSpecHash(section []byte, ev contract.CodeDeployHookEvent) string {
	h := sha256.New()
	h.Write(section)
	h.Write([]byte{0})
	h.Write([]byte(ev.DeploymentID))
	h.Write([]byte{0})
	h.Write([]byte(ev.LifecycleEventHookExecutionID))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// event completes a decision's verification event for a hook, or makes
// one for a decision that has none (a configuration or CodeDeploy
// problem), so every hook's end is published and respond notifies it.
func hookEvent(d decision, run hookRun) *contract.VerificationCompleted {
	ev := d.event
	if ev == nil {
		v := verdict.Error
		ev = &contract.VerificationCompleted{Verdict: v, Summary: clip(d.text, MaxSummary), FailedChecks: []string{}, Checks: []verdict.Result{}}
	} else {
		c := *ev
		ev = &c
	}
	if !d.ok && ev.Verdict == verdict.Succeeded {
		ev.Verdict = verdict.Error
	}
	if !d.ok {
		ev.Summary = clip(hookText(d.text, run), MaxSummary)
	}
	ev.JobID = ""
	ev.DeploymentID, ev.Application, ev.DeploymentGroup = run.ev.DeploymentID, run.application, run.group
	ev.Hook, ev.HookExecutionID, ev.AutoRollback = run.hook, run.ev.LifecycleEventHookExecutionID, run.autoRollback
	return ev
}

// hookText is a failure message as a hook's reader needs it: the
// verdict's advice speaks of a pipeline's stage (message.go), which a
// hook has none of; what a Failed status does to the deployment closes it.
func hookText(text string, run hookRun) string {
	text = strings.Replace(text, "Next: the release is not healthy — roll back (re-run the previous execution or your rollback stage), then use the evidence above to find the cause. A check marked non-critical never fails the pipeline on its own.",
		"Next: the release is not healthy; use the evidence above to find the cause. A check marked non-critical never fails the hook on its own.", 1)
	text = strings.ReplaceAll(text, "retry the stage", "retry the deployment")
	text = strings.ReplaceAll(text, "Retry the stage", "Retry the deployment")
	return text + "\n\n" + rollbackNote(run)
}

// rollbackNote says what a Failed status does to the deployment.
func rollbackNote(run hookRun) string {
	if run.autoRollback {
		return "The hook was reported Failed to CodeDeploy, which fails the deployment and rolls it back (the deployment group's automatic rollback on failure is on)."
	}
	return "The hook was reported Failed to CodeDeploy, which fails the deployment; the deployment group's automatic rollback on failure is off, so nothing is rolled back until you redeploy."
}

// confirmHook reads the hook from CodeDeploy. When CodeDeploy's answer
// leaves nothing to report — no such deployment or platform (a refusal,
// ret), no hook in progress (ret nil: already reported, or the
// deployment moved on, so a status now would be refused) — stop is true,
// after a counted log line. readErr is CodeDeploy not answering: the
// hook is there to fail, naming it.
func confirmHook(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, api CodeDeployAPI, ev contract.CodeDeployHookEvent) (run hookRun, stop bool, ret, readErr error) {
	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	run, err := resolve(rctx, api, ev)
	switch {
	case errors.Is(err, errNoDeployment):
		return run, true, refuseHook(ctx, log, m, sourceHookUnknown, "CodeDeploy has no deployment "+ev.DeploymentID+" in this account and region, so there is no hook to report to (PutLifecycleEventHookExecutionStatus would answer DeploymentDoesNotExistException): "+err.Error()), nil
	case errors.Is(err, errNotHookable):
		return run, true, refuseHook(ctx, log, m, sourceHookUnsupported, err.Error()), nil
	case errors.Is(err, errNotRunning):
		log.WarnContext(ctx, "no hook of the deployment is in progress; nothing to verify or report", "reason", err.Error())
		m.Emit(map[string]string{"Source": sourceHookNotRunning}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
		return run, true, nil, nil
	}
	return run, false, nil, err
}
