package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// An ECS blue/green deployment through CodeDeploy whose
// AfterAllowTestTraffic hook runs verify against the green task set (the
// sample service, deployed broken, standing in for the test listener).
// The real verify binary is invoked as CodeDeploy invokes a hook; every
// asynchronous Invoke verify sends itself to carry the bake on is played
// the same way, as Lambda would (standin.TakeInvocations). The hook spec
// tolerates three failed samples, so the bake outlasts the demo's 3 s
// function timeout and hands over at least once.
const (
	hookApplication = "orders"
	hookGroup       = "orders-bg"
	// maxHookInvocations stops a hook that never reports (CodeDeploy's
	// limit is the hour).
	maxHookInvocations = 20
)

// hookRun is what happened to one hook execution.
type hookRun struct {
	Invocations []*lambdarun.Result
	// StatusCalls counts every PutLifecycleEventHookExecutionStatus call
	// the stand-in answered, refused ones included.
	StatusCalls int
	Statuses    []standin.HookStatus
}

// hookSpecDoc is the deployment group's hook spec: one section per hook.
func hookSpecDoc(url string) string {
	return fmt.Sprintf(`hooks:
  AfterAllowTestTraffic:
    bake: 6s
    interval: 1s
    limits: {failureLimit: 3}
    checks:
      - name: green-health
        http: {url: %q, timeout: 2s}
`, url+"/health?deployment=#{DEPLOYMENT_ID}")
}

func codeDeployHookFailsOnGreen(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	si, hook, err := newHookStandin(hookSpecDoc(r.service.URL()))
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	r.service.deploy(versionBroken)
	defer r.service.deploy(versionHealthy)
	dyn, err := r.dynalite(ctx)
	if err != nil {
		return errorResult(err)
	}
	fn, err := r.start(ctx, "verify", si, config.EnvStateTable+"="+stateTable, "AWS_ENDPOINT_URL_DYNAMODB="+dyn.Endpoint)
	if err != nil {
		return errorResult(err)
	}
	defer func() { _ = fn.Close() }()
	run, err := runHook(ctx, fn, si, hook)
	res.Elapsed = time.Since(start)
	res.Invocations = len(run.Invocations)
	res.AWSCalls = len(si.Calls())
	if err != nil {
		return errorResult(err)
	}
	res.Got = "no status"
	if len(run.Statuses) > 0 {
		res.Got = run.Statuses[len(run.Statuses)-1].Status
	}
	res.Got += fmt.Sprintf(", %d status call(s)", run.StatusCalls)
	if run.StatusCalls != 1 || len(run.Statuses) != 1 || run.Statuses[0].Status != "Failed" {
		res.problem("the hook got %d status call(s), accepted %+v; want exactly one, Failed", run.StatusCalls, run.Statuses)
	}
	if len(run.Invocations) < 2 {
		res.problem("the bake took %d invocation(s); want ≥2 (a hand-over)", len(run.Invocations))
	}
	if d, ok := si.Deployment(hook.DeploymentID); !ok || d.Status != "Failed" {
		res.problem("deployment %s is %q; want Failed (CodeDeploy fails it on the hook's Failed status)", hook.DeploymentID, d.Status)
	}
	for _, inv := range run.Invocations {
		if inv.Err != nil {
			res.problem("invocation %s failed: %v", inv.RequestID, inv.Err)
		}
	}
	if !publishedHookVerdict(si, "Failed", hook.DeploymentID) {
		res.problem("no \"Post-Deploy Verification Completed\" event with verdict Failed for deployment %s reached EventBridge", hook.DeploymentID)
	}
	return res
}

