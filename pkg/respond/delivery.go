package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// DeliveryFeed turns the events respond receives into delivery facts
// (pkg/delivery): CodePipeline executions, stages and actions, CodeBuild
// builds, CodeDeploy rollbacks, the suite's verification verdicts and
// alarm incidents. Every fact is re-read from the service that owns it
// (CodePipeline, CodeDeploy, CloudWatch) before it is recorded; the
// event only says where to look.
type DeliveryFeed struct {
	Recorder *delivery.Recorder
	Config   config.Delivery
}

// pipelineStage takes CodePipeline's stage events: they notify nothing
// (the execution's event does); the delivery feed reads them.
func (h *Handler) pipelineStage(ctx context.Context, _ events.EventBridgeEvent, log *slog.Logger) error {
	log.DebugContext(ctx, "stage state change needs no notification")
	return nil
}

// deliver feeds one handled event to the delivery metrics. It returns an
// error only when a retry can help (the state table or an AWS read
// failed): Lambda's retry is then counted once, by the same conditional
// writes.
func (h *Handler) deliver(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	f := h.Delivery
	if f == nil || f.Recorder == nil {
		return nil
	}
	var err error
	switch {
	case ev.Source == events.CodePipelineEventSource:
		err = h.deliverPipeline(ctx, ev, log)
	case ev.Source == events.CodeBuildEventSource && ev.DetailType == events.CodeBuildStateChangeDetailType:
		err = h.deliverBuild(ctx, ev)
	case ev.Source == events.CodeDeployEventSource && ev.DetailType == events.CodeDeployDeploymentEventDetailType:
		err = h.deliverCodeDeploy(ctx, ev, log)
	case ev.Source == contract.VerificationSource && ev.DetailType == contract.VerificationDetailType:
		err = h.deliverVerification(ctx, ev, log)
	case ev.Source == contract.AlarmSource && ev.DetailType == contract.DetailTypeAlarmStateChange:
		err = h.deliverAlarm(ctx, ev, log)
	}
	if err != nil {
		return fmt.Errorf("delivery metrics: %w", err)
	}
	return nil
}

func (h *Handler) deliverBuild(ctx context.Context, ev events.EventBridgeEvent) error {
	var d events.CodeBuildEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.BuildID == "" || d.ProjectName == "" {
		h.Delivery.Recorder.Ignore(ctx, delivery.ReasonMalformed, "CodeBuild event without detail.build-id or detail.project-name", "eventId", ev.ID)
		return nil //nolint:nilerr // logged and counted; a retry cannot fix it
	}
	// CodeBuild's event is AWS's own word: EventBridge accepts aws.*
	// sources only from AWS services, never from PutEvents.
	return h.Delivery.Recorder.RecordBuild(ctx, d.BuildID, d.ProjectName, string(d.BuildStatus))
}

// deliverPipeline: a terminal execution state counts the execution's
// outcome; a production stage or action that succeeded (or a stage that
// failed after deploying, e.g. at verification) may complete a
// production deployment. Both re-read CodePipeline.
func (h *Handler) deliverPipeline(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	rec := h.Delivery.Recorder
	var d events.CodePipelineEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.Pipeline == "" || d.ExecutionID == "" {
		rec.Ignore(ctx, delivery.ReasonMalformed, "CodePipeline event without detail.pipeline or detail.execution-id", "eventId", ev.ID)
		return nil //nolint:nilerr // logged and counted; a retry cannot fix it
	}
	terminal := d.State == events.CodePipelineStateSucceeded || d.State == events.CodePipelineStateFailed ||
		d.State == "STOPPED" || d.State == events.CodePipelineStateSuperseded || d.State == events.CodePipelineStateCanceled
	isExec := ev.DetailType == events.CodePipelineExecutionEventDetailType
	if !terminal || (!isExec && !h.Delivery.Config.IsProductionStage(d.Stage)) {
		return nil // not a fact the metrics count: a start, or another stage
	}
	if h.Pipeline == nil {
		return errors.New("no CodePipeline client configured")
	}
	p, err := h.Pipeline.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(d.Pipeline)})
	if err != nil {
		return fmt.Errorf("get pipeline %q: %w", d.Pipeline, err)
	}
	stage := h.productionStage(p)
	if stage == nil {
		rec.Ignore(ctx, delivery.ReasonNoProductionStage, fmt.Sprintf("pipeline has no stage named %v (%s)", h.Delivery.Config.ProductionStages, config.EnvProductionStages), "pipeline", d.Pipeline)
		return nil
	}
	ex, err := h.Pipeline.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(d.Pipeline), PipelineExecutionId: aws.String(d.ExecutionID)})
	if err != nil {
		return fmt.Errorf("get pipeline execution %s of %q: %w", d.ExecutionID, d.Pipeline, err)
	}
	pe := ex.PipelineExecution
	if pe == nil {
		return fmt.Errorf("get pipeline execution %s of %q: no execution in the answer", d.ExecutionID, d.Pipeline)
	}
	if isExec {
		if err := rec.RecordPipelineRun(ctx, d.Pipeline, d.ExecutionID, string(pe.Status)); err != nil {
			return err
		}
	}
	return h.recordDeployment(ctx, d.Pipeline, d.ExecutionID, stage, pe, log)
}

