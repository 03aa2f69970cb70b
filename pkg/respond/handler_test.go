package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

var testNow = time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)

// fakeSNS records what was published.
type fakeSNS struct {
	mu  sync.Mutex
	in  []*sns.PublishInput
	err error
	// hang, when set, makes Publish wait for its ctx to end and fail
	// with ctx's error, as a Publish that never answers does; deadline
	// records the ctx deadline it was given.
	hang     bool
	deadline time.Time
}

var _ notify.Publisher = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	hang := f.hang
	f.deadline, _ = ctx.Deadline()
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, fmt.Errorf("operation error SNS: Publish: %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.in = append(f.in, in)
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

// fakePipeline answers with canned outputs and records rollbacks. Like
// CodePipeline, it knows one execution (knownExecution): any other id is
// PipelineExecutionNotFoundException, and ListActionExecutions returns
// only the action executions of the execution its filter names.
type fakePipeline struct {
	execution  *codepipeline.GetPipelineExecutionOutput
	actions    *codepipeline.ListActionExecutionsOutput
	executions *codepipeline.ListPipelineExecutionsOutput
	pipeline   *codepipeline.GetPipelineOutput
	// listAnswers, when set, replaces actions: the nth ListActionExecutions
	// call gets listAnswers[n] (the last one once they run out).
	listAnswers []*codepipeline.ListActionExecutionsOutput
	listCalls   int
	// err fails every call; rollbackErr fails RollbackStage only.
	err, rollbackErr error
	// rollbackVia, when set, sends RollbackStage through a real client
	// (with respond's per-call options) instead of answering it.
	rollbackVia *codepipeline.Client
	rollbacks   []*codepipeline.RollbackStageInput
}

var _ PipelineAPI = (*fakePipeline)(nil)

const knownExecution = "3c81b4fe-6a4b-4f58-9c87-EXAMPLE"

func (f *fakePipeline) GetPipelineExecution(_ context.Context, in *codepipeline.GetPipelineExecutionInput, _ ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if id := aws.ToString(in.PipelineExecutionId); id != knownExecution {
		return nil, &cptypes.PipelineExecutionNotFoundException{Message: aws.String("The pipeline execution ID '" + id + "' does not exist")}
	}
	return f.execution, nil
}
func (f *fakePipeline) ListActionExecutions(_ context.Context, in *codepipeline.ListActionExecutionsInput, _ ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := f.actions
	if len(f.listAnswers) > 0 {
		out = f.listAnswers[min(f.listCalls, len(f.listAnswers)-1)]
	}
	f.listCalls++
	want := ""
	if in.Filter != nil {
		want = aws.ToString(in.Filter.PipelineExecutionId)
	}
	res := &codepipeline.ListActionExecutionsOutput{}
	for _, ax := range out.ActionExecutionDetails {
		if id := aws.ToString(ax.PipelineExecutionId); want == "" || id == "" || id == want {
			res.ActionExecutionDetails = append(res.ActionExecutionDetails, ax)
		}
	}
	return res, nil
}
func (f *fakePipeline) ListPipelineExecutions(context.Context, *codepipeline.ListPipelineExecutionsInput, ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	return f.executions, f.err
}
func (f *fakePipeline) RollbackStage(ctx context.Context, in *codepipeline.RollbackStageInput, optFns ...func(*codepipeline.Options)) (*codepipeline.RollbackStageOutput, error) {
	f.rollbacks = append(f.rollbacks, in)
	if f.rollbackVia != nil {
		return f.rollbackVia.RollbackStage(ctx, in, optFns...)
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.rollbackErr != nil {
		return nil, f.rollbackErr
	}
	return &codepipeline.RollbackStageOutput{PipelineExecutionId: aws.String("rollback-exec")}, nil
}
func (f *fakePipeline) GetPipeline(context.Context, *codepipeline.GetPipelineInput, ...func(*codepipeline.Options)) (*codepipeline.GetPipelineOutput, error) {
	return f.pipeline, f.err
}

// fakeDeploy answers with canned outputs and records stops.
type fakeDeploy struct {
	deployment    *codedeploy.GetDeploymentOutput
	deploymentErr error
	group         *codedeploy.GetDeploymentGroupOutput
	list          *codedeploy.ListDeploymentsOutput
	stops         []*codedeploy.StopDeploymentInput
	// stopVia, when set, sends StopDeployment through a real client (with
	// respond's per-call options) instead of answering it.
	stopVia *codedeploy.Client
}

var _ DeployAPI = (*fakeDeploy)(nil)

func (f *fakeDeploy) GetDeployment(context.Context, *codedeploy.GetDeploymentInput, ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	if f.deploymentErr != nil {
		return nil, f.deploymentErr
	}
	return f.deployment, nil
}
func (f *fakeDeploy) GetDeploymentGroup(context.Context, *codedeploy.GetDeploymentGroupInput, ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error) {
	return f.group, nil
}
func (f *fakeDeploy) ListDeployments(context.Context, *codedeploy.ListDeploymentsInput, ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return f.list, nil
}
func (f *fakeDeploy) StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error) {
	f.stops = append(f.stops, in)
	if f.stopVia != nil {
		return f.stopVia.StopDeployment(ctx, in, optFns...)
	}
	return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusPending}, nil
}

