package respond

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// verifyEvent is events/respond-verify-failed.json with detail fields
// replaced (nil deletes one) and, when id is set, another event id.
func verifyEvent(t testing.TB, id string, detail map[string]any) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "respond-verify-failed.json"), &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	for k, v := range detail {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = v
	}
	if id != "" {
		ev["id"] = id
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listed(axs ...cptypes.ActionExecutionDetail) *codepipeline.ListActionExecutionsOutput {
	return &codepipeline.ListActionExecutionsOutput{ActionExecutionDetails: axs}
}

// TestVerificationRollbackConfirmedByCodePipeline: respond rolls back only
// when CodePipeline confirms, through GetPipelineExecution and
// ListActionExecutions filtered by pipelineExecutionId
// (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html),
// that the event's action failed (ActionExecutionDetail.status Failed,
// https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html)
// and is an AWS Lambda Invoke of the verify function (FunctionName,
// https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html).
// Anything else is "refused: <reason>": no RollbackStage or
// StopDeployment, logged, counted, and stated in the notification.
func TestVerificationRollbackConfirmedByCodePipeline(t *testing.T) {
	older, newer := testNow.Add(-20*time.Minute), testNow.Add(-5*time.Minute)
	failedThenRetried := verifyAction(cptypes.ActionExecutionStatusFailed, "postdeploy-verify")
	failedThenRetried.StartTime = &older
	retry := verifyAction(cptypes.ActionExecutionStatusSucceeded, "postdeploy-verify")
	retry.StartTime = &newer
	codeBuild := verifyAction(cptypes.ActionExecutionStatusFailed, "")
	codeBuild.Input.ActionTypeId = &cptypes.ActionTypeId{Owner: cptypes.ActionOwnerAws, Category: cptypes.ActionCategoryTest, Provider: aws.String("CodeBuild"), Version: aws.String("1")}
	resolvedARN := verifyAction(cptypes.ActionExecutionStatusFailed, "#{variables.fn}")
	resolvedARN.Input.ResolvedConfiguration = map[string]string{"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify"}

	tests := []struct {
		name     string
		policy   string
		detail   map[string]any
		answers  []*codepipeline.ListActionExecutionsOutput
		pipeErr  error
		verifyFn string
		// wantRefused is a fragment of the refusal; "" means CodePipeline
		// confirms and respond acts.
		wantRefused string
		wantSleeps  int
	}{
		{name: "Failed Invoke of the verify function rolls back", policy: config.RollbackStage},
		{name: "FunctionName as the verify function's ARN in resolvedConfiguration", policy: config.RollbackStage,
			answers: []*codepipeline.ListActionExecutionsOutput{listed(resolvedARN)}},
		{name: "InProgress then Failed: re-read until CodePipeline settles", policy: config.RollbackStage,
			answers: []*codepipeline.ListActionExecutionsOutput{
				listed(verifyAction(cptypes.ActionExecutionStatusInProgress, "postdeploy-verify")),
				listed(verifyAction(cptypes.ActionExecutionStatusFailed, "postdeploy-verify")),
			}, wantSleeps: 1},
		{name: "execution unknown to CodePipeline (PipelineExecutionNotFoundException)", policy: config.RollbackStage,
			detail: map[string]any{"executionId": "0badf00d-0000-4000-8000-000000000000"}, wantRefused: "does not confirm execution 0badf00d"},
		{name: "pipeline unknown in this account and region (PipelineNotFoundException)", policy: config.RollbackStage,
			pipeErr: &cptypes.PipelineNotFoundException{Message: aws.String("Account '123456789012' does not have a pipeline with name 'prod-api'")}, wantRefused: "PipelineNotFoundException"},
		{name: "action not in the execution", policy: config.RollbackStage,
			detail: map[string]any{"action": "Approve"}, wantRefused: "lists no action Deploy/Approve"},
		{name: "action Succeeded", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusSucceeded, "postdeploy-verify"))},
			wantRefused: "as Succeeded, not Failed"},
		{name: "action still InProgress after every re-read", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusInProgress, "postdeploy-verify"))},
			wantRefused: "as InProgress, not Failed", wantSleeps: len(confirmBackoff)},
		{name: "action Abandoned", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusAbandoned, "postdeploy-verify"))},
			wantRefused: "as Abandoned, not Failed"},
		{name: "latest attempt of a retried action Succeeded", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(retry, failedThenRetried)},
			wantRefused: "as Succeeded, not Failed"},
		{name: "a CodeBuild test action, not an Invoke", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(codeBuild)},
			wantRefused: "AWS/Test/CodeBuild action, not an AWS Lambda Invoke"},
		{name: "Invoke of another function", policy: config.RollbackStage,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusFailed, "someone-elses-function"))},
			wantRefused: `invokes function "someone-elses-function", not the verify function "postdeploy-verify"`},
		{name: "Invoke of a same-named function in another account", policy: config.RollbackStage,
			verifyFn:    "arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify",
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusFailed, "arn:aws:lambda:us-east-1:210987654321:function:postdeploy-verify"))},
			wantRefused: "not the verify function"},
		{name: "event names no action", policy: config.RollbackStage,
			detail: map[string]any{"action": nil}, wantRefused: "does not name the pipeline execution, stage and action"},
		{name: "no verify function configured", policy: config.RollbackStage, verifyFn: "-",
			wantRefused: "no verify function configured"},
		{name: "stop-deployment confirmed stops the deployment", policy: config.RollbackStopDeployment},
		{name: "stop-deployment refused stops nothing", policy: config.RollbackStopDeployment,
			answers:     []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusSucceeded, "postdeploy-verify"))},
			wantRefused: "as Succeeded, not Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.h.RollbackPolicy = tt.policy
			r.pipeline.listAnswers = tt.answers
			switch tt.verifyFn {
			case "":
			case "-":
				r.h.VerifyFunction = ""
			default:
				r.h.VerifyFunction = tt.verifyFn
			}
			if tt.pipeErr != nil {
				r.pipeline.err = tt.pipeErr
			}
			if err := r.invoke(t, verifyEvent(t, "", tt.detail)); err != nil {
				t.Fatalf("Invoke = %v; want nil", err)
			}
			if len(r.sns.in) != 1 {
				t.Fatalf("published %d messages; want 1 (the verification is notified either way)", len(r.sns.in))
			}
			body := aws.ToString(r.sns.in[0].Message)
			acted := len(r.pipeline.rollbacks) + len(r.deploy.stops)
			if tt.wantRefused == "" {
				if acted != 1 {
					t.Errorf("CodePipeline confirms the failure: %d RollbackStage/StopDeployment calls; want 1\n%s\nlogs:\n%s", acted, body, r.logs)
				}
				if strings.Contains(body, "refused") {
					t.Errorf("message says refused although CodePipeline confirms:\n%s", body)
				}
			} else {
				if acted != 0 {
					t.Errorf("%d RollbackStage/StopDeployment calls; want none (refused: %s)", acted, tt.wantRefused)
				}
				if !strings.Contains(body, "Automatic rollback refused: ") || !strings.Contains(body, tt.wantRefused) {
					t.Errorf("message does not state the refusal %q:\n%s", tt.wantRefused, body)
				}
				if !strings.Contains(r.logs.String(), `"decision":"refused: `) {
					t.Errorf("no rollback decision \"refused: …\" logged:\n%s", r.logs)
				}
				if got := r.metric(telemetry.MetricRollbacks, "Decision", "refused"); got != 1 {
					t.Errorf("Rollbacks{Decision=refused} = %v; want 1", got)
				}
			}
			if len(r.slept) != tt.wantSleeps {
				t.Errorf("waited %d times between CodePipeline reads (%v); want %d", len(r.slept), r.slept, tt.wantSleeps)
			}
		})
	}
}

