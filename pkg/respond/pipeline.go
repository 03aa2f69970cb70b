package respond

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// failedAction is what respond knows of a pipeline's failing action.
// Region is where the action ran, when CodePipeline says (a cross-region
// action runs outside the pipeline's region).
type failedAction struct {
	Stage, Action, Provider string
	Summary, URL, Code      string
	Region                  string
}

func (h *Handler) pipeline(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d events.CodePipelineEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return badDetail(ev, "detail", err)
	}
	if d.Pipeline == "" {
		return badDetail(ev, "detail.pipeline", errors.New("missing"))
	}
	if d.ExecutionID == "" {
		return badDetail(ev, "detail.execution-id", errors.New("missing"))
	}
	log = log.With("pipeline", d.Pipeline, "executionId", d.ExecutionID, "state", d.State)
	if d.State != events.CodePipelineStateFailed {
		log.InfoContext(ctx, "pipeline state change needs no notification")
		return nil
	}
	// The console pages of a pipeline and its executions live in the
	// pipeline's region: the region of the event, which CodePipeline emits
	// where the pipeline is. detail.region of an action event is where the
	// action ran, another region for a cross-region action ("Monitoring
	// CodePipeline events",
	// https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html;
	// aws-lambda-go's sample codepipeline-action-execution-stage-change-event.json
	// has region us-east-1 and detail.region us-west-2).
	region := cmp.Or(ev.Region, arnRegion(ev.Resources), d.Region)
	var fa failedAction
	var notes []string
	if ev.DetailType == events.CodePipelineActionEventDetailType {
		fa = failedAction{
			Stage: d.Stage, Action: d.Action, Provider: d.Type.Provider,
			Summary: d.ExecutionResult.ExternalExecutionSummary, URL: d.ExecutionResult.ExternalExecutionURL, Code: d.ExecutionResult.ErrorCode,
			Region: d.Region,
		}
	} else {
		var err error
		fa, notes, err = h.lookupFailure(ctx, d.Pipeline, d.ExecutionID)
		if err != nil {
			notes = append(notes, "Could not look up the failing action: "+err.Error())
			log.WarnContext(ctx, "look up the failing action", "error", err.Error())
		}
	}
	// Both the execution and its action report the failure: one notification.
	key := "notify#pipeline#" + d.Pipeline + "#" + d.ExecutionID
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "pipeline", "pipeline": d.Pipeline, "executionId": d.ExecutionID}, log) {
		log.InfoContext(ctx, "pipeline failure already notified")
		return nil
	}
	a := notify.Alert{
		Kind:       notify.Deployments,
		Severity:   "HIGH",
		Service:    d.Pipeline,
		Event:      ev.DetailType,
		ThreadID:   "pipeline-" + d.Pipeline,
		Resources:  ev.Resources,
		Attributes: map[string]string{"pipeline": d.Pipeline},
		Where:      fmt.Sprintf("pipeline %s, execution %s, account %s, %s", d.Pipeline, d.ExecutionID, ev.AccountID, region),
		Links:      []notify.Link{{Label: "Execution", URL: pipelineExecutionURL(region, d.Pipeline, d.ExecutionID)}},
	}
	crossRegion := fa.Region != "" && fa.Region != region
	where := "a stage"
	if fa.Stage != "" {
		where = fmt.Sprintf("stage %s, action %s", fa.Stage, orDash(fa.Action))
		var about []string
		if fa.Provider != "" {
			about = append(about, fa.Provider)
		}
		if crossRegion {
			about = append(about, "a cross-region action in "+fa.Region)
		}
		if len(about) > 0 {
			where += " (" + strings.Join(about, ", ") + ")"
		}
	}
	if crossRegion {
		a.Where += fmt.Sprintf("; the failed action ran in %s (cross-region action)", fa.Region)
	}
	at := "an unknown stage"
	if fa.Stage != "" {
		at = fa.Stage + "/" + orDash(fa.Action)
	}
	a.Title = fmt.Sprintf("Pipeline %s failed at %s", d.Pipeline, at)
	a.What = fmt.Sprintf("CodePipeline execution %s of %s failed in %s.", d.ExecutionID, d.Pipeline, where)
	if fa.Summary != "" {
		a.Evidence = append(a.Evidence, "Action summary: "+fa.Summary)
	}
	if fa.Code != "" {
		a.Evidence = append(a.Evidence, "Error code: "+fa.Code)
	}
	a.Evidence = append(a.Evidence, notes...)
	if fa.URL != "" {
		a.Links = append(a.Links, notify.Link{Label: "Action details", URL: fa.URL})
	}
	runbook := notify.RunbookPipeline
	if fa.Provider == "CodeBuild" {
		runbook = notify.RunbookBuild
	}
	a.Apply(h.RunbookBaseURL, runbook)
	return h.send(ctx, a, key, log)
}

// lookupFailure finds the failing action of an execution through the
// CodePipeline API: the execution's status summary and the action
// executions that failed.
func (h *Handler) lookupFailure(ctx context.Context, pipeline, execution string) (failedAction, []string, error) {
	var fa failedAction
	var notes []string
	if h.Pipeline == nil {
		return fa, nil, errors.New("no CodePipeline client configured")
	}
	ex, err := h.Pipeline.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(pipeline), PipelineExecutionId: aws.String(execution)})
	if err != nil {
		return fa, nil, fmt.Errorf("get pipeline execution %s of %q: %w", execution, pipeline, err)
	}
	if pe := ex.PipelineExecution; pe != nil && aws.ToString(pe.StatusSummary) != "" {
		notes = append(notes, "Execution status: "+aws.ToString(pe.StatusSummary))
	}
	p := codepipeline.NewListActionExecutionsPaginator(h.Pipeline, &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String(pipeline),
		Filter:       &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String(execution)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fa, notes, fmt.Errorf("list action executions of %s in %q: %w", execution, pipeline, err)
		}
		for _, ax := range page.ActionExecutionDetails {
			if ax.Status != cptypes.ActionExecutionStatusFailed {
				continue
			}
			fa = failedAction{Stage: aws.ToString(ax.StageName), Action: aws.ToString(ax.ActionName)}
			if ax.Input != nil {
				fa.Region = aws.ToString(ax.Input.Region)
				if ax.Input.ActionTypeId != nil {
					fa.Provider = aws.ToString(ax.Input.ActionTypeId.Provider)
				}
			}
			if ax.Output != nil && ax.Output.ExecutionResult != nil {
				r := ax.Output.ExecutionResult
				fa.Summary = aws.ToString(r.ExternalExecutionSummary)
				fa.URL = aws.ToString(r.ExternalExecutionUrl)
				if r.ErrorDetails != nil {
					fa.Code = aws.ToString(r.ErrorDetails.Code)
					if fa.Summary == "" {
						fa.Summary = aws.ToString(r.ErrorDetails.Message)
					}
				}
			}
			return fa, notes, nil
		}
	}
	return fa, notes, nil
}
