package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/emfsum"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// dlPipeline is CodePipeline as the delivery feed reads it: the pipeline
// declaration, one execution and its action executions.
type dlPipeline struct {
	PipelineAPI
	stages  []cptypes.StageDeclaration
	exec    cptypes.PipelineExecution
	actions []cptypes.ActionExecutionDetail
}

var _ PipelineAPI = (*dlPipeline)(nil)

func (f *dlPipeline) GetPipeline(context.Context, *codepipeline.GetPipelineInput, ...func(*codepipeline.Options)) (*codepipeline.GetPipelineOutput, error) {
	return &codepipeline.GetPipelineOutput{Pipeline: &cptypes.PipelineDeclaration{Name: aws.String("myPipeline"), Stages: f.stages}}, nil
}

func (f *dlPipeline) GetPipelineExecution(_ context.Context, in *codepipeline.GetPipelineExecutionInput, _ ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error) {
	e := f.exec
	e.PipelineExecutionId = in.PipelineExecutionId
	return &codepipeline.GetPipelineExecutionOutput{PipelineExecution: &e}, nil
}

func (f *dlPipeline) ListActionExecutions(context.Context, *codepipeline.ListActionExecutionsInput, ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	return &codepipeline.ListActionExecutionsOutput{ActionExecutionDetails: f.actions}, nil
}

type dlDeploy struct {
	DeployAPI
	info *cdtypes.DeploymentInfo
}

func (f *dlDeploy) GetDeployment(context.Context, *codedeploy.GetDeploymentInput, ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	return &codedeploy.GetDeploymentOutput{DeploymentInfo: f.info}, nil
}

type dlAlarms struct{ alarm cwtypes.MetricAlarm }

func (f *dlAlarms) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []cwtypes.MetricAlarm{f.alarm}}, nil
}

const sampleExec = "01234567-0123-0123-0123-012345678901" // the execution id of aws-lambda-go's CodePipeline samples

var (
	dlTime   = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	dlTables atomic.Int64
)

// deployAction is a production action as ListActionExecutions reports it.
func deployAction(stage, name string, category cptypes.ActionCategory, provider string, status cptypes.ActionExecutionStatus, start, end time.Time, external string) cptypes.ActionExecutionDetail {
	ax := cptypes.ActionExecutionDetail{
		PipelineExecutionId: aws.String(sampleExec), StageName: aws.String(stage), ActionName: aws.String(name), Status: status,
		StartTime: aws.Time(start), LastUpdateTime: aws.Time(end),
		Input: &cptypes.ActionExecutionInput{ActionTypeId: &cptypes.ActionTypeId{Category: category, Owner: cptypes.ActionOwnerAws, Provider: aws.String(provider), Version: aws.String("1")}},
	}
	if external != "" {
		ax.Output = &cptypes.ActionExecutionOutput{ExecutionResult: &cptypes.ActionExecutionResult{ExternalExecutionId: aws.String(external)}}
	}
	return ax
}

type dlRig struct {
	h       *Handler
	emf     *bytes.Buffer
	logs    *bytes.Buffer
	cp      *dlPipeline
	deploy  *dlDeploy
	alarms  *dlAlarms
	samples map[string][]byte
}

