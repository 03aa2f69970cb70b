package standin

import (
	"fmt"
	"unicode/utf8"
)

// CodePipeline limits the suite must respect (from the API reference).
const (
	maxSummary           = 2048
	maxContinuationToken = 2048
	maxFailureMessage    = 5000
)

func validation(format string, args ...any) *APIError {
	return apiErr(400, "ValidationException", format, args...)
}

// trackJob returns the job, creating it on first report when unknown.
func (s *Server) trackJob(id string) *JobState {
	j, ok := s.st.jobs[id]
	if !ok {
		j = &JobState{ID: id, Status: "InProgress", job: Job{ID: id}}
		s.st.jobs[id] = j
	}
	return j
}

func jobTerminal(j *JobState, op string) *APIError {
	if j.Status == "InProgress" {
		return nil
	}
	return apiErr(400, "InvalidJobStateException",
		"%s on job %s: the job is already %s (reported %d time(s)); a job takes exactly one terminal report", op, j.ID, j.Status, len(j.Reports))
}

func cpPutJobSuccess(s *Server, req *request) (any, error) {
	in := req.input
	id := str(in, "jobId")
	if id == "" {
		return nil, validation("1 validation error detected: Value at 'jobId' failed to satisfy constraint: Member must not be null")
	}
	token := str(in, "continuationToken")
	details := obj(in, "executionDetails")
	summary := str(details, "summary")
	vars := map[string]string{}
	for k, v := range obj(in, "outputVariables") {
		if sv, ok := v.(string); ok {
			vars[k] = sv
		}
	}
	switch {
	case utf8.RuneCountInString(summary) > maxSummary:
		return nil, validation("Value at 'executionDetails.summary' failed to satisfy constraint: Member must have length less than or equal to %d (got %d)", maxSummary, utf8.RuneCountInString(summary))
	case len(token) > maxContinuationToken:
		return nil, validation("Value at 'continuationToken' failed to satisfy constraint: Member must have length less than or equal to %d (got %d)", maxContinuationToken, len(token))
	case token != "" && len(vars) > 0:
		return nil, validation("outputVariables can only be included when there is no continuationToken on the request")
	}
	j := s.trackJob(id)
	if e := jobTerminal(j, "PutJobSuccessResult"); e != nil {
		return nil, e
	}
	if token == "" {
		j.Status = "Succeeded"
	}
	if len(vars) == 0 {
		vars = nil
	}
	j.Reports = append(j.Reports, JobReport{Time: s.now(), Kind: "success", ContinuationToken: token,
		Summary: summary, ExternalID: str(details, "externalExecutionId"), OutputVariables: vars})
	return map[string]any{}, nil
}

func cpPutJobFailure(s *Server, req *request) (any, error) {
	in := req.input
	id := str(in, "jobId")
	fd := obj(in, "failureDetails")
	if id == "" || fd == nil {
		return nil, validation("jobId and failureDetails are required")
	}
	typ, msg := str(fd, "type"), str(fd, "message")
	switch typ {
	case "JobFailed", "ConfigurationError", "PermissionError", "RevisionOutOfSync", "RevisionUnavailable", "SystemUnavailable":
	default:
		return nil, validation("Value %q at 'failureDetails.type' failed to satisfy constraint: Member must satisfy enum value set: [JobFailed, ConfigurationError, PermissionError, RevisionOutOfSync, RevisionUnavailable, SystemUnavailable]", typ)
	}
	if msg == "" || utf8.RuneCountInString(msg) > maxFailureMessage {
		return nil, validation("Value at 'failureDetails.message' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", maxFailureMessage, utf8.RuneCountInString(msg))
	}
	j := s.trackJob(id)
	if e := jobTerminal(j, "PutJobFailureResult"); e != nil {
		return nil, e
	}
	j.Status = "Failed"
	j.Reports = append(j.Reports, JobReport{Time: s.now(), Kind: "failure", FailureType: typ, Message: msg,
		ExternalID: str(fd, "externalExecutionId")})
	return map[string]any{}, nil
}

func cpGetJobDetails(s *Server, req *request) (any, error) {
	id := str(req.input, "jobId")
	j, ok := s.st.jobs[id]
	if !ok {
		return nil, apiErr(400, "JobNotFoundException", "job %q was not found; seed it in Scenario.Jobs or AddJob", id)
	}
	job := j.job
	var arts []any
	for _, a := range job.InputArtifacts {
		arts = append(arts, map[string]any{
			"name": a.Name,
			"location": map[string]any{"type": "S3",
				"s3Location": map[string]any{"bucketName": a.Bucket, "objectKey": a.Key}},
		})
	}
	cfg := map[string]any{}
	if job.FunctionName != "" {
		cfg["FunctionName"] = job.FunctionName
	}
	if job.UserParameters != "" {
		cfg["UserParameters"] = job.UserParameters
	}
	data := map[string]any{
		"actionTypeId":        map[string]any{"category": "Invoke", "owner": "AWS", "provider": "Lambda", "version": "1"},
		"actionConfiguration": map[string]any{"configuration": cfg},
		"pipelineContext": map[string]any{
			"pipelineName":        job.PipelineName,
			"stage":               map[string]any{"name": job.StageName},
			"action":              map[string]any{"name": job.ActionName},
			"pipelineExecutionId": job.ExecutionID,
		},
		"artifactCredentials": map[string]any{"accessKeyId": "standin", "secretAccessKey": "standin", "sessionToken": "standin"},
	}
	if arts != nil {
		data["inputArtifacts"] = arts
	}
	if job.ContinuationToken != "" {
		data["continuationToken"] = job.ContinuationToken
	}
	return map[string]any{"jobDetails": map[string]any{"id": id, "accountId": AccountID, "data": data}}, nil
}

