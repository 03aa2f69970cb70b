package respond

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

func (h *Handler) deployment(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d events.CodeDeployEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return badDetail(ev, "detail", err)
	}
	if d.DeploymentID == "" {
		return badDetail(ev, "detail.deploymentId", errors.New("missing"))
	}
	log = log.With("deploymentId", d.DeploymentID, "application", d.Application, "deploymentGroup", d.DeploymentGroup, "state", d.State)
	if d.State != events.CodeDeployDeploymentStateFailure {
		log.InfoContext(ctx, "deployment state change needs no notification")
		return nil
	}
	key := "notify#deployment#" + d.DeploymentID
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "deployment", "deploymentId": d.DeploymentID}, log) {
		log.InfoContext(ctx, "deployment failure already notified")
		return nil
	}
	region := cmp.Or(ev.Region, d.Region) // CodeDeploy emits the event in the deployment's region
	a := notify.Alert{
		Kind:       notify.Deployments,
		Severity:   "HIGH",
		Service:    d.Application,
		Event:      ev.DetailType,
		ThreadID:   "deployment-" + d.Application + "-" + d.DeploymentGroup,
		Resources:  ev.Resources,
		Attributes: map[string]string{"application": d.Application, "deploymentGroup": d.DeploymentGroup},
		Title:      fmt.Sprintf("Deployment %s of %s/%s failed", d.DeploymentID, d.Application, d.DeploymentGroup),
		What:       fmt.Sprintf("CodeDeploy deployment %s to %s/%s failed.", d.DeploymentID, d.Application, d.DeploymentGroup),
		Where:      fmt.Sprintf("application %s, deployment group %s, account %s, %s", d.Application, d.DeploymentGroup, ev.AccountID, region),
		Links:      []notify.Link{{Label: "Deployment", URL: deploymentURL(region, d.DeploymentID)}},
	}
	a.Evidence = h.deploymentEvidence(ctx, d, log)
	a.Apply(h.RunbookBaseURL, notify.RunbookDeployment)
	return h.send(ctx, a, key, log)
}

// deploymentEvidence looks up why the deployment failed: its error, its
// rollback, and the deployment group's alarms that are in ALARM (the ones
// that stopped it).
func (h *Handler) deploymentEvidence(ctx context.Context, d events.CodeDeployEventDetail, log *slog.Logger) []string {
	if h.Deploy == nil {
		return []string{"No CodeDeploy client configured: open the deployment for details."}
	}
	var ev []string
	alarmStopped := false
	// The deployment group's alarms are looked up whatever GetDeployment
	// says: the event names the application and group, and the alarms in
	// ALARM are often why the deployment stopped.
	out, err := h.Deploy.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(d.DeploymentID)})
	if err != nil {
		log.WarnContext(ctx, "get deployment", "error", err.Error())
		ev = append(ev, fmt.Sprintf("Could not look up deployment %s: %v", d.DeploymentID, err))
	} else if info := out.DeploymentInfo; info != nil {
		if e := info.ErrorInformation; e != nil {
			ev = append(ev, fmt.Sprintf("Error %s: %s", e.Code, aws.ToString(e.Message)))
			alarmStopped = e.Code == cdtypes.ErrorCodeAlarmActive
		}
		if r := info.RollbackInfo; r != nil {
			switch {
			case aws.ToString(r.RollbackDeploymentId) != "":
				ev = append(ev, fmt.Sprintf("Rolled back by deployment %s: %s", aws.ToString(r.RollbackDeploymentId), aws.ToString(r.RollbackMessage)))
			case aws.ToString(r.RollbackMessage) != "":
				ev = append(ev, "Rollback: "+aws.ToString(r.RollbackMessage))
			}
		}
		if o := info.DeploymentOverview; o != nil {
			ev = append(ev, fmt.Sprintf("Targets: %d succeeded, %d failed, %d in progress, %d skipped", o.Succeeded, o.Failed, o.InProgress, o.Skipped))
		}
	}
	alarms := h.groupAlarms(ctx, d, log)
	if len(alarms) == 0 {
		return ev
	}
	firing := h.alarmsInAlarm(ctx, alarms, log)
	switch {
	case len(firing) > 0:
		ev = append(ev, "Alarms in ALARM that stop this deployment: "+strings.Join(firing, "; "))
	case alarmStopped:
		ev = append(ev, "The deployment group's alarms ("+strings.Join(alarms, ", ")+") stopped it; none is in ALARM now")
	default:
		ev = append(ev, "Deployment group alarms (none in ALARM now): "+strings.Join(alarms, ", "))
	}
	return ev
}