// productionStage is the pipeline's first stage named as production.
func (h *Handler) productionStage(p *codepipeline.GetPipelineOutput) *cptypes.StageDeclaration {
	if p == nil || p.Pipeline == nil {
		return nil
	}
	for i := range p.Pipeline.Stages {
		if h.Delivery.Config.IsProductionStage(aws.ToString(p.Pipeline.Stages[i].Name)) {
			return &p.Pipeline.Stages[i]
		}
	}
	return nil
}

// recordDeployment records the execution as a production deployment when
// CodePipeline reports every deploy action of its production stage
// (every action, for a stage that declares no Deploy action) Succeeded:
// completed at the latest of their lastUpdateTime, lead time from the
// newest artifactRevisions[].created of GetPipelineExecution
// (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html,
// https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ArtifactRevision.html:
// "created: the date and time when the most recent revision of the
// artifact was created"). A ROLLBACK execution (PipelineExecution
// executionType) is recorded as a rollback, and its start as a rollback
// failure of the deployment it replaced.
func (h *Handler) recordDeployment(ctx context.Context, pipeline, execution string, stage *cptypes.StageDeclaration, pe *cptypes.PipelineExecution, log *slog.Logger) error {
	want := map[string]bool{}
	for _, a := range stage.Actions {
		if a.ActionTypeId != nil && a.ActionTypeId.Category == cptypes.ActionCategoryDeploy {
			want[aws.ToString(a.Name)] = true
		}
	}
	if len(want) == 0 {
		for _, a := range stage.Actions {
			want[aws.ToString(a.Name)] = true
		}
	}
	stageName := aws.ToString(stage.Name)
	latest := map[string]cptypes.ActionExecutionDetail{}
	pg := codepipeline.NewListActionExecutionsPaginator(h.Pipeline, &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String(pipeline),
		Filter:       &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String(execution)},
	})
	var started time.Time
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list action executions of %s in %q: %w", execution, pipeline, err)
		}
		for _, ax := range page.ActionExecutionDetails {
			if aws.ToString(ax.StageName) != stageName || aws.ToString(ax.PipelineExecutionId) != execution {
				continue
			}
			if st := aws.ToTime(ax.StartTime); started.IsZero() || st.Before(started) {
				started = st
			}
			name := aws.ToString(ax.ActionName)
			if prev, ok := latest[name]; want[name] && (!ok || !aws.ToTime(ax.StartTime).Before(aws.ToTime(prev.StartTime))) {
				latest[name] = ax
			}
		}
	}
	var completed time.Time
	for name := range want {
		ax, ok := latest[name]
		if !ok || ax.Status != cptypes.ActionExecutionStatusSucceeded {
			log.DebugContext(ctx, "delivery metrics: production stage has not deployed (yet)", "action", name)
			return nil
		}
		if t := aws.ToTime(ax.LastUpdateTime); t.After(completed) {
			completed = t
		}
	}
	if completed.IsZero() {
		h.Delivery.Recorder.Ignore(ctx, delivery.ReasonMalformed, "CodePipeline reports the production deploy actions Succeeded without a lastUpdateTime", "pipeline", pipeline, "executionId", execution)
		return nil
	}
	d := delivery.Deployment{Pipeline: pipeline, ExecutionID: execution, Completed: completed, Rollback: pe.ExecutionType == cptypes.ExecutionTypeRollback}
	for _, rev := range pe.ArtifactRevisions {
		if c := aws.ToTime(rev.Created); c.After(d.SourceCreated) {
			d.SourceCreated = c
		}
	}
	if err := h.Delivery.Recorder.RecordDeployment(ctx, d); err != nil {
		return err
	}
	for _, ax := range latest {
		if ax.Output != nil && ax.Output.ExecutionResult != nil && ax.Input != nil && ax.Input.ActionTypeId != nil && aws.ToString(ax.Input.ActionTypeId.Provider) == "CodeDeploy" {
			if id := aws.ToString(ax.Output.ExecutionResult.ExternalExecutionId); id != "" {
				if err := h.Delivery.Recorder.Link(ctx, id, pipeline, execution); err != nil {
					return err
				}
			}
		}
	}
	if d.Rollback && !started.IsZero() {
		return h.Delivery.Recorder.RecordFailure(ctx, delivery.Failure{Kind: delivery.RolledBack, Pipeline: pipeline, At: started})
	}
	return nil
}

