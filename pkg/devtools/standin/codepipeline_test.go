package standin

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCodePipelineJobReporting(t *testing.T) {
	s := startServer(t, Scenario{Jobs: []Job{{ID: "job-1", PipelineName: "app", StageName: "Deploy", ActionName: "Verify",
		UserParameters: `{"bake":"1m"}`, FunctionName: "verify",
		InputArtifacts: []ArtifactRef{{Name: "src", Bucket: "artifacts", Key: "app/src.zip"}}}}})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)

	det, err := cp.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("job-1")})
	if err != nil {
		t.Fatalf("GetJobDetails: %v", err)
	}
	d := det.JobDetails.Data
	if got := aws.ToString(d.PipelineContext.PipelineName); got != "app" {
		t.Errorf("GetJobDetails pipeline = %q; want app", got)
	}
	if got := d.ActionConfiguration.Configuration["UserParameters"]; got != `{"bake":"1m"}` {
		t.Errorf("GetJobDetails UserParameters = %q; want the seeded JSON", got)
	}
	if len(d.InputArtifacts) != 1 || aws.ToString(d.InputArtifacts[0].Location.S3Location.ObjectKey) != "app/src.zip" {
		t.Errorf("GetJobDetails input artifacts = %+v; want one at app/src.zip", d.InputArtifacts)
	}

	// Still baking: success with a continuation token keeps the job open.
	if _, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
		JobId: aws.String("job-1"), ContinuationToken: aws.String(`{"n":1}`),
		ExecutionDetails: &cptypes.ExecutionDetails{Summary: aws.String("baking 1/3")},
	}); err != nil {
		t.Fatalf("PutJobSuccessResult with continuation token: %v", err)
	}
	if j, _ := s.Job("job-1"); j.Status != "InProgress" {
		t.Errorf("after a continuation report, job status = %q; want InProgress", j.Status)
	}
	// Done.
	if _, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
		JobId: aws.String("job-1"), ExecutionDetails: &cptypes.ExecutionDetails{Summary: aws.String("all checks passed")},
		OutputVariables: map[string]string{"verdict": "Succeeded"},
	}); err != nil {
		t.Fatalf("final PutJobSuccessResult: %v", err)
	}
	// A second terminal report is refused with the typed error.
	_, err = cp.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
		JobId:          aws.String("job-1"),
		FailureDetails: &cptypes.FailureDetails{Type: cptypes.FailureTypeJobFailed, Message: aws.String("late")},
	})
	var ij *cptypes.InvalidJobStateException
	if !errors.As(err, &ij) {
		t.Fatalf("second terminal report error = %v (%T); want *types.InvalidJobStateException", err, err)
	}

	j, ok := s.Job("job-1")
	if !ok {
		t.Fatal("Job(job-1) not tracked")
	}
	want := JobState{ID: "job-1", Status: "Succeeded", Reports: []JobReport{
		{Time: testNow, Kind: "success", ContinuationToken: `{"n":1}`, Summary: "baking 1/3"},
		{Time: testNow, Kind: "success", Summary: "all checks passed", OutputVariables: map[string]string{"verdict": "Succeeded"}},
	}}
	if diff := cmp.Diff(want, j, cmpopts.IgnoreUnexported(JobState{})); diff != "" {
		t.Errorf("Job(job-1) mismatch (-want +got):\n%s", diff)
	}
	calls := s.CallsTo(CodePipeline, "PutJobFailureResult")
	if len(calls) != 1 || calls[0].ErrorCode != "InvalidJobStateException" || calls[0].Protocol != ProtoJSON11 {
		t.Errorf("recorded PutJobFailureResult calls = %+v; want one awsJson1_1 call answered InvalidJobStateException", calls)
	}
	if got := calls[0].Input["jobId"]; got != "job-1" {
		t.Errorf("recorded input jobId = %v; want job-1", got)
	}
}

func TestCodePipelineFailureThenReport(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	// Unknown jobs are tracked from their first report.
	if _, err := cp.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
		JobId:          aws.String("job-x"),
		FailureDetails: &cptypes.FailureDetails{Type: cptypes.FailureTypeConfigurationError, Message: aws.String("checks[0].http.url: must be https")},
	}); err != nil {
		t.Fatalf("PutJobFailureResult: %v", err)
	}
	_, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("job-x")})
	var ij *cptypes.InvalidJobStateException
	if !errors.As(err, &ij) {
		t.Errorf("success after failure error = %v; want InvalidJobStateException", err)
	}
	j, _ := s.Job("job-x")
	if j.Status != "Failed" || len(j.Reports) != 1 || j.Reports[0].FailureType != "ConfigurationError" {
		t.Errorf("Job(job-x) = %+v; want Failed with one ConfigurationError report", j)
	}
	if _, err := cp.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("nope")}); !errors.As(err, new(*cptypes.JobNotFoundException)) {
		t.Errorf("GetJobDetails(unknown) error = %v; want JobNotFoundException", err)
	}
}

