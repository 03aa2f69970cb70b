package respond

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/deadline"
)

// A "Post-Deploy Verification Completed" event says which verification
// failed; it is not proof that one did. Anyone allowed to put events on
// the bus can send one, so before respond rolls a stage back (or stops a
// deployment) it asks CodePipeline, in its own account and region, whether
// the named execution's verify action really failed:
//
//   - GetPipelineExecution: the execution exists in the named pipeline
//     (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html);
//   - ListActionExecutions filtered by pipelineExecutionId: the named
//     action ran in the named stage of that execution and its latest
//     attempt's status is Failed (ActionExecutionDetail.status is
//     InProgress, Abandoned, Succeeded or Failed —
//     https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html,
//     https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html);
//   - the action is an AWS Lambda Invoke action (ActionTypeId owner AWS,
//     category Invoke, provider Lambda) whose FunctionName configuration
//     names the verify function respond is configured with
//     (ActionExecutionInput.configuration / resolvedConfiguration —
//     https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionInput.html;
//     the Invoke action's FunctionName parameter —
//     https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html).
//
// Anything else is a refusal: no rollback, and the reason is logged,
// counted and stated in the notification.

// refusal is why respond did not act on a verification event.
type refusal struct{ reason string }

func (r refusal) Error() string { return "refused: " + r.reason }

func refuse(format string, args ...any) refusal { return refusal{fmt.Sprintf(format, args...)} }

// The action's status is re-read while it is still InProgress: verify
// reports the job to CodePipeline before it publishes its event, but
// nothing documents that the action execution's status has changed by the
// time a ListActionExecutions answers. Four reads over about seven
// seconds, bounded by the invocation's deadline.
var confirmBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// confirmVerifyFailed returns nil when CodePipeline confirms that the
// verification event's action failed and is an Invoke of the verify
// function, else a refusal saying why not.
func (h *Handler) confirmVerifyFailed(ctx context.Context, d contract.VerificationCompleted) error {
	switch {
	case h.Pipeline == nil:
		return refuse("no CodePipeline client configured, so CodePipeline cannot confirm the failure")
	case h.VerifyFunction == "":
		return refuse("no verify function configured (POSTDEPLOY_VERIFY_FUNCTION), so respond cannot tell the verify action from any other")
	case d.ExecutionID == "" || d.Stage == "" || d.Action == "":
		return refuse("the event does not name the pipeline execution, stage and action (executionId %q, stage %q, action %q), so CodePipeline cannot confirm the failure",
			d.ExecutionID, d.Stage, d.Action)
	}
	if _, err := h.Pipeline.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String(d.Pipeline), PipelineExecutionId: aws.String(d.ExecutionID),
	}); err != nil {
		return refuse("CodePipeline does not confirm execution %s of pipeline %q: %v", d.ExecutionID, d.Pipeline, err)
	}
	var ax *cptypes.ActionExecutionDetail
	for attempt := 0; ; attempt++ {
		var err error
		if ax, err = h.latestActionExecution(ctx, d); err != nil {
			return err
		}
		if ax.Status != cptypes.ActionExecutionStatusInProgress || attempt == len(confirmBackoff) {
			break
		}
		if err := h.wait(ctx, confirmBackoff[attempt]); err != nil {
			break // the deadline: decide on what CodePipeline said last
		}
	}
	where := fmt.Sprintf("action %s/%s of execution %s", d.Stage, d.Action, d.ExecutionID)
	if ax.Status != cptypes.ActionExecutionStatusFailed {
		return refuse("CodePipeline reports %s as %s, not Failed", where, orDash(string(ax.Status)))
	}
	var typ cptypes.ActionTypeId
	var cfg map[string]string
	if in := ax.Input; in != nil {
		if in.ActionTypeId != nil {
			typ = *in.ActionTypeId
		}
		cfg = in.ResolvedConfiguration
		if cfg["FunctionName"] == "" {
			cfg = in.Configuration
		}
	}
	if typ.Owner != cptypes.ActionOwnerAws || typ.Category != cptypes.ActionCategoryInvoke || aws.ToString(typ.Provider) != "Lambda" {
		return refuse("CodePipeline reports %s as a %s/%s/%s action, not an AWS Lambda Invoke of the verify function",
			where, orDash(string(typ.Owner)), orDash(string(typ.Category)), orDash(aws.ToString(typ.Provider)))
	}
	if fn := cfg["FunctionName"]; !sameFunction(fn, h.VerifyFunction) {
		return refuse("CodePipeline reports that %s invokes function %q, not the verify function %q", where, fn, h.VerifyFunction)
	}
	return nil
}

// latestActionExecution lists the execution's action executions and
// returns the latest attempt of the event's stage and action (a retried
// stage runs the action again in the same pipeline execution).
func (h *Handler) latestActionExecution(ctx context.Context, d contract.VerificationCompleted) (*cptypes.ActionExecutionDetail, error) {
	p := codepipeline.NewListActionExecutionsPaginator(h.Pipeline, &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String(d.Pipeline),
		Filter:       &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String(d.ExecutionID)},
	})
	var latest *cptypes.ActionExecutionDetail
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, refuse("CodePipeline could not list the action executions of execution %s of pipeline %q: %v", d.ExecutionID, d.Pipeline, err)
		}
		for i := range page.ActionExecutionDetails {
			ax := &page.ActionExecutionDetails[i]
			if aws.ToString(ax.StageName) != d.Stage || aws.ToString(ax.ActionName) != d.Action {
				continue
			}
			if id := aws.ToString(ax.PipelineExecutionId); id != "" && id != d.ExecutionID {
				continue // not of this execution, whatever the filter did
			}
			if latest == nil || !aws.ToTime(ax.StartTime).Before(aws.ToTime(latest.StartTime)) {
				latest = ax
			}
		}
	}
	if latest == nil {
		return nil, refuse("CodePipeline lists no action %s/%s in execution %s of pipeline %q", d.Stage, d.Action, d.ExecutionID, d.Pipeline)
	}
	return latest, nil
}

// sameFunction reports whether two Lambda FunctionName values name the
// same function. Lambda accepts a name ("my-function", with an optional
// ":alias" or ":version"), a partial ARN ("123456789012:function:my-function")
// or a full ARN ("arn:aws:lambda:us-west-2:123456789012:function:my-function"),
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html. The names
// must match; account and region must match where both values carry them.
func sameFunction(a, b string) bool {
	fa, fb := parseFunction(a), parseFunction(b)
	if fa.name == "" || fa.name != fb.name {
		return false
	}
	if fa.account != "" && fb.account != "" && fa.account != fb.account {
		return false
	}
	return fa.region == "" || fb.region == "" || fa.region == fb.region
}

type functionRef struct{ name, account, region string }

func parseFunction(s string) functionRef {
	parts := strings.Split(strings.TrimSpace(s), ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		return functionRef{name: parts[6], account: parts[4], region: parts[3]}
	case len(parts) >= 3 && parts[1] == "function":
		return functionRef{name: parts[2], account: parts[0]}
	}
	return functionRef{name: parts[0]}
}

// wait sleeps for d or until ctx ends.
func (h *Handler) wait(ctx context.Context, d time.Duration) error {
	if h.sleep != nil {
		return h.sleep(ctx, d)
	}
	return deadline.Sleep(ctx, d)
}