func (s *Server) execution(req *request) (*PipelineExecution, *APIError) {
	p, id := str(req.input, "pipelineName"), str(req.input, "pipelineExecutionId")
	if id == "" {
		id = str(obj(req.input, "filter"), "pipelineExecutionId")
	}
	e, ok := s.st.executions[p+"/"+id]
	if !ok {
		if id == "" {
			for _, x := range s.st.executions {
				if x.PipelineName == p {
					return x, nil
				}
			}
		}
		return nil, apiErr(400, "PipelineExecutionNotFoundException", "pipeline %q has no execution %q in the scenario", p, id)
	}
	return e, nil
}

func cpGetPipelineExecution(s *Server, req *request) (any, error) {
	e, aerr := s.execution(req)
	if aerr != nil {
		return nil, aerr
	}
	pe := map[string]any{
		"pipelineName": e.PipelineName, "pipelineExecutionId": e.ID, "status": e.Status, "pipelineVersion": 1,
	}
	if e.ExecutionType != "" {
		pe["executionType"] = e.ExecutionType
	}
	if len(e.Revisions) > 0 {
		var revs []any
		for _, r := range e.Revisions {
			revs = append(revs, map[string]any{"name": r.Name, "revisionId": r.RevisionID, "created": r.Created})
		}
		pe["artifactRevisions"] = revs
	}
	return map[string]any{"pipelineExecution": pe}, nil
}

func cpListActionExecutions(s *Server, req *request) (any, error) {
	e, aerr := s.execution(req)
	if aerr != nil {
		return nil, aerr
	}
	var out []any
	for i, a := range e.Actions {
		st := a.Status
		if st == "" {
			st = "Succeeded"
		}
		d := map[string]any{
			"pipelineExecutionId": e.ID, "actionExecutionId": fmt.Sprintf("%s-%d", e.ID, i+1),
			"stageName": a.StageName, "actionName": a.ActionName, "status": st, "pipelineVersion": 1,
			"startTime": s.st.start, "lastUpdateTime": s.st.start,
		}
		if !a.StartTime.IsZero() {
			d["startTime"] = a.StartTime
		}
		if !a.EndTime.IsZero() {
			d["lastUpdateTime"] = a.EndTime
		}
		if a.Summary != "" || a.ExternalID != "" {
			r := map[string]any{}
			if a.Summary != "" {
				r["externalExecutionSummary"] = a.Summary
			}
			if a.ExternalID != "" {
				r["externalExecutionId"] = a.ExternalID
			}
			d["output"] = map[string]any{"executionResult": r}
		}
		if in := s.actionInput(e.PipelineName, a.StageName, a.ActionName); in != nil {
			d["input"] = in
		}
		out = append(out, d)
	}
	return map[string]any{"actionExecutionDetails": out}, nil
}

// actionInput is an action execution's input as CodePipeline reports it
// (ActionExecutionInput: actionTypeId, configuration, resolvedConfiguration,
// region — CodePipeline API Reference, ActionExecutionInput), from the
// scenario's pipeline definition; nil when the scenario has none.
func (s *Server) actionInput(pipeline, stage, action string) map[string]any {
	p, ok := s.st.pipelines[pipeline]
	if !ok {
		return nil
	}
	for _, st := range p.Stages {
		for _, a := range st.Actions {
			if st.Name != stage || a.Name != action {
				continue
			}
			owner := a.Owner
			if owner == "" {
				owner = "AWS"
			}
			return map[string]any{
				"actionTypeId":          map[string]any{"category": a.Category, "owner": owner, "provider": a.Provider, "version": "1"},
				"configuration":         a.Configuration,
				"resolvedConfiguration": a.Configuration,
				"region":                Region,
			}
		}
	}
	return nil
}

func cpRollbackStage(s *Server, req *request) (any, error) {
	p, stage, target := str(req.input, "pipelineName"), str(req.input, "stageName"), str(req.input, "targetPipelineExecutionId")
	if p == "" || stage == "" || target == "" {
		return nil, validation("pipelineName, stageName and targetPipelineExecutionId are required")
	}
	if _, ok := s.st.executions[p+"/"+target]; !ok {
		return nil, apiErr(400, "PipelineExecutionNotFoundException", "pipeline %q has no execution %q to roll back to", p, target)
	}
	id := s.st.nextID("rollback-")
	s.st.executions[p+"/"+id] = &PipelineExecution{PipelineName: p, ID: id, Status: "InProgress",
		Actions: []ActionExecution{{StageName: stage, ActionName: "Rollback", Status: "InProgress"}}}
	return map[string]any{"pipelineExecutionId": id}, nil
}
