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
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func (h *Handler) verification(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d contract.VerificationCompleted
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return badDetail(ev, "detail", err)
	}
	if d.Verdict == 0 {
		return badDetail(ev, "detail.verdict", errors.New("missing (want Succeeded, Failed, Inconclusive or Error)"))
	}
	if d.Pipeline == "" && d.DeploymentID != "" {
		return h.hookVerification(ctx, ev, d, log)
	}
	if d.Pipeline == "" {
		return badDetail(ev, "detail.pipeline", errors.New("missing"))
	}
	log = log.With("pipeline", d.Pipeline, "executionId", d.ExecutionID, "verdict", d.Verdict.String())
	if d.Verdict == verdict.Succeeded {
		log.InfoContext(ctx, "verification succeeded; nothing to do")
		return nil
	}
	key := "notify#verification#" + d.Pipeline + "#" + cmp.Or(d.ExecutionID, d.JobID, ev.ID)
	// A Failed verdict under a policy that acts is confirmed through
	// CodePipeline before anything else (confirm.go). An event CodePipeline
	// does not confirm is notified under its own event id, so a forged
	// event naming a real execution cannot take the claim that the
	// genuine verdict's rollback needs.
	var refused error
	if d.Verdict == verdict.Failed && h.rollbackPolicy() != config.RollbackNotify {
		if refused = h.confirmVerifyFailed(ctx, d); refused != nil {
			key = "notify#verification-refused#" + d.Pipeline + "#" + cmp.Or(ev.ID, d.ExecutionID, d.JobID)
		}
	}
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "verification", "pipeline": d.Pipeline, "verdict": d.Verdict.String()}, log) {
		log.InfoContext(ctx, "verification verdict already handled")
		return nil
	}
	region := ev.Region
	a := notify.Alert{
		Kind:       notify.Deployments,
		Severity:   "HIGH",
		Service:    d.Pipeline,
		Event:      ev.DetailType,
		ThreadID:   "pipeline-" + d.Pipeline,
		Resources:  ev.Resources,
		Attributes: map[string]string{"pipeline": d.Pipeline, "verdict": d.Verdict.String()},
		Where:      fmt.Sprintf("pipeline %s, stage %s, action %s, execution %s, account %s, %s", d.Pipeline, orDash(d.Stage), orDash(d.Action), orDash(d.ExecutionID), ev.AccountID, region),
	}
	if d.ExecutionID != "" {
		a.Links = append(a.Links, notify.Link{Label: "Execution", URL: pipelineExecutionURL(region, d.Pipeline, d.ExecutionID)})
	}
	failed := d.FailedChecks
	if len(failed) == 0 {
		for _, c := range d.Checks {
			if c.Verdict != verdict.Succeeded {
				failed = append(failed, c.Check)
			}
		}
	}
	switch d.Verdict {
	case verdict.Failed:
		a.Title = fmt.Sprintf("Verification failed for %s: %s", d.Pipeline, orDash(strings.Join(failed, ", ")))
		a.What = fmt.Sprintf("Post-deploy verification of %s judged the deployment Failed.", d.Pipeline)
	default:
		a.Severity = "MEDIUM"
		a.Title = fmt.Sprintf("Verification %s for %s", strings.ToLower(d.Verdict.String()), d.Pipeline)
		a.What = fmt.Sprintf("Post-deploy verification of %s could not decide (%s): the deployment is not proven healthy.", d.Pipeline, d.Verdict)
	}
	if d.Summary != "" {
		a.What += " " + strings.TrimSuffix(oneLine(d.Summary), ".") + "."
	}
	for _, c := range d.Checks {
		if c.Verdict == verdict.Succeeded {
			continue
		}
		line := fmt.Sprintf("%s (%s) %s", c.Check, c.Kind, c.Verdict)
		if c.Target != "" {
			line += " on " + c.Target
		}
		if e := c.Evidence(); e != "" {
			line += ": " + e
		}
		a.Evidence = append(a.Evidence, line)
	}
	if d.Verdict == verdict.Failed {
		a.Evidence = append(a.Evidence, h.rollback(ctx, d, refused, log))
	}
	a.Apply(h.RunbookBaseURL, notify.RunbookVerification)
	return h.send(ctx, a, key, log)
}