// fakeAlarms reports the named alarms in ALARM.
type fakeAlarms struct{ firing []cwtypes.MetricAlarm }

var _ AlarmAPI = (*fakeAlarms)(nil)

func (f *fakeAlarms) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: f.firing}, nil
}

// fakeClaims is the state table in memory, with Release.
type fakeClaims struct {
	mu      sync.Mutex
	claimed map[string]bool
}

var (
	_ triage.Claimer = (*fakeClaims)(nil)
	_ Releaser       = (*fakeClaims)(nil)
)

func (f *fakeClaims) Claim(_ context.Context, key string, _ time.Duration, _ map[string]string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claimed[key] {
		return false, nil
	}
	if f.claimed == nil {
		f.claimed = map[string]bool{}
	}
	f.claimed[key] = true
	return true, nil
}

func (f *fakeClaims) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err // as DynamoDB's DeleteItem fails on an ended context
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.claimed, key)
	return nil
}

// recordingRemediator records the alarm state changes it was handed.
type recordingRemediator struct {
	out    string
	alarms []string
}

var _ Remediator = (*recordingRemediator)(nil)

func (f *recordingRemediator) Remediate(_ context.Context, a contract.Alarm) (string, error) {
	f.alarms = append(f.alarms, a.Name+" "+a.NewState)
	return f.out, nil
}

var cmpIgnoreSmithy = cmpopts.IgnoreUnexported(codepipeline.RollbackStageInput{}, codedeploy.StopDeploymentInput{})

type rig struct {
	h        *Handler
	logs     *bytes.Buffer
	slept    []time.Duration
	sns      *fakeSNS
	pipeline *fakePipeline
	deploy   *fakeDeploy
	claims   *fakeClaims
	metrics  *bytes.Buffer
}

