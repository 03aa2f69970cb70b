package standin

import (
	"fmt"
	"net/http"
	"time"
)

// CodeDeploy lifecycle hooks and Lambda's asynchronous Invoke.
//
// A HookDeployment is an ECS blue/green or Lambda deployment whose one
// target runs lifecycle events, some of them hooks with a hook execution
// id (the id CodeDeploy passes the validation function). The operations
// answer as the CodeDeploy API Reference documents them:
//   - ListDeploymentTargets / GetDeploymentTarget: the target and its
//     lifecycleEvents (name, status, startTime, endTime), an ECS target's
//     taskSetsInfo, a Lambda target's lambdaFunctionInfo;
//   - PutLifecycleEventHookExecutionStatus: only Succeeded or Failed
//     (InvalidLifecycleEventHookExecutionStatusException), for a hook
//     execution of the deployment (InvalidLifecycleEventHookExecutionIdException),
//     of an ECS or Lambda deployment (UnsupportedActionForDeploymentTypeException),
//     once: a hook no longer in progress answers
//     LifecycleEventAlreadyCompletedException ("An attempt to return the
//     status of an already completed lifecycle event occurred"). A Failed
//     status fails the deployment, as CodeDeploy does.
//
// Lambda Invoke (REST POST /2015-03-31/functions/{name}/invocations)
// accepts only InvocationType Event — the stand-in runs no function
// itself — for a seeded function, with a payload of at most 1 MB ("For
// asynchronous invocations, the maximum payload size is 1 MB", Lambda API
// Reference, Invoke), answers 202, and queues the payload for the harness
// (TakeInvocations), which runs the real binary with it.

// HookDeployment seeds a deployment with lifecycle hooks.
type HookDeployment struct {
	ID              string
	ApplicationName string
	GroupName       string
	// ComputePlatform is ECS or Lambda.
	ComputePlatform string
	// AutoRollback: the deployment rolls back when it fails.
	AutoRollback bool
	// TestListenerARN and ProdListenerARN are the ECS blue/green
	// listeners (loadBalancerInfo.targetGroupPairInfoList).
	TestListenerARN, ProdListenerARN string
	// GreenTaskSet and GreenTargetGroup name the replacement task set.
	GreenTaskSet, GreenTargetGroup string
	Events                         []HookLifecycleEvent
}

// HookLifecycleEvent is one lifecycle event of the deployment's target.
type HookLifecycleEvent struct {
	Name string
	// Status is Pending, InProgress, Succeeded, Failed or Skipped.
	Status  string
	Started time.Time
	// HookExecutionID is set for an event that calls a hook.
	HookExecutionID string
}

// HookStatus is one PutLifecycleEventHookExecutionStatus call the
// stand-in accepted.
type HookStatus struct {
	DeploymentID, HookExecutionID, Status string
}

type hookState struct {
	deploys  map[string]*HookDeployment
	statuses []HookStatus
	invoked  []Invocation
}

// Invocation is an asynchronous Lambda Invoke the stand-in accepted.
type Invocation struct {
	Function string
	Payload  []byte
}

func (st *state) hookDeploy(id string) *HookDeployment {
	if st.hooks.deploys == nil {
		return nil
	}
	return st.hooks.deploys[id]
}

// AddHookDeployment seeds d (and its deployment group) and returns the
// server for chaining.
func (s *Server) AddHookDeployment(d HookDeployment) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.hooks.deploys == nil {
		s.st.hooks.deploys = map[string]*HookDeployment{}
	}
	c := d
	c.Events = append([]HookLifecycleEvent(nil), d.Events...)
	s.st.hooks.deploys[d.ID] = &c
	lb := map[string]any{}
	pair := map[string]any{}
	if d.TestListenerARN != "" {
		pair["testTrafficRoute"] = map[string]any{"listenerArns": []any{d.TestListenerARN}}
	}
	if d.ProdListenerARN != "" {
		pair["prodTrafficRoute"] = map[string]any{"listenerArns": []any{d.ProdListenerARN}}
	}
	if len(pair) > 0 {
		lb["targetGroupPairInfoList"] = []any{pair}
	}
	info := map[string]any{"computePlatform": d.ComputePlatform, "loadBalancerInfo": lb,
		"autoRollbackConfiguration": map[string]any{"enabled": d.AutoRollback, "events": []any{"DEPLOYMENT_FAILURE"}}}
	s.st.deploys[d.ID] = &deployment{Deployment: Deployment{ID: d.ID, ApplicationName: d.ApplicationName, GroupName: d.GroupName, Status: "InProgress"}, created: s.now(), info: info}
	if _, ok := s.st.groups[d.ApplicationName+"/"+d.GroupName]; !ok {
		s.st.groups[d.ApplicationName+"/"+d.GroupName] = &DeploymentGroup{ApplicationName: d.ApplicationName, Name: d.GroupName, ComputePlatform: d.ComputePlatform, AutoRollback: d.AutoRollback}
	}
	return s
}

// HookStatuses returns every status the stand-in accepted, in order.
func (s *Server) HookStatuses() []HookStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]HookStatus(nil), s.st.hooks.statuses...)
}

// TakeInvocations returns the asynchronous Invokes accepted since the
// last call, oldest first, and forgets them: the harness runs the real
// binary with each payload, as Lambda would.
func (s *Server) TakeInvocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.st.hooks.invoked
	s.st.hooks.invoked = nil
	return out
}

func ecsTargetID(d *HookDeployment) string {
	if d.ComputePlatform == "Lambda" {
		return d.ApplicationName
	}
	return d.ApplicationName + ":" + d.GroupName
}