// deliverVerification records a Failed verdict of a production stage as a
// failure of its execution, once CodePipeline confirms that the action
// failed (confirm.go; with a verify function configured, also that the
// action invokes it).
func (h *Handler) deliverVerification(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	rec := h.Delivery.Recorder
	var d contract.VerificationCompleted
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return nil //nolint:nilerr // HandleEvent already dropped, logged and counted it as malformed
	}
	if d.Verdict != verdict.Failed {
		return nil
	}
	if !h.Delivery.Config.IsProductionStage(d.Stage) {
		log.DebugContext(ctx, "delivery metrics: a failed verification outside production is not a failed change", "stage", d.Stage)
		return nil
	}
	if h.Pipeline == nil || d.ExecutionID == "" || d.Action == "" {
		rec.Ignore(ctx, delivery.ReasonNotConfirmed, "verification event without execution and action, or no CodePipeline client: CodePipeline cannot confirm it", "pipeline", d.Pipeline)
		return nil
	}
	if h.VerifyFunction != "" {
		if err := h.confirmVerifyFailed(ctx, d); err != nil {
			rec.Ignore(ctx, delivery.ReasonNotConfirmed, err.Error(), "pipeline", d.Pipeline, "executionId", d.ExecutionID)
			return nil
		}
	}
	ax, err := h.latestActionExecution(ctx, d)
	if err != nil || ax.Status != cptypes.ActionExecutionStatusFailed {
		why := "CodePipeline does not report the verify action Failed"
		if err != nil {
			why = err.Error()
		}
		rec.Ignore(ctx, delivery.ReasonNotConfirmed, why, "pipeline", d.Pipeline, "executionId", d.ExecutionID)
		return nil
	}
	at := aws.ToTime(ax.LastUpdateTime)
	if at.IsZero() {
		rec.Ignore(ctx, delivery.ReasonMalformed, "CodePipeline reports the verify action Failed without a lastUpdateTime", "pipeline", d.Pipeline, "executionId", d.ExecutionID)
		return nil
	}
	return rec.RecordFailure(ctx, delivery.Failure{Kind: delivery.FailedVerification, Pipeline: d.Pipeline, ExecutionID: d.ExecutionID, At: at})
}