func topicARN(k notify.Kind) string {
	return "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{sns: &fakeSNS{}, claims: &fakeClaims{}, metrics: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	r.pipeline = &fakePipeline{
		execution: &codepipeline.GetPipelineExecutionOutput{PipelineExecution: &cptypes.PipelineExecution{
			Status: cptypes.PipelineExecutionStatusFailed, StatusSummary: aws.String("Stage Build failed: action UnitTests failed"),
		}},
		actions: &codepipeline.ListActionExecutionsOutput{ActionExecutionDetails: []cptypes.ActionExecutionDetail{
			{StageName: aws.String("Source"), ActionName: aws.String("Source"), Status: cptypes.ActionExecutionStatusSucceeded},
			{
				StageName: aws.String("Build"), ActionName: aws.String("UnitTests"), Status: cptypes.ActionExecutionStatusFailed,
				Input: &cptypes.ActionExecutionInput{ActionTypeId: &cptypes.ActionTypeId{Provider: aws.String("CodeBuild")}},
				Output: &cptypes.ActionExecutionOutput{ExecutionResult: &cptypes.ActionExecutionResult{
					ExternalExecutionSummary: aws.String("Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR"),
					ExternalExecutionUrl:     aws.String("https://us-east-1.console.aws.amazon.com/codebuild/home?region=us-east-1#/builds/prod-api-build:6f7a2b6e-EXAMPLE/view/new"),
					ErrorDetails:             &cptypes.ErrorDetails{Code: aws.String("JobFailed")},
				}},
			},
			verifyAction(cptypes.ActionExecutionStatusFailed, "postdeploy-verify"),
		}},
		executions: &codepipeline.ListPipelineExecutionsOutput{PipelineExecutionSummaries: []cptypes.PipelineExecutionSummary{
			{PipelineExecutionId: aws.String("3c81b4fe-6a4b-4f58-9c87-EXAMPLE")},
			{PipelineExecutionId: aws.String("2b70a3ed-last-good")},
		}},
		pipeline: &codepipeline.GetPipelineOutput{Pipeline: &cptypes.PipelineDeclaration{Stages: []cptypes.StageDeclaration{{
			Name: aws.String("Deploy"),
			Actions: []cptypes.ActionDeclaration{{
				Name:          aws.String("Deploy"),
				ActionTypeId:  &cptypes.ActionTypeId{Provider: aws.String("CodeDeployToECS")},
				Configuration: map[string]string{"ApplicationName": "prod-api", "DeploymentGroupName": "prod-api-dg"},
			}},
		}}}},
	}
	r.deploy = &fakeDeploy{
		deployment: &codedeploy.GetDeploymentOutput{DeploymentInfo: &cdtypes.DeploymentInfo{
			ErrorInformation:   &cdtypes.ErrorInformation{Code: cdtypes.ErrorCodeAlarmActive, Message: aws.String("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped.")},
			RollbackInfo:       &cdtypes.RollbackInfo{RollbackDeploymentId: aws.String("d-ROLLBACK1"), RollbackMessage: aws.String("Automatic rollback triggered by alarm")},
			DeploymentOverview: &cdtypes.DeploymentOverview{Succeeded: 1, Failed: 2},
		}},
		group: &codedeploy.GetDeploymentGroupOutput{DeploymentGroupInfo: &cdtypes.DeploymentGroupInfo{AlarmConfiguration: &cdtypes.AlarmConfiguration{
			Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("prod-api-5xx-rate")}, {Name: aws.String("prod-api-latency-p99")}},
		}}},
		list: &codedeploy.ListDeploymentsOutput{Deployments: []string{"d-INFLIGHT1"}},
	}
	since := time.Date(2026, 11, 22, 2, 44, 10, 0, time.UTC)
	m := telemetry.NewMetrics("Postdeploy", r.metrics)
	m.Now = func() time.Time { return testNow }
	topics := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		topics[k] = topicARN(k)
	}
	r.h = &Handler{
		Log:      slog.New(slog.NewJSONHandler(r.logs, nil)),
		Metrics:  m,
		Notify:   notify.Router{API: r.sns, Topics: topics},
		Pipeline: r.pipeline,
		Deploy:   r.deploy,
		Alarms: &fakeAlarms{firing: []cwtypes.MetricAlarm{{
			AlarmName: aws.String("prod-api-5xx-rate"), StateReason: aws.String("Threshold Crossed: 2 datapoints [7.1, 9.4] were greater than the threshold (5.0)."), StateUpdatedTimestamp: &since,
		}}},
		Claims:         r.claims,
		RunbookBaseURL: "https://runbooks.example.com/postdeploy",
		VerifyFunction: "postdeploy-verify",
		Now:            func() time.Time { return testNow },
	}
	r.h.sleep = func(ctx context.Context, d time.Duration) error {
		r.slept = append(r.slept, d)
		return ctx.Err()
	}
	return r
}