func newDeliveryRig(t *testing.T) *dlRig {
	t.Helper()
	srv := dynalite.StartT(t)
	c := srv.Client()
	table := fmt.Sprintf("delivery-respond-%d", dlTables.Add(1))
	if err := state.CreateTable(context.Background(), c, table); err != nil {
		t.Fatal(err)
	}
	r := &dlRig{emf: &bytes.Buffer{}, logs: &bytes.Buffer{}, samples: awsSamples(t)}
	m := telemetry.NewMetrics("Postdeploy", r.emf)
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	cfg, err := config.LoadDelivery(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.IncidentAlarms = []config.AlarmPipeline{{Prefix: "prod-api-", Pipeline: "myPipeline"}}
	rec := delivery.NewRecorder(c, table, m, log, cfg.ChangeFailureWindow)
	topics := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		topics[k] = topicARN(k)
	}
	r.cp = &dlPipeline{
		stages: []cptypes.StageDeclaration{
			{Name: aws.String("Source"), Actions: []cptypes.ActionDeclaration{{Name: aws.String("Source"), ActionTypeId: &cptypes.ActionTypeId{Category: cptypes.ActionCategorySource}}}},
			{Name: aws.String("Prod"), Actions: []cptypes.ActionDeclaration{
				{Name: aws.String("myAction"), ActionTypeId: &cptypes.ActionTypeId{Category: cptypes.ActionCategoryDeploy}},
				{Name: aws.String("Verify"), ActionTypeId: &cptypes.ActionTypeId{Category: cptypes.ActionCategoryInvoke}},
			}},
		},
		exec: cptypes.PipelineExecution{
			PipelineName: aws.String("myPipeline"), Status: cptypes.PipelineExecutionStatusSucceeded, ExecutionType: cptypes.ExecutionTypeStandard,
			ArtifactRevisions: []cptypes.ArtifactRevision{
				{Name: aws.String("SourceArtifact"), Created: aws.Time(dlTime.Add(-2 * time.Hour))},
				{Name: aws.String("Config"), Created: aws.Time(dlTime.Add(-90 * time.Minute))}, // the newest revision: lead time 1h30m
			},
		},
		actions: []cptypes.ActionExecutionDetail{
			deployAction("Source", "Source", cptypes.ActionCategorySource, "CodeCommit", cptypes.ActionExecutionStatusSucceeded, dlTime.Add(-time.Hour), dlTime.Add(-59*time.Minute), ""),
			deployAction("Prod", "myAction", cptypes.ActionCategoryDeploy, "CodeDeploy", cptypes.ActionExecutionStatusSucceeded, dlTime.Add(-10*time.Minute), dlTime, "d-PRODDEPLOY"),
		},
	}
	r.deploy = &dlDeploy{}
	r.alarms = &dlAlarms{}
	r.h = &Handler{
		Log: log, Metrics: m,
		Notify:   notify.Router{API: &fakeSNS{}, Topics: topics},
		Pipeline: r.cp, Deploy: r.deploy, Alarms: r.alarms,
		Delivery: &DeliveryFeed{Recorder: rec, Config: cfg},
		Now:      func() time.Time { return dlTime },
	}
	return r
}

// sample reads one of aws-lambda-go's AWS-written sample events and
// applies edit to its decoded form.
func (r *dlRig) sample(t *testing.T, name string, edit func(ev map[string]any)) []byte {
	t.Helper()
	b, ok := r.samples[name]
	if !ok {
		t.Fatalf("no AWS sample %s in aws-lambda-go's events/testdata", name)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ev)
	}
	out, _ := json.Marshal(ev)
	return out
}

func detail(ev map[string]any) map[string]any { return ev["detail"].(map[string]any) }

func (r *dlRig) invoke(t *testing.T, payload []byte, times int) {
	t.Helper()
	for range times {
		if _, err := r.h.Invoke(context.Background(), payload); err != nil {
			t.Fatalf("Invoke = %v; logs:\n%s", err, r.logs)
		}
	}
}

func (r *dlRig) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	sums, err := emfsum.Sum(r.emf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return emfsum.Only(sums, delivery.Metrics...)
}

// Monitoring CodePipeline events
// (https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html)
// and CodeBuild's / CodeDeploy's state-change events, from aws-lambda-go's
// AWS-written samples: each event counted once however often EventBridge
// delivers it.
func TestDeliveryFromAWSSamples(t *testing.T) {
	r := newDeliveryRig(t)
	succeeded := func(ev map[string]any) { detail(ev)["state"] = "SUCCEEDED" }
	// The Prod stage's CodeDeploy action succeeded, delivered twice.
	r.invoke(t, r.sample(t, "codepipeline-action-execution-stage-change-event.json", succeeded), 2)
	// The execution succeeded: its outcome, and the deployment again (not recounted).
	r.invoke(t, r.sample(t, "codepipeline-execution-state-change-event.json", succeeded), 2)
	// The stage sample names no stage: not a production fact.
	r.invoke(t, r.sample(t, "codepipeline-execution-stage-change-event.json", succeeded), 1)
	// A CodeBuild build that succeeded, twice.
	r.invoke(t, r.sample(t, "codebuild-state-change.json", nil), 2)
	// CodeDeploy's sample deployment d-123456789 is the rollback of the
	// production deployment d-PRODDEPLOY: created 20m after it, done 35m after.
	r.deploy.info = &cdtypes.DeploymentInfo{
		DeploymentId: aws.String("d-123456789"),
		RollbackInfo: &cdtypes.RollbackInfo{RollbackTriggeringDeploymentId: aws.String("d-PRODDEPLOY")},
		CreateTime:   aws.Time(dlTime.Add(20 * time.Minute)), CompleteTime: aws.Time(dlTime.Add(35 * time.Minute)),
	}
	r.invoke(t, r.sample(t, "codedeploy-deployment-event.json", nil), 2)
	want := map[string]float64{
		"Deployments{Pipeline=myPipeline}": 1, "Deployments{Pipeline=myPipeline}#n": 1,
		"LeadTimeForChanges{Pipeline=myPipeline}": 5400, "LeadTimeForChanges{Pipeline=myPipeline}#n": 1,
		"PipelineExecutions{Outcome=Succeeded,Pipeline=myPipeline}": 1, "PipelineExecutions{Outcome=Succeeded,Pipeline=myPipeline}#n": 1,
		"Builds{Outcome=Succeeded,Project=my-sample-project}": 1, "Builds{Outcome=Succeeded,Project=my-sample-project}#n": 1,
		"ChangeFailures{Pipeline=myPipeline}": 1, "ChangeFailures{Pipeline=myPipeline}#n": 1,
		"TimeToRestore{Pipeline=myPipeline}": 900, "TimeToRestore{Pipeline=myPipeline}#n": 1,
	}
	if diff := cmp.Diff(want, r.metrics(t)); diff != "" {
		t.Errorf("delivery metrics (-want +got):\n%s\nlogs:\n%s", diff, r.logs)
	}
}