func (h *Handler) groupAlarms(ctx context.Context, d events.CodeDeployEventDetail, log *slog.Logger) []string {
	if d.Application == "" || d.DeploymentGroup == "" {
		return nil
	}
	g, err := h.Deploy.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String(d.Application), DeploymentGroupName: aws.String(d.DeploymentGroup)})
	if err != nil {
		log.WarnContext(ctx, "get deployment group", "error", err.Error())
		return nil
	}
	if g.DeploymentGroupInfo == nil || g.DeploymentGroupInfo.AlarmConfiguration == nil || !g.DeploymentGroupInfo.AlarmConfiguration.Enabled {
		return nil
	}
	var names []string
	for _, a := range g.DeploymentGroupInfo.AlarmConfiguration.Alarms {
		if n := aws.ToString(a.Name); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// alarmsInAlarm returns "name: reason (since t)" for each named alarm in
// ALARM.
func (h *Handler) alarmsInAlarm(ctx context.Context, names []string, log *slog.Logger) []string {
	if h.Alarms == nil {
		return nil
	}
	var out []string
	// DescribeAlarms takes at most 100 names per call.
	for start := 0; start < len(names); start += 100 {
		batch := names[start:min(start+100, len(names))]
		res, err := h.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch, StateValue: cwtypes.StateValueAlarm,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		if err != nil {
			log.WarnContext(ctx, "describe deployment group alarms", "error", err.Error())
			return out
		}
		for _, a := range res.MetricAlarms {
			out = append(out, alarmLine(aws.ToString(a.AlarmName), aws.ToString(a.StateReason), a.StateUpdatedTimestamp))
		}
		for _, a := range res.CompositeAlarms {
			out = append(out, alarmLine(aws.ToString(a.AlarmName), aws.ToString(a.StateReason), a.StateUpdatedTimestamp))
		}
	}
	return out
}

func alarmLine(name, reason string, since *time.Time) string {
	s := name
	if reason != "" {
		s += ": " + reason
	}
	if since != nil {
		s += " (since " + since.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

func (h *Handler) build(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d events.CodeBuildEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return badDetail(ev, "detail", err)
	}
	if d.ProjectName == "" {
		return badDetail(ev, "detail.project-name", errors.New("missing"))
	}
	log = log.With("project", d.ProjectName, "buildId", d.BuildID, "status", d.BuildStatus)
	switch d.BuildStatus {
	case events.CodeBuildPhaseStatusFailed, events.CodeBuildPhaseStatusFault, events.CodeBuildPhaseStatusTimedOut:
	default:
		log.InfoContext(ctx, "build state change needs no notification")
		return nil
	}
	key := "notify#build#" + cmp.Or(d.BuildID, ev.ID)
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "build", "project": d.ProjectName}, log) {
		log.InfoContext(ctx, "build failure already notified")
		return nil
	}
	info := d.AdditionalInformation
	a := notify.Alert{
		Kind:       notify.Deployments,
		Severity:   "MEDIUM",
		Service:    d.ProjectName,
		Event:      ev.DetailType,
		ThreadID:   "build-" + d.ProjectName,
		Resources:  ev.Resources,
		Attributes: map[string]string{"project": d.ProjectName},
		Title:      fmt.Sprintf("Build of %s %s", d.ProjectName, strings.ToLower(string(d.BuildStatus))),
		What:       fmt.Sprintf("CodeBuild build %s of project %s ended %s.", shortBuildID(d.BuildID), d.ProjectName, d.BuildStatus),
		Where:      fmt.Sprintf("project %s, account %s, %s", d.ProjectName, ev.AccountID, ev.Region),
	}
	if strings.HasPrefix(info.Initiator, "codepipeline/") {
		a.Severity = "HIGH" // it blocks a pipeline
		a.What += " It was started by pipeline " + strings.TrimPrefix(info.Initiator, "codepipeline/") + "."
	}
	for _, p := range info.Phases {
		if p.PhaseStatus == "" || p.PhaseStatus == events.CodeBuildPhaseStatusSucceeded {
			continue
		}
		line := fmt.Sprintf("Phase %s %s after %s", p.PhaseType, p.PhaseStatus, time.Duration(p.Duration))
		var ctxs []string
		for _, c := range p.PhaseContext {
			if s, ok := c.(string); ok && strings.TrimSpace(s) != "" && s != ": " {
				ctxs = append(ctxs, s)
			}
		}
		if len(ctxs) > 0 {
			line += ": " + strings.Join(ctxs, "; ")
		}
		a.Evidence = append(a.Evidence, line)
	}
	if info.SourceVersion != "" {
		a.Evidence = append(a.Evidence, "Source version: "+info.SourceVersion)
	}
	if info.Environment.Image != "" {
		a.Evidence = append(a.Evidence, "Build image: "+info.Environment.Image)
	}
	if info.Logs.DeepLink != "" {
		a.Links = append(a.Links, notify.Link{Label: "Build log", URL: info.Logs.DeepLink})
	} else if info.Logs.GroupName != "" {
		a.Evidence = append(a.Evidence, "Log: "+info.Logs.GroupName+" / "+info.Logs.StreamName)
	}
	if d.BuildID != "" {
		a.Links = append(a.Links, notify.Link{Label: "Build", URL: buildURL(ev.Region, d.ProjectName, shortBuildID(d.BuildID))})
	}
	a.Apply(h.RunbookBaseURL, notify.RunbookBuild)
	return h.send(ctx, a, key, log)
}

// shortBuildID turns a build ARN into "project:uuid".
func shortBuildID(id string) string {
	if i := strings.LastIndex(id, ":build/"); i >= 0 {
		return id[i+len(":build/"):]
	}
	return id
}