// verifyAction is the verify action of the sample execution as
// ListActionExecutions reports it: an AWS Lambda Invoke action
// (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html)
// whose configuration names the function it invokes.
func verifyAction(status cptypes.ActionExecutionStatus, function string) cptypes.ActionExecutionDetail {
	start := testNow.Add(-10 * time.Minute)
	return cptypes.ActionExecutionDetail{
		PipelineExecutionId: aws.String(knownExecution), ActionExecutionId: aws.String("a1b2c3d4-verify"),
		StageName: aws.String("Deploy"), ActionName: aws.String("Verify"), Status: status, StartTime: &start,
		Input: &cptypes.ActionExecutionInput{
			ActionTypeId:  &cptypes.ActionTypeId{Owner: cptypes.ActionOwnerAws, Category: cptypes.ActionCategoryInvoke, Provider: aws.String("Lambda"), Version: aws.String("1")},
			Configuration: map[string]string{"FunctionName": function, "UserParameters": "spec: ssm:/postdeploy/prod-api"},
		},
	}
}

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatalf("read sample event: %v", err)
	}
	return b
}

// invoke runs the whole JSON path, as the Lambda runtime does:
// functions/respond starts the *Handler itself, a lambda.Handler, so the
// runtime hands it the raw payload (payload.go).
func (r *rig) invoke(t testing.TB, payload []byte) error {
	t.Helper()
	_, err := lambda.NewHandler(r.h).Invoke(context.Background(), payload)
	return err
}

