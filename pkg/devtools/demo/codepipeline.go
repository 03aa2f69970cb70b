package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// What CodePipeline and Lambda do around a Lambda Invoke action, as the
// demo plays it:
//   - CodePipeline invokes the function asynchronously with the job event;
//     Lambda retries a failed asynchronous invocation twice (asyncRetries).
//   - A PutJobSuccessResult with a continuationToken keeps the action
//     running: CodePipeline creates a new job carrying the token in
//     data.continuationToken and invokes the function again.
//   - The action ends with the first terminal report (success without a
//     token, or failure). A function that returns without reporting
//     leaves the action hanging until it times out.
const (
	asyncRetries = 2
	// maxJobInvocations stops a job that never finishes (CodePipeline's
	// limit is the action's timeout).
	maxJobInvocations = 20
)

// pipelineContext names where a job runs, for GetJobDetails.
type pipelineContext struct {
	Pipeline, Stage, Action, ExecutionID string
}

// jobRun is what happened to one pipeline action across its jobs.
type jobRun struct {
	JobIDs      []string
	Invocations []*lambdarun.Result
	// Reports are every report made on the action's jobs, in order.
	Reports []standin.JobReport
	// Final is the terminal report; nil when the action never ended.
	Final *standin.JobReport
	// Stalled says why the action did not end, when Final is nil.
	Stalled string
}

// Terminal counts the terminal reports (success without a token, or
// failure) across the action's jobs: exactly one is correct.
func (r jobRun) Terminal() int {
	n := 0
	for _, rep := range r.Reports {
		if rep.Kind == "failure" || rep.ContinuationToken == "" {
			n++
		}
	}
	return n
}

// Outcome is the action's end, e.g. "Succeeded" or "Failed (JobFailed)".
func (r jobRun) Outcome() string {
	switch {
	case r.Final == nil:
		return "no report"
	case r.Final.Kind == "failure":
		return "Failed (" + r.Final.FailureType + ")"
	}
	return "Succeeded"
}

// runPipelineJob plays one Invoke action: it invokes fn with ev (its job
// id, or a fresh one) and follows continuations until a terminal report,
// registering each job with the stand-in so GetJobDetails answers. When
// follow is false it stops after the first job's invocation(s).
func runPipelineJob(ctx context.Context, fn *lambdarun.Function, si *standin.Server, ev events.CodePipelineJobEvent, pc pipelineContext, follow bool) (jobRun, error) {
	var run jobRun
	job := ev.CodePipelineJob
	if job.ID == "" {
		job.ID = newJobID()
	}
	for range maxJobInvocations {
		si.AddJob(standinJob(job, pc, fn.Name()))
		run.JobIDs = append(run.JobIDs, job.ID)
		payload, err := json.Marshal(events.CodePipelineJobEvent{CodePipelineJob: job})
		if err != nil {
			return run, fmt.Errorf("encode job %s: %w", job.ID, err)
		}
		for attempt := 0; attempt <= asyncRetries; attempt++ {
			res, err := fn.Invoke(ctx, payload)
			if err != nil {
				return run, fmt.Errorf("invoke %s with job %s: %w", fn.Name(), job.ID, err)
			}
			run.Invocations = append(run.Invocations, res)
			if res.Err == nil {
				break
			}
		}
		st, _ := si.Job(job.ID)
		run.Reports = append(run.Reports, st.Reports...)
		if st.Status != "InProgress" {
			last := st.Reports[len(st.Reports)-1]
			run.Final = &last
			return run, nil
		}
		if len(st.Reports) == 0 || st.Reports[len(st.Reports)-1].ContinuationToken == "" {
			run.Stalled = fmt.Sprintf("job %s got no report after %d invocation(s): CodePipeline would wait for the action to time out", job.ID, len(run.Invocations))
			return run, nil
		}
		if !follow {
			run.Stalled = "continued (not followed)"
			return run, nil
		}
		// CodePipeline's next job for the same action carries the token.
		job.ID = newJobID()
		job.Data.ContinuationToken = st.Reports[len(st.Reports)-1].ContinuationToken
	}
	run.Stalled = fmt.Sprintf("still running after %d invocations", maxJobInvocations)
	return run, nil
}

func standinJob(job events.CodePipelineJob, pc pipelineContext, fnName string) standin.Job {
	j := standin.Job{
		ID:                job.ID,
		PipelineName:      pc.Pipeline,
		StageName:         pc.Stage,
		ActionName:        pc.Action,
		ExecutionID:       pc.ExecutionID,
		FunctionName:      fnName,
		UserParameters:    job.Data.ActionConfiguration.Configuration.UserParameters,
		ContinuationToken: job.Data.ContinuationToken,
	}
	for _, a := range job.Data.InputArtifacts {
		j.InputArtifacts = append(j.InputArtifacts, standin.ArtifactRef{Name: a.Name, Bucket: a.Location.S3Location.BucketName, Key: a.Location.S3Location.ObjectKey})
	}
	return j
}

// newJobEvent builds the event CodePipeline sends a Lambda Invoke action.
func newJobEvent(userParameters string, artifacts ...events.CodePipelineInputArtifact) events.CodePipelineJobEvent {
	return events.CodePipelineJobEvent{CodePipelineJob: events.CodePipelineJob{
		ID:        newJobID(),
		AccountID: standin.AccountID,
		Data: events.CodePipelineData{
			ActionConfiguration: events.CodePipelineActionConfiguration{Configuration: events.CodePipelineConfiguration{
				FunctionName:   "postdeploy-verify",
				UserParameters: userParameters,
			}},
			InputArtifacts: artifacts,
			// The stand-in checks no signature; these only look like
			// CodePipeline's temporary artifact credentials.
			ArtifactCredentials: events.CodePipelineArtifactCredentials{AccessKeyID: "standin", SecretAccessKey: "standin", SessionToken: "standin"},
		},
	}}
}

// newJobID returns a UUID-shaped job id, as CodePipeline's.
func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