// TestForgedVerificationDoesNotBlockTheGenuineOne: a forged event naming
// a real execution, refused while the verify action is still running,
// must not take the claim the genuine Failed verdict needs to roll back.
func TestForgedVerificationDoesNotBlockTheGenuineOne(t *testing.T) {
	r := newRig(t)
	r.h.RollbackPolicy = config.RollbackStage
	r.pipeline.listAnswers = []*codepipeline.ListActionExecutionsOutput{listed(verifyAction(cptypes.ActionExecutionStatusInProgress, "postdeploy-verify"))}
	if err := r.invoke(t, verifyEvent(t, "forged-0000", nil)); err != nil {
		t.Fatal(err)
	}
	if len(r.pipeline.rollbacks) != 0 {
		t.Fatalf("forged event rolled back %d times; want 0", len(r.pipeline.rollbacks))
	}
	r.pipeline.listAnswers = nil // verify reports Failed
	if err := r.invoke(t, readEvent(t, "respond-verify-failed.json")); err != nil {
		t.Fatal(err)
	}
	if len(r.pipeline.rollbacks) != 1 {
		t.Errorf("genuine verdict after a forged one rolled back %d times; want 1\nlogs:\n%s", len(r.pipeline.rollbacks), r.logs)
	}
	if got := r.metric(telemetry.MetricRollbacks, "Decision", "rolled back"); got != 1 {
		t.Errorf("Rollbacks{Decision=rolled back} = %v; want 1", got)
	}
}

func TestSameFunction(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"postdeploy-verify", "postdeploy-verify", true},
		{"postdeploy-verify:live", "postdeploy-verify", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify", "postdeploy-verify", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify:3", "123456789012:function:postdeploy-verify", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:postdeploy-verify", "arn:aws:lambda:eu-west-1:123456789012:function:postdeploy-verify", false},
		{"210987654321:function:postdeploy-verify", "123456789012:function:postdeploy-verify", false},
		{"postdeploy-verify-2", "postdeploy-verify", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := sameFunction(tt.a, tt.b); got != tt.want {
			t.Errorf("sameFunction(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
