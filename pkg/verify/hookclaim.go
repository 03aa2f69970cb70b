package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Claims in the state table (pkg/state; keys "hook#<deployment>#<hook
// execution>#…", which is all verify's role may write there):
//
//   - run#<step>: one invocation works on a step at a time. A step is
//     CodeDeploy's invocation ("start") or one hand-over (the hash of its
//     continuation token). Lambda delivers asynchronous events at least
//     once and retries a failed one ("Asynchronous invocation",
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html):
//     a second copy arriving while the first runs is dropped. The claim
//     ends at the invocation's deadline, so a retry after a crash (which
//     Lambda sends a minute or more later) takes the step over.
//   - handover#<step>: a step hands over once, so a retried step cannot
//     start a second chain of invocations; it lasts past the hook's limit.
//   - status: one PutLifecycleEventHookExecutionStatus call at a time.
//     Before it, the lifecycle event is re-read from CodeDeploy and the
//     call is skipped if it is no longer in progress; and CodeDeploy
//     itself refuses a second status with
//     LifecycleEventAlreadyCompletedException ("An attempt to return the
//     status of an already completed lifecycle event occurred",
//     PutLifecycleEventHookExecutionStatus, Errors), which verify takes as
//     "already reported".
//
// A claim that cannot be written (the table unreachable) does not stop
// the hook: verify goes on, because a hook left unreported fails the
// deployment only after an hour; the re-read and CodeDeploy's refusal
// still keep the status single.

func hookKey(ev contract.CodeDeployHookEvent, parts ...string) string {
	k := "hook#" + ev.DeploymentID + "#" + ev.LifecycleEventHookExecutionID
	for _, p := range parts {
		k += "#" + p
	}
	return k
}

// stepID names the step an invocation works on.
func stepID(ev contract.CodeDeployHookEvent) string {
	if ev.Continuation == "" {
		return "start"
	}
	sum := sha256.Sum256([]byte(ev.Continuation))
	return hex.EncodeToString(sum[:8])
}

// claim takes key until until; true when this invocation holds it or the
// table could not be asked.
func (h *HookVerifier) claim(ctx context.Context, log *slog.Logger, key string, until time.Time, what string) bool {
	if h.Claims == nil {
		return true
	}
	ttl := max(until.Sub(h.V.now()), time.Second)
	ok, err := h.Claims.Claim(ctx, key, ttl, map[string]string{"what": what})
	switch {
	case err != nil:
		log.WarnContext(ctx, "could not write the claim; going on (CodeDeploy refuses a second status)", "claim", what, "error", err.Error())
		return true
	case !ok:
		log.WarnContext(ctx, "duplicate delivery: another invocation holds the claim; not acting again", "claim", what)
		h.V.Metrics.Emit(map[string]string{"Source": sourceHookDuplicate}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
		return false
	}
	return true
}

func (h *HookVerifier) claimStep(ctx context.Context, log *slog.Logger, ev contract.CodeDeployHookEvent, w window) bool {
	return h.claim(ctx, log, hookKey(ev, "run", stepID(ev)), w.end, "run")
}