func cdRequireDeployment(s *Server, req *request) (*deployment, error) {
	id := str(req.input, "deploymentId")
	if id == "" {
		return nil, apiErr(400, "DeploymentIdRequiredException", "At least one deployment ID must be specified.")
	}
	d, ok := s.st.deploys[id]
	if !ok {
		return nil, apiErr(400, "DeploymentDoesNotExistException", "The deployment %s could not be found", id)
	}
	return d, nil
}

func cdListDeploymentTargets(s *Server, req *request) (any, error) {
	d, err := cdRequireDeployment(s, req)
	if err != nil {
		return nil, err
	}
	ids := []any{}
	if hd := s.st.hookDeploy(d.ID); hd != nil {
		ids = append(ids, ecsTargetID(hd))
	}
	return map[string]any{"targetIds": ids}, nil
}

func cdGetDeploymentTarget(s *Server, req *request) (any, error) {
	d, err := cdRequireDeployment(s, req)
	if err != nil {
		return nil, err
	}
	tid := str(req.input, "targetId")
	if tid == "" {
		return nil, apiErr(400, "DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
	}
	hd := s.st.hookDeploy(d.ID)
	if hd == nil || tid != ecsTargetID(hd) {
		return nil, apiErr(400, "DeploymentTargetDoesNotExistException", "The provided target ID %s does not belong to deployment %s.", tid, d.ID)
	}
	events := []any{}
	for _, e := range hd.Events {
		m := map[string]any{"lifecycleEventName": e.Name, "status": e.Status}
		if !e.Started.IsZero() {
			m["startTime"] = e.Started
		}
		events = append(events, m)
	}
	target := map[string]any{"deploymentId": d.ID, "targetId": tid, "lifecycleEvents": events, "status": d.Status, "lastUpdatedAt": s.now()}
	if hd.ComputePlatform == "Lambda" {
		target["targetArn"] = lambdaFunctionArn(hd.ApplicationName)
		target["lambdaFunctionInfo"] = map[string]any{"functionName": hd.ApplicationName}
		return map[string]any{"deploymentTarget": map[string]any{"deploymentTargetType": "LambdaTarget", "lambdaTarget": target}}, nil
	}
	target["targetArn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, AccountID, hd.ApplicationName, hd.GroupName)
	if hd.GreenTaskSet != "" {
		//nolint:misspell // "identifer" is the wire name (CodeDeploy API Reference, ECSTaskSet)
		target["taskSetsInfo"] = []any{map[string]any{"identifer": hd.GreenTaskSet, "taskSetLabel": "Green", "status": "ACTIVE",
			"targetGroup": map[string]any{"name": hd.GreenTargetGroup}}}
	}
	return map[string]any{"deploymentTarget": map[string]any{"deploymentTargetType": "ECSTarget", "ecsTarget": target}}, nil
}

func cdPutLifecycleEventHookExecutionStatus(s *Server, req *request) (any, error) {
	d, err := cdRequireDeployment(s, req)
	if err != nil {
		return nil, err
	}
	status := str(req.input, "status")
	if status != "Succeeded" && status != "Failed" {
		return nil, apiErr(400, "InvalidLifecycleEventHookExecutionStatusException", "The result of a Lambda validation function that verifies a lifecycle event is invalid. It should return Succeeded or Failed, not %q.", status)
	}
	hd := s.st.hookDeploy(d.ID)
	if hd == nil {
		return nil, apiErr(400, "UnsupportedActionForDeploymentTypeException", "A call was submitted that is not supported for the specified deployment type.")
	}
	exec := str(req.input, "lifecycleEventHookExecutionId")
	for i := range hd.Events {
		e := &hd.Events[i]
		if exec == "" || e.HookExecutionID != exec {
			continue
		}
		if e.Status != "InProgress" {
			return nil, apiErr(400, "LifecycleEventAlreadyCompletedException", "An attempt to return the status of an already completed lifecycle event occurred (%s is %s).", e.Name, e.Status)
		}
		e.Status = status
		s.st.hooks.statuses = append(s.st.hooks.statuses, HookStatus{DeploymentID: d.ID, HookExecutionID: exec, Status: status})
		if status == "Failed" {
			d.Status, d.completed = "Failed", s.now()
			if hd.AutoRollback {
				d.rollbackMessage = "Deployment failed: lifecycle hook " + e.Name + " reported Failed; CodeDeploy rolls back (automatic rollback on DEPLOYMENT_FAILURE)"
			}
		}
		return map[string]any{"lifecycleEventHookExecutionId": exec}, nil
	}
	return nil, apiErr(400, "InvalidLifecycleEventHookExecutionIdException", "A lifecycle event hook is invalid. Review the hooks section in your AppSpec file to ensure the lifecycle events and hooks functions are valid (no hook execution %q in deployment %s).", exec, d.ID)
}

// maxAsyncPayload is Lambda's limit on an asynchronous invocation's payload.
const maxAsyncPayload = 1 << 20

func lambdaInvoke(s *Server, req *request) (any, error) {
	fn := lambdaFunctionName(str(req.input, "FunctionName"))
	if _, ok := s.st.functions[fn]; !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "Function not found: %s", lambdaFunctionArn(fn))
	}
	switch typ := str(req.input, "InvocationType"); typ {
	case "Event":
	case "DryRun":
		return &rawResponse{status: http.StatusNoContent}, nil
	default:
		return nil, apiErr(400, "InvalidParameterValueException", "the stand-in accepts only InvocationType Event (it runs no function itself), not %q", typ)
	}
	if len(req.body) > maxAsyncPayload {
		return nil, apiErr(413, "RequestTooLargeException", "Request must be smaller than %d bytes for the Invoke operation", maxAsyncPayload)
	}
	s.st.hooks.invoked = append(s.st.hooks.invoked, Invocation{Function: fn, Payload: append([]byte(nil), req.body...)})
	return &rawResponse{status: http.StatusAccepted}, nil
}