func TestCodePipelineLimits(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tests := []struct {
		name string
		in   *codepipeline.PutJobSuccessResultInput
	}{
		{"summary too long", &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j1"),
			ExecutionDetails: &cptypes.ExecutionDetails{Summary: aws.String(strings.Repeat("x", 2049))}}},
		{"token and variables", &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j2"),
			ContinuationToken: aws.String("t"), OutputVariables: map[string]string{"a": "b"}}},
		{"token too long", &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j3"),
			ContinuationToken: aws.String(strings.Repeat("t", 2049))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cp.PutJobSuccessResult(ctx, tc.in)
			if !errors.As(err, new(*cptypes.ValidationException)) {
				t.Errorf("PutJobSuccessResult(%s) error = %v; want ValidationException", tc.name, err)
			}
			if j, ok := s.Job(aws.ToString(tc.in.JobId)); ok {
				t.Errorf("a refused report still tracked the job: %+v", j)
			}
		})
	}
}

func TestPipelineExecutions(t *testing.T) {
	s := startServer(t, Scenario{
		Pipelines: []Pipeline{{Name: "app", Stages: []PipelineStage{{Name: "Deploy", Actions: []PipelineAction{
			{Name: "Verify", Category: "Invoke", Provider: "Lambda", Configuration: map[string]string{"FunctionName": "postdeploy-verify"}}}}}}},
		PipelineExecutions: []PipelineExecution{{PipelineName: "app", ID: "exec-1", Status: "Succeeded",
			Actions: []ActionExecution{{StageName: "Deploy", ActionName: "Verify", Summary: "all checks passed"}}}}})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	ge, err := cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("app"), PipelineExecutionId: aws.String("exec-1")})
	if err != nil {
		t.Fatalf("GetPipelineExecution: %v", err)
	}
	if ge.PipelineExecution.Status != cptypes.PipelineExecutionStatusSucceeded {
		t.Errorf("GetPipelineExecution(exec-1).Status = %s; want Succeeded", ge.PipelineExecution.Status)
	}
	la, err := cp.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("app"),
		Filter: &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String("exec-1")}})
	if err != nil {
		t.Fatalf("ListActionExecutions: %v", err)
	}
	if len(la.ActionExecutionDetails) != 1 || aws.ToString(la.ActionExecutionDetails[0].Output.ExecutionResult.ExternalExecutionSummary) != "all checks passed" {
		t.Errorf("ListActionExecutions = %+v; want the Verify action with its summary", la.ActionExecutionDetails)
	} else if in := la.ActionExecutionDetails[0].Input; in == nil || in.ActionTypeId == nil || in.ActionTypeId.Provider == nil ||
		*in.ActionTypeId.Provider != "Lambda" || in.ActionTypeId.Category != cptypes.ActionCategoryInvoke || in.ResolvedConfiguration["FunctionName"] != "postdeploy-verify" {
		// respond confirms a failed verification from this input (its
		// action type and FunctionName), as CodePipeline reports it.
		t.Errorf("ListActionExecutions input = %+v; want the action type and configuration from the pipeline", in)
	}
	rb, err := cp.RollbackStage(ctx, &codepipeline.RollbackStageInput{PipelineName: aws.String("app"), StageName: aws.String("Deploy"),
		TargetPipelineExecutionId: aws.String("exec-1")})
	if err != nil {
		t.Fatalf("RollbackStage: %v", err)
	}
	if e, ok := s.PipelineExecution("app", aws.ToString(rb.PipelineExecutionId)); !ok || e.Status != "InProgress" {
		t.Errorf("rollback execution %s = %+v, %v; want a new InProgress execution", aws.ToString(rb.PipelineExecutionId), e, ok)
	}
	_, err = cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("app"), PipelineExecutionId: aws.String("nope")})
	if !errors.As(err, new(*cptypes.PipelineExecutionNotFoundException)) {
		t.Errorf("GetPipelineExecution(nope) error = %v; want *types.PipelineExecutionNotFoundException", err)
	}
}
