package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
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
// The hook spec probes #{TEST_LISTENER_URL}, which verify reads from
// Elastic Load Balancing (DescribeListeners, DescribeLoadBalancers): the
// stand-in's load balancer has the DNS name "127.0.0.1" and its test
// listener the sample service's port — a stand-in liberty, as AWS's DNS
// names are <name>-<id>.<region>.elb.amazonaws.com — so the URL reaches
// the local service.
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
func hookSpecDoc() string {
	return fmt.Sprintf(`hooks:
  AfterAllowTestTraffic:
    bake: 6s
    interval: 1s
    limits: {failureLimit: 3}
    checks:
      - name: green-health
        http: {url: %q, timeout: 2s}
`, "#{TEST_LISTENER_URL}/health?deployment=#{DEPLOYMENT_ID}")
}

func codeDeployHookFailsOnGreen(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	si, hook, err := newHookStandin(hookSpecDoc())
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	if err := addHookLoadBalancer(si, r.service.URL()); err != nil {
		return errorResult(err)
	}
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
	if p := listenerURLProblem(si, r.service.URL()); p != "" {
		res.problem("%s", p)
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
		TestListenerARN: hookTestListener, ProdListenerARN: hookProdListener,
		GreenTaskSet: "ecs-svc/2222222222222222222", GreenTargetGroup: "orders-green",
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

// The demo deployment group's load balancer and its two listeners.
const (
	hookLoadBalancer = "arn:aws:elasticloadbalancing:" + standin.Region + ":" + standin.AccountID + ":loadbalancer/app/orders/50dc6c495c0c9188"
	hookTestListener = "arn:aws:elasticloadbalancing:" + standin.Region + ":" + standin.AccountID + ":listener/app/orders/50dc6c495c0c9188/test8443"
	hookProdListener = "arn:aws:elasticloadbalancing:" + standin.Region + ":" + standin.AccountID + ":listener/app/orders/50dc6c495c0c9188/prod443"
)

// addHookLoadBalancer seeds the load balancer whose test listener serves
// serviceURL (http://127.0.0.1:<port>): DNS name "127.0.0.1", the test
// listener HTTP on the service's port, the production one HTTP on 80
// (no spec of the demo probes it).
func addHookLoadBalancer(si *standin.Server, serviceURL string) error {
	u, err := url.Parse(serviceURL)
	if err != nil {
		return fmt.Errorf("sample service URL %q: %w", serviceURL, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("sample service URL %q: want http://<host>:<port>", serviceURL)
	}
	si.AddLoadBalancer(standin.LoadBalancer{ARN: hookLoadBalancer, Name: "orders", DNSName: u.Hostname(), Listeners: []standin.LBListener{
		{ARN: hookTestListener, Protocol: "HTTP", Port: port},
		{ARN: hookProdListener, Protocol: "HTTP", Port: 80},
	}})
	return nil
}

// listenerURLProblem says what is wrong with the hook's #{TEST_LISTENER_URL}
// ("" nothing): verify must have read the test listener and its load
// balancer from Elastic Load Balancing without an error, and the published
// verdict's check must have probed the sample service through it — a
// Failed verdict alone would not tell a broken green from a URL that
// could not be resolved.
func listenerURLProblem(si *standin.Server, serviceURL string) string {
	ls, lbs := si.CallsTo(standin.ELBv2, "DescribeListeners"), si.CallsTo(standin.ELBv2, "DescribeLoadBalancers")
	if len(ls) == 0 || len(lbs) == 0 {
		return fmt.Sprintf("verify made %d DescribeListeners and %d DescribeLoadBalancers calls; want at least one of each (#{TEST_LISTENER_URL})", len(ls), len(lbs))
	}
	for _, c := range append(ls, lbs...) {
		if c.ErrorCode != "" {
			return fmt.Sprintf("Elastic Load Balancing answered %s with %s", c.Operation, c.ErrorCode)
		}
	}
	for _, e := range si.Events() {
		detail, _ := e["Detail"].(string)
		var d contract.VerificationCompleted
		if e["DetailType"] != contract.VerificationDetailType || json.Unmarshal([]byte(detail), &d) != nil {
			continue
		}
		for _, c := range d.Checks {
			if strings.HasPrefix(c.Target, serviceURL+"/health") {
				return ""
			}
		}
	}
	return fmt.Sprintf("no published verdict has a check of %s/health (the test listener's URL)", serviceURL)
}
