package verify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
)

// A hook's bake that outlasts one invocation goes on in a new invocation
// of the same function, as a CodePipeline job's does through its
// continuation token: verify invokes itself asynchronously
// (InvocationType Event) with the hook's two ids and the same signed
// "pd2." state a continuation token carries (token.go), bound to the hook
// execution (hookSpecHash). Chosen over a Step Functions wait loop or an
// EventBridge Scheduler one-shot because it needs nothing but
// lambda:InvokeFunction on the function itself, and the state stays
// signed by the stack's token key: a forged or replayed hand-over is
// refused like a forged token.
//
// Idempotent under Lambda's at-least-once asynchronous delivery: each
// step is claimed (hookclaim.go), a step hands over once, and the Invoke
// is sent once (awsclient.MutatingRetryer: an error after Lambda may
// have queued the event is not retried). A hand-over that cannot be sent
// fails the hook at once, saying so, rather than leaving it to time out.

// LambdaInvokeAPI is the part of *lambda.Client the hand-over uses.
type LambdaInvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ LambdaInvokeAPI = (*lambda.Client)(nil)

// handOver sends the bake's state to the next invocation. It returns a
// final decision (Failed) when it cannot, else a non-final one: nothing
// more to do in this invocation.
func (h *HookVerifier) handOver(ctx context.Context, inv *invocation, run hookRun, d decision) decision {
	log := inv.log
	fail := func(why string) decision {
		return decision{final: true, text: "Post-deploy verification could not finish " + run.where() + ": " + why}
	}
	switch {
	case h.Lambda == nil || h.FunctionName == "":
		return fail("the bake outlasts one invocation and verify does not know its own function name to hand over to (AWS_LAMBDA_FUNCTION_NAME is unset). Shorten the bake or raise the function's timeout.")
	case !h.V.now().Before(h.limit(run)):
		return fail(fmt.Sprintf("the bake did not end before the hook's limit (%s after the lifecycle event started, less verify's %s margin). Shorten the bake.", HookTimeLimit, h.margin()))
	}
	if !h.claim(ctx, log, hookKey(run.ev, "handover", stepID(run.ev)), h.limit(run).Add(h.margin()), "handover") {
		return decision{}
	}
	next := run.ev
	next.Continuation = d.token
	payload, err := json.Marshal(next)
	if err != nil {
		return fail("could not encode the hand-over: " + err.Error())
	}
	ictx, cancel := context.WithDeadline(ctx, inv.w.reportBy)
	defer cancel()
	_, err = h.Lambda.Invoke(ictx, &lambda.InvokeInput{
		FunctionName:   aws.String(h.FunctionName),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	}, func(o *lambda.Options) { o.Retryer = awsclient.MutatingRetryer() })
	if err != nil {
		log.ErrorContext(ctx, "could not hand the bake over to the next invocation", "error", err.Error())
		return fail("the bake outlasts one invocation and handing it over to the next failed: " + err.Error() + ". Retry the deployment; check verify's lambda:InvokeFunction permission on itself.")
	}
	log.InfoContext(ctx, "handed the hook's bake over to the next invocation", "percent", d.percent)
	return decision{}
}