// rollback acts on a failed verification per the policy, unless
// CodePipeline did not confirm it (refused), and says what it did, for
// the message. Every decision is logged and counted (Rollbacks{Policy,
// Decision}); failures are reported, not returned: the person reading the
// notification rolls back by hand.
func (h *Handler) rollback(ctx context.Context, d contract.VerificationCompleted, refused error, log *slog.Logger) string {
	policy := h.rollbackPolicy()
	if policy == config.RollbackNotify {
		return "No automatic rollback (policy: notify). Decide whether to roll back the stage."
	}
	decide := func(decision string, attrs ...any) {
		log.InfoContext(ctx, "rollback decision", append([]any{"policy", policy, "decision", decision}, attrs...)...)
		h.Metrics.Emit(map[string]string{"Policy": policy, "Decision": strings.SplitN(decision, ":", 2)[0]},
			telemetry.Value{Name: telemetry.MetricRollbacks, Unit: telemetry.UnitCount, Value: 1})
	}
	if refused != nil {
		decide(refused.Error())
		return "Automatic rollback " + refused.Error() + ". Nothing was rolled back: check the execution in the CodePipeline console before acting by hand."
	}
	switch policy {
	case config.RollbackStage:
		target, err := h.rollbackStage(ctx, d)
		if err != nil {
			decide("failed: "+err.Error(), "stage", d.Stage)
			return "Automatic rollback FAILED: " + err.Error() + ". Roll the stage back by hand (CodePipeline console: Start rollback)."
		}
		decide("rolled back", "stage", d.Stage, "target", target)
		return fmt.Sprintf("Automatic rollback: stage %s is rolling back to execution %s (the last that succeeded in it).", d.Stage, target)
	case config.RollbackStopDeployment:
		ids, err := h.stopDeployments(ctx, d)
		if err != nil {
			decide("failed: "+err.Error(), "stopped", ids)
			return "Automatic rollback FAILED: " + err.Error() + ". Stop the deployment with rollback by hand (CodeDeploy console)."
		}
		if len(ids) == 0 {
			decide("nothing to stop", "stage", d.Stage)
			return "Automatic rollback: no CodeDeploy deployment of stage " + d.Stage + " is in progress; nothing to stop."
		}
		decide("stopped", "deployments", ids)
		return "Automatic rollback: stopped CodeDeploy deployment " + strings.Join(ids, ", ") + " with rollback."
	}
	return "No automatic rollback (unknown policy " + policy + ")."
}

// rollbackStage rolls the verified stage back to the most recent
// execution that succeeded in it.
func (h *Handler) rollbackStage(ctx context.Context, d contract.VerificationCompleted) (string, error) {
	if h.Pipeline == nil {
		return "", errors.New("no CodePipeline client configured")
	}
	if d.Stage == "" {
		return "", errors.New("the verification event names no stage")
	}
	out, err := h.Pipeline.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{
		PipelineName: aws.String(d.Pipeline),
		Filter:       &cptypes.PipelineExecutionFilter{SucceededInStage: &cptypes.SucceededInStageFilter{StageName: aws.String(d.Stage)}},
		MaxResults:   aws.Int32(10),
	})
	if err != nil {
		return "", fmt.Errorf("list executions of %q that succeeded in stage %q: %w", d.Pipeline, d.Stage, err)
	}
	var target string
	for _, s := range out.PipelineExecutionSummaries {
		if id := aws.ToString(s.PipelineExecutionId); id != "" && id != d.ExecutionID {
			target = id
			break
		}
	}
	if target == "" {
		return "", fmt.Errorf("no earlier execution of %q succeeded in stage %q: nothing to roll back to", d.Pipeline, d.Stage)
	}
	// One call per decision: a 5xx may arrive after CodePipeline started
	// the rollback, so only an error that proves the request was not
	// processed is retried (awsclient.MutatingRetryer).
	if _, err := h.Pipeline.RollbackStage(ctx, &codepipeline.RollbackStageInput{
		PipelineName: aws.String(d.Pipeline), StageName: aws.String(d.Stage), TargetPipelineExecutionId: aws.String(target),
	}, func(o *codepipeline.Options) { o.Retryer = awsclient.MutatingRetryer() }); err != nil {
		return "", fmt.Errorf("roll back stage %q of %q to execution %s: %w", d.Stage, d.Pipeline, target, err)
	}
	return target, nil
}

// stopDeployments stops, with rollback, the in-flight CodeDeploy
// deployments of the verified stage's CodeDeploy actions.
func (h *Handler) stopDeployments(ctx context.Context, d contract.VerificationCompleted) ([]string, error) {
	if h.Pipeline == nil || h.Deploy == nil {
		return nil, errors.New("no CodePipeline or CodeDeploy client configured")
	}
	p, err := h.Pipeline.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(d.Pipeline)})
	if err != nil {
		return nil, fmt.Errorf("get pipeline %q: %w", d.Pipeline, err)
	}
	var stopped []string
	found := false
	if p.Pipeline != nil {
		for _, st := range p.Pipeline.Stages {
			if aws.ToString(st.Name) != d.Stage {
				continue
			}
			for _, ac := range st.Actions {
				if ac.ActionTypeId == nil || !strings.HasPrefix(aws.ToString(ac.ActionTypeId.Provider), "CodeDeploy") {
					continue
				}
				app, group := ac.Configuration["ApplicationName"], ac.Configuration["DeploymentGroupName"]
				if app == "" || group == "" {
					continue
				}
				found = true
				ls, err := h.Deploy.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
					ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
					IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusCreated},
				})
				if err != nil {
					return stopped, fmt.Errorf("list deployments of %s/%s: %w", app, group, err)
				}
				for _, id := range ls.Deployments {
					// One call per deployment stopped, never retried after a
					// 5xx (awsclient.MutatingRetryer).
					if _, err := h.Deploy.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)},
						func(o *codedeploy.Options) { o.Retryer = awsclient.MutatingRetryer() }); err != nil {
						return stopped, fmt.Errorf("stop deployment %s with rollback: %w", id, err)
					}
					stopped = append(stopped, id)
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("stage %q of %q has no CodeDeploy action with ApplicationName and DeploymentGroupName", d.Stage, d.Pipeline)
	}
	return stopped, nil
}

