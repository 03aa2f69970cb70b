package standin

import (
	"fmt"
	"slices"
	"strings"
)

// Operations the functions call beyond the first list: tags, pipeline
// structure and history, instance status, Lambda versions, automation
// status.

func cwListTags(s *Server, req *request) (any, error) {
	arn := str(req.input, "ResourceARN")
	// Any partition, region and account: events from sample files carry
	// their own.
	_, name, found := strings.Cut(arn, ":alarm:")
	if !found {
		name = arn
	}
	a, ok := s.st.alarms[name]
	if !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "no alarm with ARN %q (alarm ARNs look like %s)", arn, alarmArn("name"))
	}
	tags := []any{}
	for _, k := range sortedKeys(a.Tags) {
		tags = append(tags, map[string]any{"Key": k, "Value": a.Tags[k]})
	}
	return map[string]any{"Tags": tags}, nil
}

func cpGetPipeline(s *Server, req *request) (any, error) {
	name := str(req.input, "name")
	p, ok := s.st.pipelines[name]
	if !ok {
		return nil, apiErr(400, "PipelineNotFoundException", "pipeline %q not found; seed it in Scenario.Pipelines", name)
	}
	stages := []any{}
	for _, st := range p.Stages {
		actions := []any{}
		for _, a := range st.Actions {
			owner := a.Owner
			if owner == "" {
				owner = "AWS"
			}
			actions = append(actions, map[string]any{
				"name":          a.Name,
				"actionTypeId":  map[string]any{"category": a.Category, "owner": owner, "provider": a.Provider, "version": "1"},
				"configuration": normalize(a.Configuration),
				"runOrder":      1,
			})
		}
		stages = append(stages, map[string]any{"name": st.Name, "actions": actions})
	}
	return map[string]any{
		"pipeline": map[string]any{"name": p.Name, "version": 1, "stages": stages,
			"roleArn": fmt.Sprintf("arn:aws:iam::%s:role/%s-pipeline", AccountID, p.Name)},
		"metadata": map[string]any{"pipelineArn": fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", Region, AccountID, p.Name),
			"created": s.st.start, "updated": s.st.start},
	}, nil
}

// succeededIn: the execution's actions in stage all succeeded, or (when it
// lists none there) the execution succeeded.
func succeededIn(e *PipelineExecution, stage string) bool {
	seen := false
	for _, a := range e.Actions {
		if a.StageName != stage {
			continue
		}
		seen = true
		if a.Status != "" && a.Status != "Succeeded" {
			return false
		}
	}
	return seen || e.Status == "Succeeded"
}

func cpListPipelineExecutions(s *Server, req *request) (any, error) {
	name := str(req.input, "pipelineName")
	stage := str(obj(obj(req.input, "filter"), "succeededInStage"), "stageName")
	limit := 100
	if n, ok := intField(req.input, "maxResults"); ok && n > 0 && n < limit {
		limit = n
	}
	out := []any{}
	order := slices.Clone(s.st.execOrder)
	slices.Reverse(order) // newest first
	for _, key := range order {
		e := s.st.executions[key]
		if e.PipelineName != name || (stage != "" && !succeededIn(e, stage)) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, map[string]any{"pipelineExecutionId": e.ID, "status": e.Status,
			"startTime": s.st.start, "lastUpdateTime": s.st.start})
	}
	return map[string]any{"pipelineExecutionSummaries": out}, nil
}

func ec2DescribeInstanceStatus(s *Server, req *request) (any, error) {
	ids := strList(req.input, "InstanceId")
	for _, id := range ids {
		if _, ok := s.st.instances[id]; !ok {
			return nil, apiErr(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	if len(ids) == 0 {
		ids = sortedKeys(s.st.instances)
	}
	all := boolField(req.input, "IncludeAllInstances")
	items := []any{}
	for _, id := range ids {
		in := s.st.instances[id]
		if in.State != "running" && !all {
			continue
		}
		status := "ok"
		if in.State != "running" {
			status = "not-applicable"
		}
		detail := func() map[string]any {
			return map[string]any{"status": status,
				"details": []any{map[string]any{"name": "reachability", "status": map[bool]string{true: "passed", false: "not-applicable"}[status == "ok"]}}}
		}
		items = append(items, map[string]any{
			"instanceId": in.ID, "availabilityZone": Region + "a",
			"instanceState":  map[string]any{"code": ec2StateCodes[in.State], "name": in.State},
			"instanceStatus": detail(), "systemStatus": detail(),
		})
	}
	return map[string]any{"instanceStatusSet": items}, nil
}

func lambdaFunctionArn(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, AccountID, name)
}

func lambdaListTags(s *Server, req *request) (any, error) {
	fn := lambdaFunctionName(str(req.input, "Resource"))
	f, ok := s.st.functions[fn]
	if !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "Function not found: %s", lambdaFunctionArn(fn))
	}
	tags := map[string]any{}
	for k, v := range f.Tags {
		tags[k] = v
	}
	return map[string]any{"Tags": tags}, nil
}

func lambdaListVersions(s *Server, req *request) (any, error) {
	fn := lambdaFunctionName(str(req.input, "FunctionName"))
	f, ok := s.st.functions[fn]
	if !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "Function not found: %s", lambdaFunctionArn(fn))
	}
	versions := []any{map[string]any{"FunctionName": fn, "FunctionArn": lambdaFunctionArn(fn) + ":$LATEST", "Version": "$LATEST"}}
	for _, v := range f.Versions {
		versions = append(versions, map[string]any{"FunctionName": fn, "FunctionArn": lambdaFunctionArn(fn) + ":" + v, "Version": v})
	}
	return map[string]any{"Versions": versions}, nil
}

// ssmGetAutomation reports an execution InProgress until SettleAfter has
// passed since it started, then Success (or the status SetAutomationStatus
// forced).
func ssmGetAutomation(s *Server, req *request) (any, error) {
	id := str(req.input, "AutomationExecutionId")
	for _, a := range s.st.automation {
		if a.ID != id {
			continue
		}
		status := "InProgress"
		end := a.Time.Add(s.st.settleAfter)
		if !s.now().Before(end) {
			status = "Success"
		}
		if forced, ok := s.st.autoState[id]; ok {
			status = forced
		}
		params := map[string]any{}
		for k, v := range a.Parameters {
			params[k] = normalize(v)
		}
		out := map[string]any{"AutomationExecutionId": id, "DocumentName": a.DocumentName,
			"AutomationExecutionStatus": status, "ExecutionStartTime": a.Time, "Parameters": params}
		if status != "InProgress" && status != "Pending" {
			out["ExecutionEndTime"] = end
		}
		return map[string]any{"AutomationExecution": out}, nil
	}
	return nil, apiErr(400, "AutomationExecutionNotFoundException", "Automation execution %s was not found", id)
}

// SetAutomationStatus forces an SSM automation execution's status (e.g.
// Failed, TimedOut).
func (s *Server) SetAutomationStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.autoState == nil {
		s.st.autoState = map[string]string{}
	}
	s.st.autoState[id] = status
}