// runHook invokes fn with the hook event, then with each asynchronous
// Invoke it sends itself, until none is left; a failed invocation is
// retried twice, as Lambda retries an asynchronous one.
func runHook(ctx context.Context, fn *lambdarun.Function, si *standin.Server, ev contract.CodeDeployHookEvent) (hookRun, error) {
	var run hookRun
	payload, err := json.Marshal(ev)
	if err != nil {
		return run, err
	}
	queue := [][]byte{payload}
	for len(queue) > 0 {
		if len(run.Invocations) >= maxHookInvocations {
			return run, fmt.Errorf("the hook still runs after %d invocations", maxHookInvocations)
		}
		p := queue[0]
		queue = queue[1:]
		for attempt := 0; attempt <= asyncRetries; attempt++ {
			res, err := fn.Invoke(ctx, p)
			if err != nil {
				return run, fmt.Errorf("invoke %s: %w", fn.Name(), err)
			}
			run.Invocations = append(run.Invocations, res)
			if res.Err == nil {
				break
			}
		}
		for _, inv := range si.TakeInvocations() {
			if inv.Function != fn.Name() {
				return run, fmt.Errorf("%s invoked %q; the demo runs only itself", fn.Name(), inv.Function)
			}
			queue = append(queue, inv.Payload)
		}
	}
	for _, c := range si.Calls() {
		if c.Service == standin.CodeDeploy && c.Operation == "PutLifecycleEventHookExecutionStatus" {
			run.StatusCalls++
		}
	}
	run.Statuses = si.HookStatuses()
	return run, nil
}

// publishedHookVerdict reports whether verify's completion event with
// the verdict v for deployment reached EventBridge.
func publishedHookVerdict(si *standin.Server, v, deployment string) bool {
	for _, e := range si.Events() {
		if e["DetailType"] != contract.VerificationDetailType {
			continue
		}
		detail, _ := e["Detail"].(string)
		var d contract.VerificationCompleted
		if json.Unmarshal([]byte(detail), &d) == nil && d.Verdict.String() == v && d.DeploymentID == deployment {
			return true
		}
	}
	return false
}

// newHookStandin starts a stand-in holding the demo's ECS blue/green
// deployment, its AfterAllowTestTraffic hook in progress, and the
// deployment group's hook spec doc, and returns the hook event CodeDeploy
// would send. Each call has its own deployment and hook execution ids, as
// CodeDeploy's are unique: the state table (dynalite) outlives a scenario.
func newHookStandin(doc string) (*standin.Server, contract.CodeDeployHookEvent, error) {
	ev := contract.CodeDeployHookEvent{DeploymentID: "d-" + strings.ToUpper(strings.ReplaceAll(newJobID(), "-", "")[:9]), LifecycleEventHookExecutionID: newJobID()}
	si, err := standin.New(standin.Scenario{LambdaFunctions: []standin.LambdaFunction{{Name: "verify"}}})
	if err == nil {
		err = si.Start()
	}
	if err != nil {
		return nil, ev, fmt.Errorf("start the stand-in: %w", err)
	}
	now := time.Now()
	si.AddHookDeployment(standin.HookDeployment{
		ID: ev.DeploymentID, ApplicationName: hookApplication, GroupName: hookGroup, ComputePlatform: "ECS", AutoRollback: true,
		TestListenerARN: "arn:aws:elasticloadbalancing:" + standin.Region + ":" + standin.AccountID + ":listener/app/orders/50dc6c495c0c9188/test8443",
		ProdListenerARN: "arn:aws:elasticloadbalancing:" + standin.Region + ":" + standin.AccountID + ":listener/app/orders/50dc6c495c0c9188/prod443",
		GreenTaskSet:    "ecs-svc/2222222222222222222", GreenTargetGroup: "orders-green",
		Events: []standin.HookLifecycleEvent{
			{Name: "BeforeInstall", Status: "Succeeded"}, {Name: "Install", Status: "Succeeded"},
			{Name: "AfterInstall", Status: "Succeeded"}, {Name: "AllowTestTraffic", Status: "Succeeded"},
			{Name: "AfterAllowTestTraffic", Status: "InProgress", Started: now.Add(-5 * time.Second), HookExecutionID: ev.LifecycleEventHookExecutionID},
			{Name: "BeforeAllowTraffic", Status: "Pending"}, {Name: "AllowTraffic", Status: "Pending"}, {Name: "AfterAllowTraffic", Status: "Pending"},
		},
	})
	si.SetParameter(standin.Parameter{Name: config.DefaultHookSpecPrefix + hookApplication + "/" + hookGroup, Value: doc})
	return si, ev, nil
}
