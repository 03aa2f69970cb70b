package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Which payloads are CodeDeploy lifecycle hook invocations.
//
// CodeDeploy invokes a hook with a JSON object holding exactly
// DeploymentId and LifecycleEventHookExecutionId (contract.CodeDeployHookEvent);
// verify's own hand-overs add PostdeployContinuation. A payload with
// either id is taken as meant for a hook and decoded strictly: an unknown
// key, a missing or malformed id is refused by name (HookEventError), as
// is CodeDeploy's EventBridge deployment state-change event, which a
// hook function never receives from CodeDeploy (aws-lambda-go's
// events/testdata/codedeploy-deployment-event.json) — it would mean the
// function is also the target of an EventBridge rule. Anything else falls
// through to the CodePipeline job decoder.

// Dimension values of the hook refusal metrics (MetricEventsUnhandled).
const (
	sourceHookMalformed   = "codedeploy-hook-malformed"
	sourceHookStateChange = "codedeploy-state-change"
	sourceHookUnknown     = "codedeploy-hook-unknown-deployment"
	sourceHookNotRunning  = "codedeploy-hook-not-running"
	sourceHookDuplicate   = "codedeploy-hook-duplicate"
	sourceHookUnsupported = "codedeploy-hook-unsupported-platform"
)

// Id formats: a deployment id is "d-" and nine upper-case letters or
// digits (CodeDeploy API Reference, DeploymentInfo: "deploymentId …
// d-XXXXXXXXX"; the same pattern the console shows); a hook execution id
// is opaque, so it is only bounded (printable, no separators that could
// forge a state-table key or a log line).
var (
	deploymentIDRe    = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)
	hookExecutionIDRe = regexp.MustCompile(`^[A-Za-z0-9_=+/.:-]{1,256}$`)
)

// HookEventError is returned for a payload that looks like a hook
// invocation but cannot be one: there is no hook execution verify could
// report to, so the error (errorType "HookEventError" in Lambda) and the
// counted log line are the invocation's only trace.
type HookEventError struct{ Reason string }

func (e *HookEventError) Error() string {
	return "not a usable CodeDeploy lifecycle hook invocation: " + e.Reason
}

// Is makes errors.Is(err, ErrNotAJob) hold: it is not a job either.
func (e *HookEventError) Is(target error) bool { return target == ErrNotAJob }

// decodeHook reports whether payload is meant as a hook invocation (ok),
// and decodes it; err is a *HookEventError for one that is malformed.
func decodeHook(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, payload []byte) (contract.CodeDeployHookEvent, bool, error) {
	var ev contract.CodeDeployHookEvent
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil || top == nil {
		return ev, false, nil //nolint:nilerr // not a JSON object, so not a hook: the job decoder refuses it, logged and counted
	}
	_, dep := top["DeploymentId"]
	_, exec := top["LifecycleEventHookExecutionId"]
	if !dep && !exec {
		var src struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if json.Unmarshal(payload, &src) == nil && src.Source == "aws.codedeploy" {
			return ev, true, refuseHook(ctx, log, m, sourceHookStateChange, fmt.Sprintf("it is CodeDeploy's EventBridge event %q (source aws.codedeploy), a deployment state change; CodeDeploy invokes a hook with {\"DeploymentId\", \"LifecycleEventHookExecutionId\"}: name this function in the AppSpec hooks section, not as an EventBridge rule's target", src.DetailType))
		}
		return ev, false, nil
	}
	for k := range top {
		switch k {
		case "DeploymentId", "LifecycleEventHookExecutionId", "PostdeployContinuation":
		default:
			return ev, true, refuseHook(ctx, log, m, sourceHookMalformed, fmt.Sprintf("unknown key %q (a hook invocation holds only DeploymentId and LifecycleEventHookExecutionId)", printableKey(k)))
		}
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, true, refuseHook(ctx, log, m, sourceHookMalformed, "it does not decode: "+err.Error())
	}
	switch {
	case !deploymentIDRe.MatchString(ev.DeploymentID):
		return ev, true, refuseHook(ctx, log, m, sourceHookMalformed, fmt.Sprintf("DeploymentId %q is not a CodeDeploy deployment id (d- and nine letters or digits)", shorten(printableKey(ev.DeploymentID), 40)))
	case !hookExecutionIDRe.MatchString(ev.LifecycleEventHookExecutionID):
		return ev, true, refuseHook(ctx, log, m, sourceHookMalformed, fmt.Sprintf("LifecycleEventHookExecutionId %q is missing or malformed", shorten(printableKey(ev.LifecycleEventHookExecutionID), 40)))
	}
	return ev, true, nil
}

func printableKey(k string) string { return shorten(strings.Map(printableRune, k), maxShapeKeyChars) }

// refuseHook logs and counts a hook invocation verify cannot act on, and
// returns the error Lambda gets.
func refuseHook(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, source, reason string) error {
	log.WarnContext(ctx, "refused: not a usable CodeDeploy lifecycle hook invocation", "reason", reason, "source", source)
	m.Emit(map[string]string{"Source": source}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
	return &HookEventError{Reason: reason}
}