// hookVerification notifies the verdict of a CodeDeploy lifecycle hook
// (the event names a deployment and a hook, no pipeline). It never rolls
// back: the hook's Failed status already made CodeDeploy fail the
// deployment, and CodeDeploy rolls it back itself when the deployment
// group's automatic rollback on failure is on ("Redeploy and roll back a
// deployment with CodeDeploy"); a CodePipeline rollback or StopDeployment
// on top would act on a deployment that is already ending.
func (h *Handler) hookVerification(ctx context.Context, ev events.EventBridgeEvent, d contract.VerificationCompleted, log *slog.Logger) error {
	log = log.With("deploymentId", d.DeploymentID, "hook", d.Hook, "verdict", d.Verdict.String())
	if d.Verdict == verdict.Succeeded {
		log.InfoContext(ctx, "hook verification succeeded; nothing to do")
		return nil
	}
	key := "notify#verification#hook#" + d.DeploymentID + "#" + cmp.Or(d.HookExecutionID, ev.ID)
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "verification", "deployment": d.DeploymentID, "verdict": d.Verdict.String()}, log) {
		log.InfoContext(ctx, "hook verification verdict already handled")
		return nil
	}
	service := cmp.Or(d.Application, d.DeploymentID)
	a := notify.Alert{
		Kind:       notify.Deployments,
		Severity:   "HIGH",
		Service:    service,
		Event:      ev.DetailType,
		ThreadID:   "deployment-" + d.DeploymentID,
		Resources:  ev.Resources,
		Attributes: map[string]string{"deployment": d.DeploymentID, "hook": d.Hook, "verdict": d.Verdict.String()},
		Where:      fmt.Sprintf("CodeDeploy application %s, deployment group %s, deployment %s, hook %s, account %s, %s", orDash(d.Application), orDash(d.DeploymentGroup), d.DeploymentID, orDash(d.Hook), ev.AccountID, ev.Region),
		Links:      []notify.Link{{Label: "Deployment", URL: deploymentURL(ev.Region, d.DeploymentID)}},
		Title:      fmt.Sprintf("Hook %s %s for %s (%s)", orDash(d.Hook), strings.ToLower(d.Verdict.String()), service, d.DeploymentID),
		What:       fmt.Sprintf("Post-deploy verification in the %s lifecycle hook judged deployment %s %s, and reported the hook Failed to CodeDeploy.", orDash(d.Hook), d.DeploymentID, d.Verdict),
	}
	if d.Summary != "" {
		a.What += " " + strings.TrimSuffix(oneLine(d.Summary), ".") + "."
	}
	for _, c := range d.Checks {
		if c.Verdict != verdict.Succeeded {
			line := fmt.Sprintf("%s (%s) %s", c.Check, c.Kind, c.Verdict)
			if e := c.Evidence(); e != "" {
				line += ": " + e
			}
			a.Evidence = append(a.Evidence, line)
		}
	}
	if d.AutoRollback {
		a.Evidence = append(a.Evidence, "Rollback: CodeDeploy fails the deployment on the hook's Failed status and rolls it back itself (the deployment group's automatic rollback on failure is on). postdeploy does not roll back through CodePipeline for hooks.")
	} else {
		a.Evidence = append(a.Evidence, "Rollback: CodeDeploy fails the deployment on the hook's Failed status; the deployment group's automatic rollback on failure is off, so nothing is rolled back: redeploy the last good revision, or turn automatic rollback on for the group. postdeploy does not roll back through CodePipeline for hooks.")
	}
	h.Metrics.Emit(map[string]string{"Policy": "codedeploy-hook", "Decision": "left to CodeDeploy"}, telemetry.Value{Name: telemetry.MetricRollbacks, Unit: telemetry.UnitCount, Value: 1})
	a.Apply(h.RunbookBaseURL, notify.RunbookVerification)
	return h.send(ctx, a, key, log)
}