func TestDeliveryPipelineWithoutProductionStageIgnored(t *testing.T) {
	r := newDeliveryRig(t)
	r.cp.stages = r.cp.stages[:1] // Source only
	r.invoke(t, r.sample(t, "codepipeline-execution-state-change-event.json", func(ev map[string]any) { detail(ev)["state"] = "FAILED" }), 1)
	want := map[string]float64{"DeliveryEventsIgnored{Reason=no-production-stage}": 1, "DeliveryEventsIgnored{Reason=no-production-stage}#n": 1}
	if diff := cmp.Diff(want, r.metrics(t)); diff != "" {
		t.Errorf("delivery metrics (-want +got):\n%s", diff)
	}
	if !bytes.Contains(r.logs.Bytes(), []byte("pipeline has no stage named [Prod Production]")) {
		t.Errorf("logs do not say why the pipeline was ignored:\n%s", r.logs)
	}
}

func TestDeliveryProductionNotDeployedYet(t *testing.T) {
	r := newDeliveryRig(t)
	r.cp.actions[1].Status = cptypes.ActionExecutionStatusInProgress // the event says SUCCEEDED; CodePipeline does not (yet)
	r.invoke(t, r.sample(t, "codepipeline-action-execution-stage-change-event.json", func(ev map[string]any) { detail(ev)["state"] = "SUCCEEDED" }), 1)
	if got := r.metrics(t); len(got) != 0 {
		t.Errorf("delivery metrics = %v; want none: CodePipeline does not report the deploy action Succeeded", got)
	}
}

func verificationEvent(t *testing.T, stage string) []byte {
	t.Helper()
	d, _ := json.Marshal(contract.VerificationCompleted{Verdict: verdict.Failed, Pipeline: "myPipeline", ExecutionID: sampleExec, Stage: stage, Action: "Verify", JobID: "job-1", Summary: "error-rate Failed"})
	ev, _ := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "v-1", DetailType: contract.VerificationDetailType, Source: contract.VerificationSource, AccountID: "123456789012", Time: dlTime, Region: "us-east-1", Detail: d})
	return ev
}

func TestDeliveryFailedVerification(t *testing.T) {
	tests := []struct {
		name        string
		stage       string
		verifyState cptypes.ActionExecutionStatus
		want        map[string]float64
	}{
		{
			name: "confirmed by CodePipeline: the deployment failed, once", stage: "Prod", verifyState: cptypes.ActionExecutionStatusFailed,
			want: map[string]float64{"ChangeFailures{Pipeline=myPipeline}": 1, "ChangeFailures{Pipeline=myPipeline}#n": 1},
		},
		{
			name: "CodePipeline reports the action Succeeded: ignored", stage: "Prod", verifyState: cptypes.ActionExecutionStatusSucceeded,
			want: map[string]float64{"DeliveryEventsIgnored{Reason=not-confirmed}": 2, "DeliveryEventsIgnored{Reason=not-confirmed}#n": 2},
		},
		{
			name: "outside production: not a failed change", stage: "Staging", verifyState: cptypes.ActionExecutionStatusFailed,
			want: map[string]float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newDeliveryRig(t)
			r.cp.actions = append(r.cp.actions, deployAction(tt.stage, "Verify", cptypes.ActionCategoryInvoke, "Lambda", tt.verifyState, dlTime.Add(time.Minute), dlTime.Add(6*time.Minute), ""))
			r.h.sleep = func(context.Context, time.Duration) error { return nil }
			r.invoke(t, verificationEvent(t, tt.stage), 2) // before the deployment's own event
			r.invoke(t, r.sample(t, "codepipeline-action-execution-stage-change-event.json", func(ev map[string]any) { detail(ev)["state"] = "SUCCEEDED" }), 1)
			got := r.metrics(t)
			delete(got, "Deployments{Pipeline=myPipeline}")
			delete(got, "Deployments{Pipeline=myPipeline}#n")
			delete(got, "LeadTimeForChanges{Pipeline=myPipeline}")
			delete(got, "LeadTimeForChanges{Pipeline=myPipeline}#n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delivery metrics (-want +got):\n%s\nlogs:\n%s", diff, r.logs)
			}
		})
	}
}