// metric sums the values of name in the EMF records, for records whose
// dimension dim has value val.
func (r *rig) metric(name, dim, val string) float64 {
	var sum float64
	for line := range strings.SplitSeq(strings.TrimSpace(r.metrics.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if v, ok := rec[name].(float64); ok && rec[dim] == val {
			sum += v
		}
	}
	return sum
}

func TestHandleRoutesEachEvent(t *testing.T) {
	tests := []struct {
		file      string
		kind      notify.Kind
		subject   string
		eventKind string
		wantAttrs map[string]string
	}{
		{"respond-alarm-cpu.json", notify.HighCPU, "[HIGH] ALARM: prod-api-high-cpu", kindAlarm, map[string]string{"severity": "HIGH", "kind": "high-cpu"}},
		{"respond-alarm-errors.json", notify.Application, "[HIGH] ALARM: prod-api-5xx-rate", kindAlarm, map[string]string{"kind": "application"}},
		{"respond-pipeline-failed.json", notify.Deployments, "[HIGH] Pipeline prod-api failed at Build/UnitTests", kindPipeline, map[string]string{"service": "prod-api"}},
		{"respond-pipeline-action-failed.json", notify.Deployments, "[HIGH] Pipeline prod-api failed at Build/UnitTests", kindPipeline, nil},
		{"respond-pipeline-action-failed-cross-region.json", notify.Deployments, "[HIGH] Pipeline prod-api failed at DeployWest/Deploy", kindPipeline, nil},
		{"respond-codedeploy-failure.json", notify.Deployments, "[HIGH] Deployment d-123456789 of prod-api/prod-api-dg failed", kindDeployment, nil},
		{"respond-codebuild-failed.json", notify.Deployments, "[HIGH] Build of prod-api-build failed", kindBuild, nil},
		{"respond-verify-failed.json", notify.Deployments, "[HIGH] Verification failed for prod-api: api-health", kindVerification, map[string]string{"verdict": "Failed"}},
		{"respond-ecr-scan.json", notify.Security, "[P2 CRITICAL] ECR scan of prod-api@sha256:7f5b2640fe6f: 2 CRITICAL, 5 HIGH, 15 more", kindFinding, map[string]string{"priority": "P2"}},
		{"respond-inspector-finding.json", notify.Security, "[P1 CRITICAL] CVE-2022-3602 - openssl on prod-api@sha256:7f5b2640fe6f", kindFinding, map[string]string{"priority": "P1", "severity": "CRITICAL", "source": "inspector2"}},
		{"respond-inspector-finding-low.json", notify.Security, "[P4 LOW] CVE-2023-29383 - shadow-utils on internal-tools@sha256:1b2c3d4e5f60", kindFinding, map[string]string{"priority": "P4"}},
		{"respond-inspector-scan.json", notify.Security, "[P2 CRITICAL] Inspector scan of prod-api@sha256:7f5b2640fe6f: 1 CRITICAL, 4 HIGH, 9 more", kindFinding, nil},
		{"respond-guardduty-finding.json", notify.Security, "[P2 HIGH] Bitcoin-related domain name queried by EC2 instance i-0a1b2c3d4e5f67890", kindFinding, nil},
		{"respond-securityhub-asff.json", notify.Security, "[P2 HIGH] S3 general purpose buckets should block public access on prod-api-uploads", kindFinding, nil},
		{"respond-securityhub-ocsf.json", notify.Security, "[P2 HIGH] CVE-2024-6387 - openssh on i-0fedcba9876543210", kindFinding, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := newRig(t)
			if err := r.invoke(t, readEvent(t, tt.file)); err != nil {
				t.Fatalf("Invoke(%s) error: %v", tt.file, err)
			}
			if len(r.sns.in) != 1 {
				t.Fatalf("Invoke(%s) published %d messages; want 1", tt.file, len(r.sns.in))
			}
			in := r.sns.in[0]
			if got := aws.ToString(in.TopicArn); got != topicARN(tt.kind) {
				t.Errorf("Invoke(%s) published to %s; want the %s topic", tt.file, got, tt.kind)
			}
			if got := aws.ToString(in.Subject); got != tt.subject {
				t.Errorf("Invoke(%s) subject = %q; want %q", tt.file, got, tt.subject)
			}
			if n := len([]rune(aws.ToString(in.Subject))); n > notify.MaxSubject {
				t.Errorf("subject has %d characters; SNS allows %d", n, notify.MaxSubject)
			}
			for k, want := range tt.wantAttrs {
				if got := aws.ToString(in.MessageAttributes[k].StringValue); got != want {
					t.Errorf("attribute %s = %q; want %q", k, got, want)
				}
			}
			if got := r.metric(telemetry.MetricEventsHandled, "Kind", tt.eventKind); got != 1 {
				t.Errorf("EventsHandled{Kind=%s} = %v; want 1", tt.eventKind, got)
			}
			if got := r.metric(telemetry.MetricNotificationsSent, "Kind", string(tt.kind)); got != 1 {
				t.Errorf("NotificationsSent{Kind=%s} = %v; want 1", tt.kind, got)
			}
			golden.Check(t, "testdata/"+strings.TrimSuffix(tt.file, ".json")+".txt", aws.ToString(in.Message))
		})
	}
}

func TestHandleDropsUnknownAndMalformed(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		metric  string
		source  string
	}{
		{"unknown detail-type", readEvent(t, "respond-unknown.json"), telemetry.MetricEventsUnhandled, "aws.ec2"},
		{"GuardDuty severity that is not a number", readEvent(t, "respond-malformed.json"), telemetry.MetricEventsMalformed, "aws.guardduty"},
		{"verification with an unknown verdict", []byte(`{"source":"postdeploy.verify","detail-type":"Post-Deploy Verification Completed","detail":{"verdict":"Maybe","pipeline":"p"}}`), telemetry.MetricEventsMalformed, "postdeploy.verify"},
		{"pipeline event without execution id", []byte(`{"source":"aws.codepipeline","detail-type":"CodePipeline Pipeline Execution State Change","detail":{"pipeline":"p","state":"FAILED"}}`), telemetry.MetricEventsMalformed, "aws.codepipeline"},
		{"alarm detail that is a string", []byte(`{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":"ALARM"}`), telemetry.MetricEventsMalformed, "aws.cloudwatch"},
		{"envelope whose time does not parse", []byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","time":"yesterday","detail":{}}`), telemetry.MetricEventsMalformed, "aws.guardduty"},
		{"build with a bad timestamp", []byte(`{"source":"aws.codebuild","detail-type":"CodeBuild Build State Change","detail":{"build-status":"FAILED","project-name":"p","additional-information":{"build-start-time":"yesterday"}}}`), telemetry.MetricEventsMalformed, "aws.codebuild"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if err := r.invoke(t, tt.payload); err != nil {
				t.Fatalf("Invoke = %v; want nil (dropped, not retried)", err)
			}
			if len(r.sns.in) != 0 {
				t.Errorf("published %d messages; want none", len(r.sns.in))
			}
			if got := r.metric(tt.metric, "Source", tt.source); got != 1 {
				t.Errorf("%s{Source=%s} = %v; want 1", tt.metric, tt.source, got)
			}
		})
	}
}

