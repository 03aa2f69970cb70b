package standin

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// GetPipelineExecution reports executionType and artifactRevisions[].created,
// ListActionExecutions each action's startTime, lastUpdateTime and
// output.executionResult.externalExecutionId, as CodePipeline does
// (CodePipeline API Reference: GetPipelineExecution, PipelineExecution,
// ArtifactRevision, ActionExecutionDetail), read through the SDK.
func TestExecutionRevisionsAndActionTimes(t *testing.T) {
	created := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	start, end := created.Add(time.Hour), created.Add(90*time.Minute)
	s := startServer(t, Scenario{
		Pipelines: []Pipeline{{Name: "api", Stages: []PipelineStage{{Name: "Production", Actions: []PipelineAction{{Name: "Deploy", Category: "Deploy", Provider: "CodeDeploy"}}}}}},
		PipelineExecutions: []PipelineExecution{{
			PipelineName: "api", ID: "e1", Status: "Succeeded", ExecutionType: "ROLLBACK",
			Revisions: []ArtifactRevision{{Name: "SourceArtifact", RevisionID: "abc123", Created: created}},
			Actions:   []ActionExecution{{StageName: "Production", ActionName: "Deploy", Status: "Succeeded", StartTime: start, EndTime: end, ExternalID: "d-1"}},
		}},
	})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ex, err := cp.GetPipelineExecution(ctxT(t), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("api"), PipelineExecutionId: aws.String("e1")})
	if err != nil {
		t.Fatal(err)
	}
	pe := ex.PipelineExecution
	if pe.ExecutionType != cptypes.ExecutionTypeRollback || len(pe.ArtifactRevisions) != 1 || !aws.ToTime(pe.ArtifactRevisions[0].Created).Equal(created) {
		t.Errorf("GetPipelineExecution = type %q, revisions %+v; want ROLLBACK and one revision created %v", pe.ExecutionType, pe.ArtifactRevisions, created)
	}
	ax, err := cp.ListActionExecutions(ctxT(t), &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("api"), Filter: &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String("e1")}})
	if err != nil {
		t.Fatal(err)
	}
	d := ax.ActionExecutionDetails[0]
	if !aws.ToTime(d.StartTime).Equal(start) || !aws.ToTime(d.LastUpdateTime).Equal(end) || aws.ToString(d.Output.ExecutionResult.ExternalExecutionId) != "d-1" {
		t.Errorf("ListActionExecutions = start %v, last update %v, external id %q; want %v, %v, d-1", d.StartTime, d.LastUpdateTime, aws.ToString(d.Output.ExecutionResult.ExternalExecutionId), start, end)
	}
}