// deliverCodeDeploy records a CodeDeploy rollback (GetDeployment's
// rollbackInfo.rollbackTriggeringDeploymentId,
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_RollbackInfo.html)
// of a deployment a production stage made as a rollback failure of that
// execution, and its completion as the restore.
func (h *Handler) deliverCodeDeploy(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d events.CodeDeployEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.DeploymentID == "" {
		return nil //nolint:nilerr // HandleEvent already dropped, logged and counted it as malformed
	}
	if d.State != events.CodeDeployDeploymentStateSuccess || h.Deploy == nil {
		return nil
	}
	out, err := h.Deploy.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(d.DeploymentID)})
	if err != nil {
		return fmt.Errorf("get deployment %s: %w", d.DeploymentID, err)
	}
	info := out.DeploymentInfo
	if info == nil || info.RollbackInfo == nil || aws.ToString(info.RollbackInfo.RollbackTriggeringDeploymentId) == "" {
		return nil // an ordinary deployment: its pipeline's action events count it
	}
	pipeline, execution, ok, err := h.Delivery.Recorder.Linked(ctx, aws.ToString(info.RollbackInfo.RollbackTriggeringDeploymentId))
	if err != nil {
		return err
	}
	if !ok {
		h.Delivery.Recorder.Ignore(ctx, delivery.ReasonUnattributed, "CodeDeploy rollback of a deployment no production stage recorded", "deploymentId", d.DeploymentID)
		return nil
	}
	if info.CreateTime == nil || info.CompleteTime == nil {
		h.Delivery.Recorder.Ignore(ctx, delivery.ReasonMalformed, "CodeDeploy reports a finished rollback without createTime or completeTime", "deploymentId", d.DeploymentID)
		return nil
	}
	log.InfoContext(ctx, "delivery metrics: CodeDeploy rolled back a production deployment", "pipeline", pipeline, "executionId", execution)
	if err := h.Delivery.Recorder.RecordFailure(ctx, delivery.Failure{Kind: delivery.RolledBack, Pipeline: pipeline, ExecutionID: execution, At: aws.ToTime(info.CreateTime)}); err != nil {
		return err
	}
	return h.Delivery.Recorder.RecordDeployment(ctx, delivery.Deployment{Pipeline: pipeline, ExecutionID: "codedeploy:" + d.DeploymentID, Completed: aws.ToTime(info.CompleteTime), Rollback: true})
}

// deliverAlarm opens an incident of the alarm's service when it enters
// ALARM and closes it when it returns to OK, once CloudWatch confirms
// the alarm is in that state now (DescribeAlarms StateValue,
// StateUpdatedTimestamp): a late ALARM of an alarm already OK again is
// not an incident.
func (h *Handler) deliverAlarm(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	rec := h.Delivery.Recorder
	a, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		return nil //nolint:nilerr // HandleEvent already dropped, logged and counted it as malformed
	}
	if a.NewState != contract.StateAlarm && (a.NewState != contract.StateOK || a.OldState != contract.StateAlarm) {
		return nil
	}
	pipeline := h.Delivery.Config.PipelineOfAlarm(a.Name)
	if pipeline == "" {
		rec.Ignore(ctx, delivery.ReasonNoService, fmt.Sprintf("no %s prefix maps this alarm to a pipeline", config.EnvIncidentAlarms), "alarm", a.Name)
		return nil
	}
	if h.Alarms == nil {
		return errors.New("no CloudWatch client configured")
	}
	out, err := h.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{a.Name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
	if err != nil {
		return fmt.Errorf("describe alarm %q: %w", a.Name, err)
	}
	var state string
	var changed time.Time
	for _, m := range out.MetricAlarms {
		state, changed = string(m.StateValue), aws.ToTime(m.StateUpdatedTimestamp)
	}
	for _, c := range out.CompositeAlarms {
		state, changed = string(c.StateValue), aws.ToTime(c.StateUpdatedTimestamp)
	}
	if state != a.NewState || changed.IsZero() {
		rec.Ignore(ctx, delivery.ReasonNotConfirmed, fmt.Sprintf("CloudWatch reports the alarm %s now, not %s (a late or superseded state change)", orDash(state), a.NewState), "alarm", a.Name)
		return nil
	}
	id := a.ARN
	if id == "" {
		id = a.Name
	}
	log.DebugContext(ctx, "delivery metrics: alarm of a service", "pipeline", pipeline)
	if a.NewState == contract.StateAlarm {
		return rec.StartIncident(ctx, id, pipeline, changed)
	}
	return rec.EndIncident(ctx, id, changed)
}