func alarmEvent(t *testing.T, state, previous string, at time.Time) []byte {
	t.Helper()
	d := map[string]any{
		"alarmName":     "prod-api-5xx",
		"state":         map[string]any{"value": state, "reason": "test", "timestamp": at.Format("2006-01-02T15:04:05.000-0700")},
		"previousState": map[string]any{"value": previous, "reason": "test", "timestamp": at.Add(-time.Hour).Format("2006-01-02T15:04:05.000-0700")},
		"configuration": map[string]any{"metrics": []any{}},
	}
	db, _ := json.Marshal(d)
	ev, _ := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "a-" + state, DetailType: contract.DetailTypeAlarmStateChange, Source: contract.AlarmSource, AccountID: "123456789012", Time: at, Region: "us-east-1",
		Resources: []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-5xx"}, Detail: db})
	return ev
}

func TestDeliveryIncident(t *testing.T) {
	r := newDeliveryRig(t)
	r.invoke(t, r.sample(t, "codepipeline-action-execution-stage-change-event.json", func(ev map[string]any) { detail(ev)["state"] = "SUCCEEDED" }), 1)
	start, end := dlTime.Add(time.Hour), dlTime.Add(time.Hour+40*time.Minute)
	r.alarms.alarm = cwtypes.MetricAlarm{AlarmName: aws.String("prod-api-5xx"), StateValue: cwtypes.StateValueAlarm, StateUpdatedTimestamp: aws.Time(start)}
	r.invoke(t, alarmEvent(t, "ALARM", "OK", start), 2)
	// A late copy of the ALARM after CloudWatch says OK is not a new incident.
	r.alarms.alarm = cwtypes.MetricAlarm{AlarmName: aws.String("prod-api-5xx"), StateValue: cwtypes.StateValueOk, StateUpdatedTimestamp: aws.Time(end)}
	r.invoke(t, alarmEvent(t, "OK", "ALARM", end), 2)
	r.invoke(t, alarmEvent(t, "ALARM", "OK", start), 1)
	want := map[string]float64{
		"Deployments{Pipeline=myPipeline}": 1, "Deployments{Pipeline=myPipeline}#n": 1,
		"LeadTimeForChanges{Pipeline=myPipeline}": 5400, "LeadTimeForChanges{Pipeline=myPipeline}#n": 1,
		"ChangeFailures{Pipeline=myPipeline}": 1, "ChangeFailures{Pipeline=myPipeline}#n": 1,
		"TimeToRestore{Pipeline=myPipeline}": 2400, "TimeToRestore{Pipeline=myPipeline}#n": 1,
		"DeliveryEventsIgnored{Reason=no-open-incident}": 1, "DeliveryEventsIgnored{Reason=no-open-incident}#n": 1,
		"DeliveryEventsIgnored{Reason=not-confirmed}": 1, "DeliveryEventsIgnored{Reason=not-confirmed}#n": 1,
	}
	if diff := cmp.Diff(want, r.metrics(t)); diff != "" {
		t.Errorf("delivery metrics (-want +got):\n%s\nlogs:\n%s", diff, r.logs)
	}
}

// A CodeDeploy deployment counts only as the rollback of one a
// production stage made (GetDeployment's rollbackInfo,
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_RollbackInfo.html).
func TestDeliveryCodeDeployRollbacks(t *testing.T) {
	tests := []struct {
		name string
		info *cdtypes.DeploymentInfo
		want map[string]float64
	}{
		{name: "an ordinary deployment: the pipeline's events count it", info: &cdtypes.DeploymentInfo{DeploymentId: aws.String("d-123456789")}, want: map[string]float64{}},
		{
			name: "the rollback of a deployment no production stage made",
			info: &cdtypes.DeploymentInfo{RollbackInfo: &cdtypes.RollbackInfo{RollbackTriggeringDeploymentId: aws.String("d-ELSEWHERE")}, CreateTime: aws.Time(dlTime), CompleteTime: aws.Time(dlTime)},
			want: map[string]float64{"DeliveryEventsIgnored{Reason=unattributed}": 1, "DeliveryEventsIgnored{Reason=unattributed}#n": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newDeliveryRig(t)
			r.deploy.info = tt.info
			r.invoke(t, r.sample(t, "codedeploy-deployment-event.json", nil), 1)
			if d := cmp.Diff(tt.want, r.metrics(t)); d != "" {
				t.Errorf("delivery metrics (-want +got):\n%s\nlogs:\n%s", d, r.logs)
			}
		})
	}
}