func TestAlarmRedeliveryNotifiedOnce(t *testing.T) {
	r := newRig(t)
	ev := readEvent(t, "respond-alarm-cpu.json")
	for range 2 {
		if err := r.invoke(t, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.sns.in) != 1 {
		t.Errorf("the same alarm transition delivered twice published %d messages; want 1", len(r.sns.in))
	}
}

func TestDuplicateFindingNotRenotified(t *testing.T) {
	r := newRig(t)
	ev := readEvent(t, "respond-inspector-finding.json")
	for i := range 3 {
		if err := r.invoke(t, ev); err != nil {
			t.Fatalf("Invoke #%d error: %v", i+1, err)
		}
	}
	if len(r.sns.in) != 1 {
		t.Errorf("the same finding 3 times published %d messages; want 1", len(r.sns.in))
	}
	if got := r.metric(telemetry.MetricFindings, "Priority", "P1"); got != 3 {
		t.Errorf("Findings{Priority=P1} = %v; want 3 (every sighting counted)", got)
	}
}

func TestPipelineFailureNotifiedOnce(t *testing.T) {
	r := newRig(t)
	for _, f := range []string{"respond-pipeline-action-failed.json", "respond-pipeline-failed.json"} {
		if err := r.invoke(t, readEvent(t, f)); err != nil {
			t.Fatalf("Invoke(%s) error: %v", f, err)
		}
	}
	if len(r.sns.in) != 1 {
		t.Errorf("action and execution failure of one execution published %d messages; want 1", len(r.sns.in))
	}
}

func TestVerificationRollbackPolicy(t *testing.T) {
	ev := readEvent(t, "respond-verify-failed.json")
	t.Run("rollback-stage rolls back to the last good execution", func(t *testing.T) {
		r := newRig(t)
		r.h.RollbackPolicy = config.RollbackStage
		if err := r.invoke(t, ev); err != nil {
			t.Fatal(err)
		}
		want := []*codepipeline.RollbackStageInput{{PipelineName: aws.String("prod-api"), StageName: aws.String("Deploy"), TargetPipelineExecutionId: aws.String("2b70a3ed-last-good")}}
		if diff := cmp.Diff(want, r.pipeline.rollbacks, cmpIgnoreSmithy); diff != "" {
			t.Errorf("RollbackStage calls mismatch (-want +got):\n%s", diff)
		}
		if body := aws.ToString(r.sns.in[0].Message); !strings.Contains(body, "rolling back to execution 2b70a3ed-last-good") {
			t.Errorf("message does not say it rolled back:\n%s", body)
		}
		// The same event again (EventBridge delivers at least once): no second rollback.
		if err := r.invoke(t, ev); err != nil {
			t.Fatal(err)
		}
		if len(r.pipeline.rollbacks) != 1 || len(r.sns.in) != 1 {
			t.Errorf("redelivered event: %d rollbacks, %d messages; want 1 and 1", len(r.pipeline.rollbacks), len(r.sns.in))
		}
	})
	t.Run("stop-deployment stops the stage's in-flight deployment with rollback", func(t *testing.T) {
		r := newRig(t)
		r.h.RollbackPolicy = config.RollbackStopDeployment
		if err := r.invoke(t, ev); err != nil {
			t.Fatal(err)
		}
		want := []*codedeploy.StopDeploymentInput{{DeploymentId: aws.String("d-INFLIGHT1"), AutoRollbackEnabled: aws.Bool(true)}}
		if diff := cmp.Diff(want, r.deploy.stops, cmpIgnoreSmithy); diff != "" {
			t.Errorf("StopDeployment calls mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("a failed rollback is reported in the message", func(t *testing.T) {
		r := newRig(t)
		r.h.RollbackPolicy = config.RollbackStage
		r.pipeline.rollbackErr = errors.New("AccessDeniedException: not authorized to perform codepipeline:RollbackStage")
		if err := r.invoke(t, ev); err != nil {
			t.Fatal(err)
		}
		if body := aws.ToString(r.sns.in[0].Message); !strings.Contains(body, "Automatic rollback FAILED") || !strings.Contains(body, "AccessDenied") {
			t.Errorf("message does not report the failed rollback:\n%s", body)
		}
	})
}

func TestVerificationVerdicts(t *testing.T) {
	mk := func(v string) []byte {
		return []byte(`{"source":"postdeploy.verify","detail-type":"Post-Deploy Verification Completed","region":"us-east-1","detail":{"verdict":"` + v +
			`","pipeline":"prod-api","executionId":"e-` + v + `","stage":"Deploy","summary":"error-rate had 1 of 3 samples","checks":[{"check":"error-rate","kind":"metric","verdict":"Inconclusive","observed":"1 data point","expected":"minSamples 3"}]}}`)
	}
	tests := []struct {
		verdict     string
		wantSubject string
	}{
		{"Succeeded", ""},
		{"Inconclusive", "[MEDIUM] Verification inconclusive for prod-api"},
		{"Error", "[MEDIUM] Verification error for prod-api"},
	}
	for _, tt := range tests {
		t.Run(tt.verdict, func(t *testing.T) {
			r := newRig(t)
			r.h.RollbackPolicy = config.RollbackStage
			if err := r.invoke(t, mk(tt.verdict)); err != nil {
				t.Fatal(err)
			}
			if len(r.pipeline.rollbacks) != 0 {
				t.Errorf("verdict %s rolled back; only Failed may", tt.verdict)
			}
			switch {
			case tt.wantSubject == "" && len(r.sns.in) != 0:
				t.Errorf("verdict %s published %q; want nothing", tt.verdict, aws.ToString(r.sns.in[0].Subject))
			case tt.wantSubject != "" && (len(r.sns.in) != 1 || aws.ToString(r.sns.in[0].Subject) != tt.wantSubject):
				t.Errorf("verdict %s published %d messages; want one titled %q", tt.verdict, len(r.sns.in), tt.wantSubject)
			}
		})
	}
}

func TestPublishFailureIsRetriedAndReleasesClaim(t *testing.T) {
	r := newRig(t)
	r.sns.err = errors.New("ThrottledException: rate exceeded")
	ev := readEvent(t, "respond-inspector-finding.json")
	if err := r.invoke(t, ev); err == nil {
		t.Fatal("Invoke with SNS failing = nil; want an error so Lambda retries")
	}
	r.sns.err = nil
	if err := r.invoke(t, ev); err != nil {
		t.Fatalf("retry error: %v", err)
	}
	if len(r.sns.in) != 1 {
		t.Errorf("retry published %d messages; want 1 (the claim was released)", len(r.sns.in))
	}
}

func TestMinPriorityFloor(t *testing.T) {
	r := newRig(t)
	r.h.MinPriority = triage.P3
	if err := r.invoke(t, readEvent(t, "respond-inspector-finding-low.json")); err != nil {
		t.Fatal(err)
	}
	if len(r.sns.in) != 0 {
		t.Errorf("a P4 finding under a P3 floor published %d messages; want none", len(r.sns.in))
	}
	if got := r.metric(telemetry.MetricFindings, "Priority", "P4"); got != 1 {
		t.Errorf("Findings{Priority=P4} = %v; want 1 (counted even when not notified)", got)
	}
}

func TestAlarmGoesToRemediation(t *testing.T) {
	r := newRig(t)
	rem := &recordingRemediator{out: "scaled prod-api-asg from 4 to 6 instances"}
	r.h.Remediator = rem
	if err := r.invoke(t, readEvent(t, "respond-alarm-cpu.json")); err != nil {
		t.Fatal(err)
	}
	if len(rem.alarms) != 1 || rem.alarms[0] != "prod-api-high-cpu ALARM" {
		t.Errorf("remediator got %v; want the alarm's state change", rem.alarms)
	}
	if body := aws.ToString(r.sns.in[0].Message); !strings.Contains(body, "Automatic remediation: scaled prod-api-asg") {
		t.Errorf("message does not report the remediation:\n%s", body)
	}
}

// TestPipelineLinksUseThePipelinesRegion: a cross-region action's event
// carries the action's region in detail.region and the pipeline's in the
// envelope (aws-lambda-go's codepipeline-action-execution-stage-change
// sample; "Monitoring CodePipeline events"). The execution's console link
// is in the pipeline's region, and the message names the action as
// cross-region, for action events and for execution events whose failed
// action ListActionExecutions reports in another region.
func TestPipelineLinksUseThePipelinesRegion(t *testing.T) {
	const link = "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/prod-api/executions/3c81b4fe-6a4b-4f58-9c87-EXAMPLE/timeline?region=us-east-1"
	t.Run("action event", func(t *testing.T) {
		r := newRig(t)
		if err := r.invoke(t, readEvent(t, "respond-pipeline-action-failed-cross-region.json")); err != nil {
			t.Fatal(err)
		}
		body := aws.ToString(r.sns.in[0].Message)
		for _, want := range []string{"Execution: " + link, "(CodeDeploy, a cross-region action in us-west-2)", "the failed action ran in us-west-2 (cross-region action)"} {
			if !strings.Contains(body, want) {
				t.Errorf("message lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "us-west-2.console.aws.amazon.com/codesuite/codepipeline") {
			t.Errorf("pipeline console link in the action's region:\n%s", body)
		}
	})
	t.Run("execution event", func(t *testing.T) {
		r := newRig(t)
		failed := &r.pipeline.actions.ActionExecutionDetails[1]
		failed.Input.Region = aws.String("eu-west-1")
		if err := r.invoke(t, readEvent(t, "respond-pipeline-failed.json")); err != nil {
			t.Fatal(err)
		}
		body := aws.ToString(r.sns.in[0].Message)
		for _, want := range []string{"Execution: " + link, "a cross-region action in eu-west-1"} {
			if !strings.Contains(body, want) {
				t.Errorf("message lacks %q:\n%s", want, body)
			}
		}
	})
}

// TestDeploymentAlarmsLookedUpWhenGetDeploymentFails: when CodeDeploy's
// GetDeployment fails (throttled, denied), the deployment group's alarms
// in ALARM — often why the deployment stopped — are still looked up from
// the application and group the event names.
func TestDeploymentAlarmsLookedUpWhenGetDeploymentFails(t *testing.T) {
	r := newRig(t)
	r.deploy.deploymentErr = errors.New("operation error CodeDeploy: GetDeployment, ThrottlingException: Rate exceeded")
	if err := r.invoke(t, readEvent(t, "respond-codedeploy-failure.json")); err != nil {
		t.Fatal(err)
	}
	body := aws.ToString(r.sns.in[0].Message)
	for _, want := range []string{"Could not look up deployment d-123456789: operation error CodeDeploy: GetDeployment, ThrottlingException", "Alarms in ALARM that stop this deployment: prod-api-5xx-rate: Threshold Crossed"} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %q:\n%s", want, body)
		}
	}
}
