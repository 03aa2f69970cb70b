package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// fakeCodeDeploy holds deployments whose one target runs lifecycle
// events, and behaves as the CodeDeploy API Reference documents for
// PutLifecycleEventHookExecutionStatus: a status for a deployment it
// does not know is DeploymentDoesNotExistException, a second status for
// the same hook execution LifecycleEventAlreadyCompletedException.
type fakeCodeDeploy struct {
	mu       sync.Mutex
	deploys  map[string]*fakeDeployment
	statuses []*codedeploy.PutLifecycleEventHookExecutionStatusInput // every call, accepted or not
	putErr   error                                                   // returned once by the next Put, after applying it
	readErr  error
}

type fakeDeployment struct {
	info    cdtypes.DeploymentInfo
	events  []cdtypes.LifecycleEvent
	taskSet []cdtypes.ECSTaskSet
	execs   map[string]string // hook execution id → lifecycle event name
}

var _ CodeDeployAPI = (*fakeCodeDeploy)(nil)

func (f *fakeCodeDeploy) GetDeployment(_ context.Context, in *codedeploy.GetDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return nil, f.readErr
	}
	d, ok := f.deploys[aws.ToString(in.DeploymentId)]
	if !ok {
		return nil, &cdtypes.DeploymentDoesNotExistException{Message: aws.String("not found")}
	}
	info := d.info
	return &codedeploy.GetDeploymentOutput{DeploymentInfo: &info}, nil
}

func (f *fakeCodeDeploy) ListDeploymentTargets(_ context.Context, in *codedeploy.ListDeploymentTargetsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.deploys[aws.ToString(in.DeploymentId)]; !ok {
		return nil, &cdtypes.DeploymentDoesNotExistException{Message: aws.String("not found")}
	}
	return &codedeploy.ListDeploymentTargetsOutput{TargetIds: []string{"cluster:service"}}, nil
}

func (f *fakeCodeDeploy) GetDeploymentTarget(_ context.Context, in *codedeploy.GetDeploymentTargetInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentTargetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.deploys[aws.ToString(in.DeploymentId)]
	if !ok {
		return nil, &cdtypes.DeploymentDoesNotExistException{Message: aws.String("not found")}
	}
	events := append([]cdtypes.LifecycleEvent(nil), d.events...)
	t := &cdtypes.DeploymentTarget{}
	if d.info.ComputePlatform == cdtypes.ComputePlatformLambda {
		t.LambdaTarget = &cdtypes.LambdaTarget{LifecycleEvents: events, LambdaFunctionInfo: &cdtypes.LambdaFunctionInfo{FunctionName: aws.String("orders"), FunctionAlias: aws.String("live"), TargetVersion: aws.String("7")}}
	} else {
		t.EcsTarget = &cdtypes.ECSTarget{LifecycleEvents: events, TaskSetsInfo: d.taskSet}
	}
	return &codedeploy.GetDeploymentTargetOutput{DeploymentTarget: t}, nil
}

func (f *fakeCodeDeploy) PutLifecycleEventHookExecutionStatus(_ context.Context, in *codedeploy.PutLifecycleEventHookExecutionStatusInput, _ ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = append(f.statuses, in)
	d, ok := f.deploys[aws.ToString(in.DeploymentId)]
	if !ok {
		return nil, &cdtypes.DeploymentDoesNotExistException{Message: aws.String("not found")}
	}
	name, ok := d.execs[aws.ToString(in.LifecycleEventHookExecutionId)]
	if !ok {
		return nil, &cdtypes.InvalidLifecycleEventHookExecutionIdException{Message: aws.String("unknown hook execution")}
	}
	for i, e := range d.events {
		if aws.ToString(e.LifecycleEventName) != name {
			continue
		}
		if e.Status != cdtypes.LifecycleEventStatusInProgress {
			return nil, &cdtypes.LifecycleEventAlreadyCompletedException{Message: aws.String("already completed")}
		}
		d.events[i].Status = in.Status
	}
	if err := f.putErr; err != nil {
		f.putErr = nil
		return nil, err
	}
	return &codedeploy.PutLifecycleEventHookExecutionStatusOutput{LifecycleEventHookExecutionId: in.LifecycleEventHookExecutionId}, nil
}

func (f *fakeCodeDeploy) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.statuses) }

func (f *fakeCodeDeploy) status(i int) cdtypes.LifecycleEventStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statuses[i].Status
}

// fakeLambda records the hand-overs verify sends itself.
type fakeLambda struct {
	mu       sync.Mutex
	payloads [][]byte
	err      error
}

var _ LambdaInvokeAPI = (*fakeLambda)(nil)

func (f *fakeLambda) Invoke(_ context.Context, in *awslambda.InvokeInput, _ ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.InvocationType != lambdatypes.InvocationTypeEvent {
		return nil, fmt.Errorf("test: hand-over with InvocationType %q; want Event", in.InvocationType)
	}
	if f.err != nil {
		return nil, f.err
	}
	f.payloads = append(f.payloads, in.Payload)
	return &awslambda.InvokeOutput{StatusCode: 202}, nil
}

func (f *fakeLambda) take() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.payloads
	f.payloads = nil
	return p
}

// fakeClaims is pkg/state's Claim on a map, on the test clock.
type fakeClaims struct {
	mu    sync.Mutex
	now   func() time.Time
	until map[string]time.Time
}

func (f *fakeClaims) Claim(_ context.Context, key string, ttl time.Duration, _ map[string]string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.until[key]; ok && f.now().Before(u) {
		return false, nil
	}
	f.until[key] = f.now().Add(ttl)
	return true, nil
}

const (
	hookDeployment = "d-ABCDEFGH1"
	hookExec       = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
	hookParam      = "/postdeploy/codedeploy/orders/orders-bg"
	testListener   = "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/orders/0123456789abcdef/fedcba9876543210"
)

type hookEnv struct {
	*env
	cd     *fakeCodeDeploy
	lam    *fakeLambda
	claims *fakeClaims
	events *fakeEvents
	h      *HookVerifier
}

// newHookEnv seeds one ECS blue/green deployment (or Lambda, by
// platform) whose hook is in progress since startedAgo.
func newHookEnv(sm *scripted, platform cdtypes.ComputePlatform, hook string, startedAgo time.Duration) *hookEnv {
	e := &hookEnv{env: newEnv(sm), cd: &fakeCodeDeploy{deploys: map[string]*fakeDeployment{}}, lam: &fakeLambda{}, events: &fakeEvents{}}
	e.claims = &fakeClaims{now: e.clock.Now, until: map[string]time.Time{}}
	e.v.Events = telemetry.Events{API: e.events, Bus: "postdeploy-verdicts", Source: contract.VerificationSource}
	e.h = &HookVerifier{V: e.v, CodeDeploy: e.cd, Lambda: e.lam, FunctionName: "postdeploy-verify", Claims: e.claims, SpecPrefix: "/postdeploy/codedeploy/"}
	e.v.Hooks = e.h
	started := e.clock.Now().Add(-startedAgo)
	e.cd.deploys[hookDeployment] = &fakeDeployment{
		info: cdtypes.DeploymentInfo{DeploymentId: aws.String(hookDeployment), ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-bg"),
			ComputePlatform: platform, Status: cdtypes.DeploymentStatusInProgress,
			AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}},
			LoadBalancerInfo: &cdtypes.LoadBalancerInfo{TargetGroupPairInfoList: []cdtypes.TargetGroupPairInfo{{
				TestTrafficRoute: &cdtypes.TrafficRoute{ListenerArns: []string{testListener}},
				ProdTrafficRoute: &cdtypes.TrafficRoute{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/orders/0123456789abcdef/prod"}},
			}}}},
		events: []cdtypes.LifecycleEvent{
			{LifecycleEventName: aws.String("BeforeInstall"), Status: cdtypes.LifecycleEventStatusSucceeded},
			{LifecycleEventName: aws.String("Install"), Status: cdtypes.LifecycleEventStatusSucceeded},
			{LifecycleEventName: aws.String(hook), Status: cdtypes.LifecycleEventStatusInProgress, StartTime: aws.Time(started)},
		},
		taskSet: []cdtypes.ECSTaskSet{
			{Identifer: aws.String("ecs-svc/1111"), TaskSetLabel: cdtypes.TargetLabelBlue, TargetGroup: &cdtypes.TargetGroupInfo{Name: aws.String("orders-blue")}},   //nolint:misspell // the SDK spells Identifer so
			{Identifer: aws.String("ecs-svc/2222"), TaskSetLabel: cdtypes.TargetLabelGreen, TargetGroup: &cdtypes.TargetGroupInfo{Name: aws.String("orders-green")}}, //nolint:misspell // the SDK spells Identifer so
		},
		execs: map[string]string{hookExec: hook},
	}
	return e
}

func hookPayload(t *testing.T, ev contract.CodeDeployHookEvent) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var theHook = contract.CodeDeployHookEvent{DeploymentID: hookDeployment, LifecycleEventHookExecutionID: hookExec}

// invokeHook runs one invocation through aws-lambda-go's JSON path and
// verify's own decoder (Verifier.Invoke), as Lambda would.
func (e *hookEnv) invokeHook(t *testing.T, payload []byte, budget time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(budget))
	defer cancel()
	_, err := lambda.NewHandler(e.v).Invoke(ctx, payload)
	return err
}

// drive invokes the hook, then every hand-over verify sends itself, until
// none is left; it returns the invocations made.
func (e *hookEnv) drive(t *testing.T, budget time.Duration) int {
	t.Helper()
	queue := [][]byte{hookPayload(t, theHook)}
	n := 0
	for len(queue) > 0 && n < 100 {
		p := queue[0]
		queue = queue[1:]
		if err := e.invokeHook(t, p, budget); err != nil {
			t.Fatalf("invocation %d: %v", n+1, err)
		}
		n++
		queue = append(queue, e.lam.take()...)
	}
	return n
}

func hookSpec(section string) string {
	return "hooks:\n  AfterAllowTestTraffic:\n" + indent(section, "    ")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}

const greenSpec = `bake: 0s
checks:
  - name: green-health
    http: {url: "https://orders.example.com:8443/health"}
`

func (e *hookEnv) published(t *testing.T) []contract.VerificationCompleted {
	t.Helper()
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	var out []contract.VerificationCompleted
	for _, d := range e.events.detail {
		var v contract.VerificationCompleted
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("published detail %s: %v", d, err)
		}
		out = append(out, v)
	}
	return out
}

func TestHookReportsOnceWithTheVerdict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platform cdtypes.ComputePlatform
		hook     string
		result   func(int, int) verdict.Result
		want     cdtypes.LifecycleEventStatus
		verdict  verdict.Verdict
	}{
		{"ECS AfterAllowTestTraffic healthy green task set", cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", pass, cdtypes.LifecycleEventStatusSucceeded, verdict.Succeeded},
		{"ECS AfterAllowTestTraffic failing green task set", cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", fail503, cdtypes.LifecycleEventStatusFailed, verdict.Failed},
		{"Lambda BeforeAllowTraffic healthy", cdtypes.ComputePlatformLambda, "BeforeAllowTraffic", pass, cdtypes.LifecycleEventStatusSucceeded, verdict.Succeeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHookEnv(&scripted{result: tc.result}, tc.platform, tc.hook, time.Minute)
			e.ssm.params[hookParam] = "hooks:\n  " + tc.hook + ":\n" + indent(greenSpec, "    ")
			if n := e.drive(t, time.Minute); n != 1 {
				t.Errorf("invocations = %d; want 1", n)
			}
			if e.cd.calls() != 1 || e.cd.status(0) != tc.want {
				t.Fatalf("PutLifecycleEventHookExecutionStatus calls = %v; want exactly one %s", e.cd.statuses, tc.want)
			}
			pub := e.published(t)
			if len(pub) != 1 {
				t.Fatalf("published %d events; want 1", len(pub))
			}
			p := pub[0]
			if tc.want == cdtypes.LifecycleEventStatusFailed && (strings.Contains(p.Summary, "stage") || strings.Contains(p.Summary, "pipeline") || !strings.Contains(p.Summary, "rolls it back")) {
				t.Errorf("a hook's failure summary speaks of a pipeline, or not of CodeDeploy's rollback:\n%s", p.Summary)
			}
			if p.Verdict != tc.verdict || p.DeploymentID != hookDeployment || p.Hook != tc.hook || p.Application != "orders" || p.DeploymentGroup != "orders-bg" || p.HookExecutionID != hookExec || !p.AutoRollback || p.Pipeline != "" || p.JobID != "" {
				t.Errorf("published %+v; want verdict %s for deployment %s hook %s, application orders, group orders-bg, autoRollback, no pipeline or job", p, tc.verdict, hookDeployment, tc.hook)
			}
		})
	}
}

func fail503(int, int) verdict.Result {
	return verdict.Result{Verdict: verdict.Failed, Target: "https://orders.example.com:8443/health", Observed: "status 503", Expected: "2xx"}
}

// The spec sees the hook's variables, read from CodeDeploy: the test
// listener and the green task set of the ECS blue/green deployment.
func TestHookSpecGetsTheDeploymentsVariables(t *testing.T) {
	e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
	var got spec.Spec
	build := e.v.Build
	e.v.Build = func(s spec.Spec) (check.Suite, error) { got = s; return build(s) }
	e.ssm.params[hookParam] = hookSpec(`checks:
  - name: green
    http:
      url: "https://orders.example.com:8443/health?d=#{DEPLOYMENT_ID}&a=#{APPLICATION}&g=#{DEPLOYMENT_GROUP}&h=#{HOOK}&l=#{TEST_LISTENER_ARN}&ts=#{GREEN_TASK_SET}&tg=#{GREEN_TARGET_GROUP}"
`)
	e.drive(t, time.Minute)
	if len(got.Checks) != 1 {
		t.Fatalf("Build saw %d checks; want 1 (statuses %v, logs %s)", len(got.Checks), e.cd.statuses, e.logs)
	}
	want := "https://orders.example.com:8443/health?d=" + hookDeployment + "&a=orders&g=orders-bg&h=AfterAllowTestTraffic&l=" + testListener + "&ts=ecs-svc/2222&tg=orders-green"
	if u := got.Checks[0].HTTP.URL; u != want {
		t.Errorf("url = %q; want %q", u, want)
	}
}

// Bad input: each case ends in exactly one Failed status naming the cause
// (in the log line and the published event, since the status carries no
// message), or — when there is no hook to report to — in no status and a
// counted, named refusal.
func TestHookBadInput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		param    string // hook spec document ("" none)
		mutate   func(*hookEnv)
		payload  []byte
		wantErr  string // substring of the error returned to Lambda ("" nil)
		statuses int
		wantLog  string // substring of the log (the cause)
	}{
		{name: "deployment does not exist", payload: hookPayload(t, contract.CodeDeployHookEvent{DeploymentID: "d-NOSUCH000", LifecycleEventHookExecutionID: hookExec}),
			wantErr: "CodeDeploy has no deployment d-NOSUCH000", wantLog: "codedeploy-hook-unknown-deployment"},
		{name: "no spec for the deployment group", statuses: 1, wantLog: `SSM parameter \"/postdeploy/codedeploy/orders/orders-bg\" not found`},
		{name: "no section for the running hook", param: "hooks:\n  AfterAllowTraffic:\n" + indent(greenSpec, "    "), statuses: 1,
			wantLog: "hooks.AfterAllowTestTraffic: is missing: the deployment is running its AfterAllowTestTraffic hook"},
		{name: "invalid spec names its path", param: hookSpec("checks:\n  - name: x\n    http: {url: \"https://a.example.com\", timout: 3s}\n"), statuses: 1,
			wantLog: "hooks.AfterAllowTestTraffic.checks[0].http"},
		{name: "hook the platform does not run", param: "hooks:\n  AfterAllowTestTraffic:\n" + indent(greenSpec, "    ") + "  ApplicationStart:\n" + indent(greenSpec, "    "), statuses: 1,
			wantLog: `unknown lifecycle event \"ApplicationStart\"`},
		{name: "key twice in the document", param: hookSpec(greenSpec) + "  AfterAllowTestTraffic:\n" + indent(greenSpec, "    "), statuses: 1,
			wantLog: "AfterAllowTestTraffic"},
		{name: "deployment already finished", param: hookSpec(greenSpec), mutate: func(e *hookEnv) {
			e.cd.deploys[hookDeployment].info.Status = cdtypes.DeploymentStatusSucceeded
		}, wantLog: "codedeploy-hook-not-running"},
		{name: "EC2 deployment has no Lambda hooks", param: hookSpec(greenSpec), mutate: func(e *hookEnv) {
			e.cd.deploys[hookDeployment].info.ComputePlatform = cdtypes.ComputePlatformServer
		}, wantErr: "only ECS and Lambda deployments", wantLog: "codedeploy-hook-unsupported-platform"},
		{name: "CodeDeploy unreadable", param: hookSpec(greenSpec), mutate: func(e *hookEnv) {
			e.cd.readErr = errors.New("ThrottlingException: Rate exceeded")
		}, statuses: 1, wantLog: "could not confirm the hook with CodeDeploy"},
		{name: "malformed deployment id", payload: []byte(`{"DeploymentId":"d-1; drop","LifecycleEventHookExecutionId":"x"}`),
			wantErr: "is not a CodeDeploy deployment id", wantLog: "codedeploy-hook-malformed"},
		{name: "unknown key", payload: []byte(`{"DeploymentId":"d-ABCDEFGH1","LifecycleEventHookExecutionId":"x","Status":"Succeeded"}`),
			wantErr: `unknown key "Status"`, wantLog: "codedeploy-hook-malformed"},
		{name: "missing execution id", payload: []byte(`{"DeploymentId":"d-ABCDEFGH1"}`),
			wantErr: "LifecycleEventHookExecutionId \"\" is missing", wantLog: "codedeploy-hook-malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
			e.v.Metrics = telemetry.NewMetrics("postdeploy", e.logs)
			if tc.param != "" {
				e.ssm.params[hookParam] = tc.param
			}
			if tc.mutate != nil {
				tc.mutate(e)
			}
			p := tc.payload
			if p == nil {
				p = hookPayload(t, theHook)
			}
			err := e.invokeHook(t, p, time.Minute)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("invoke error = %v; want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("invoke error = %v; want one containing %q", err, tc.wantErr)
			}
			if n := e.cd.calls(); n != tc.statuses {
				t.Errorf("status calls = %d; want %d", n, tc.statuses)
			}
			if tc.statuses == 1 && e.cd.status(0) != cdtypes.LifecycleEventStatusFailed {
				t.Errorf("status = %s; want Failed", e.cd.status(0))
			}
			if !strings.Contains(e.logs.String(), tc.wantLog) {
				t.Errorf("log does not name the cause %q:\n%s", tc.wantLog, e.logs)
			}
			if tc.statuses == 1 {
				pub := e.published(t)
				if len(pub) != 1 || pub[0].Verdict == verdict.Succeeded || pub[0].Summary == "" {
					t.Errorf("published %+v; want one event with a non-Succeeded verdict and the cause as summary", pub)
				}
			}
		})
	}
}

// aws-lambda-go's CodeDeploy samples are EventBridge state-change events:
// a hook handler never gets them from CodeDeploy and refuses them by name.
func TestHookRefusesAWSCodeDeploySamples(t *testing.T) {
	samples := awsSampleEvents(t)
	for _, name := range []string{"codedeploy-deployment-event.json", "codedeploy-instance-event.json"} {
		t.Run(name, func(t *testing.T) {
			b, ok := samples[name]
			if !ok {
				t.Fatalf("aws-lambda-go has no %s", name)
			}
			e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
			err := e.invokeHook(t, b, time.Minute)
			var he *HookEventError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), "deployment state change") || !strings.Contains(err.Error(), "AppSpec hooks section") {
				t.Errorf("Invoke(%s) error = %v; want a HookEventError saying it is a state-change event, not a hook invocation", name, err)
			}
			if e.cd.calls() != 0 || e.cp.reports() != 0 {
				t.Errorf("Invoke(%s) made %d status calls and %d job reports; want none", name, e.cd.calls(), e.cp.reports())
			}
		})
	}
}

// Duplicate deliveries (Lambda's asynchronous invocation is at least
// once, and retried) never produce a second status call; a status
// CodeDeploy already has is taken as reported.
func TestHookExactlyOnceUnderDuplicateDeliveries(t *testing.T) {
	t.Run("duplicate delivered while the first runs is dropped by the claim", func(t *testing.T) {
		var e *hookEnv
		var dupErr error
		var sent atomic.Bool
		e = newHookEnv(&scripted{result: func(n, i int) verdict.Result {
			// The copy arrives while the first invocation is sampling.
			if sent.CompareAndSwap(false, true) {
				dupErr = e.invokeHook(t, hookPayload(t, theHook), time.Minute)
			}
			return pass(n, i)
		}}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		if err := e.invokeHook(t, hookPayload(t, theHook), time.Minute); err != nil || dupErr != nil {
			t.Fatalf("invoke = %v, duplicate = %v; want nil, nil", err, dupErr)
		}
		if n := e.cd.calls(); n != 1 {
			t.Errorf("status calls = %d; want 1", n)
		}
		if !strings.Contains(e.logs.String(), "duplicate delivery") {
			t.Errorf("the duplicate was not logged as one:\n%s", e.logs)
		}
	})
	t.Run("hook completed while baking is not reported again", func(t *testing.T) {
		var e *hookEnv
		e = newHookEnv(&scripted{result: func(n, i int) verdict.Result {
			// Another delivery reports while this one samples.
			e.cd.mu.Lock()
			e.cd.deploys[hookDeployment].events[2].Status = cdtypes.LifecycleEventStatusSucceeded
			e.cd.mu.Unlock()
			return pass(n, i)
		}}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.h.Claims = nil
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		if err := e.invokeHook(t, hookPayload(t, theHook), time.Minute); err != nil {
			t.Fatal(err)
		}
		if n := e.cd.calls(); n != 0 {
			t.Errorf("status calls = %d; want 0 (the re-read before reporting sees the hook completed)", n)
		}
	})
	t.Run("redelivery after the report sees the hook completed", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.h.Claims = nil
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		for i := range 3 {
			if err := e.invokeHook(t, hookPayload(t, theHook), time.Minute); err != nil {
				t.Fatalf("invoke %d: %v", i, err)
			}
		}
		if n := e.cd.calls(); n != 1 {
			t.Errorf("status calls = %d; want 1", n)
		}
	})
	t.Run("second status is refused by CodeDeploy and taken as reported", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		d := e.cd.deploys[hookDeployment]
		run := hookRun{ev: theHook, platform: cdtypes.ComputePlatformEcs, hook: "AfterAllowTestTraffic", started: aws.ToTime(d.events[2].StartTime)}
		inv := &invocation{log: e.v.log(), secrets: &secrets{}, w: newWindow(context.Background(), e.clock.Now(), time.Second)}
		d.events[2].Status = cdtypes.LifecycleEventStatusSucceeded // reported meanwhile, after the re-read
		e.h.Claims = nil
		run.hook = "" // skip the re-read: the race in which both pass it
		if err := e.h.conclude(context.Background(), inv, run, decision{final: true, ok: true}); err != nil {
			t.Errorf("conclude = %v; want nil (LifecycleEventAlreadyCompletedException is already reported)", err)
		}
		if len(e.published(t)) != 0 {
			t.Errorf("published an event for a status CodeDeploy refused")
		}
	})
	t.Run("failed report is an error so Lambda retries, and the retry does not report twice", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		e.cd.putErr = errors.New("InternalFailure after apply")
		err := e.invokeHook(t, hookPayload(t, theHook), time.Minute)
		var re *ReportError
		if !errors.As(err, &re) || re.Report != ReportHookStatus {
			t.Fatalf("invoke = %v; want a ReportError for %s", err, ReportHookStatus)
		}
		_ = e.clock.Sleep(context.Background(), 2*time.Minute) // Lambda's retry comes a minute or more later
		if err := e.invokeHook(t, hookPayload(t, theHook), time.Minute); err != nil {
			t.Fatalf("retry = %v; want nil", err)
		}
		if n := e.cd.calls(); n != 1 {
			t.Errorf("status calls = %d; want 1 (the first was applied; the retry re-reads the hook and stops)", n)
		}
	})
}

// A bake longer than one invocation hands over to the next through a
// signed self-invocation; a duplicated hand-over does not bake twice, and
// one made for another hook execution is refused.
func TestHookBakeOutlastsOneInvocation(t *testing.T) {
	section := "bake: 6s\ninterval: 1s\nchecks:\n  - name: green\n    http: {url: \"https://orders.example.com:8443/health\"}\n"
	t.Run("hand-overs carry the bake to one status", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(section)
		n := e.drive(t, 3*time.Second)
		if n < 2 {
			t.Errorf("invocations = %d; want ≥2 (a hand-over)", n)
		}
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusSucceeded {
			t.Errorf("statuses = %v; want one Succeeded", e.cd.statuses)
		}
	})
	t.Run("duplicated hand-over is dropped", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(section)
		if err := e.invokeHook(t, hookPayload(t, theHook), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		next := e.lam.take()
		if len(next) != 1 {
			t.Fatalf("hand-overs = %d; want 1", len(next))
		}
		for range 2 { // the same event delivered twice, concurrently
			if err := e.invokeHook(t, next[0], 3*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(e.lam.take()); got > 1 {
			t.Errorf("the duplicated step handed over %d times; want at most 1", got)
		}
	})
	t.Run("hand-over for another hook execution is refused", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(section)
		if err := e.invokeHook(t, hookPayload(t, theHook), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		var next contract.CodeDeployHookEvent
		if err := json.Unmarshal(e.lam.take()[0], &next); err != nil {
			t.Fatal(err)
		}
		other := "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
		e.cd.deploys[hookDeployment].execs = map[string]string{other: "AfterAllowTestTraffic"}
		next.LifecycleEventHookExecutionID = other
		if err := e.invokeHook(t, hookPayload(t, next), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusFailed || !strings.Contains(e.logs.String(), "written for another hook execution") {
			t.Errorf("statuses = %v; want one Failed naming the foreign continuation; logs:\n%s", e.cd.statuses, e.logs)
		}
	})
	t.Run("hand-over that cannot be sent fails the hook at once", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		e.ssm.params[hookParam] = hookSpec(section)
		e.lam.err = errors.New("AccessDeniedException")
		if err := e.invokeHook(t, hookPayload(t, theHook), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusFailed || !strings.Contains(e.logs.String(), "handing it over to the next failed") {
			t.Errorf("statuses = %v; want one Failed naming the hand-over", e.cd.statuses)
		}
	})
}

// CodeDeploy allows a hook one hour from its lifecycle event's start;
// verify reports Failed, saying why, before that.
func TestHookNeverOutlivesItsHour(t *testing.T) {
	for _, tc := range []struct {
		name       string
		startedAgo time.Duration
		section    string
		wantLog    string
	}{
		{"bake longer than the time left is refused up front", 40 * time.Minute,
			"bake: 30m\ninterval: 1m\nchecks:\n  - name: green\n    http: {url: \"https://orders.example.com/health\"}\n", "after the hook's limit"},
		{"hook already past its limit less the margin", 59 * time.Minute, greenSpec, "ran out of the hook's time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", tc.startedAgo)
			e.ssm.params[hookParam] = hookSpec(tc.section)
			e.drive(t, 15*time.Minute)
			if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusFailed || !strings.Contains(e.logs.String(), tc.wantLog) {
				t.Errorf("statuses = %v; want one Failed with %q; logs:\n%s", e.cd.statuses, tc.wantLog, e.logs)
			}
		})
	}
	t.Run("a bake that fits ends with its verdict before the limit", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", 30*time.Minute)
		e.ssm.params[hookParam] = hookSpec("bake: 20m\ninterval: 5m\nchecks:\n  - name: green\n    http: {url: \"https://orders.example.com/health\"}\n")
		start := e.clock.Now()
		e.drive(t, 15*time.Minute)
		limit := start.Add(-30 * time.Minute).Add(HookTimeLimit - DefaultHookMargin)
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusSucceeded {
			t.Fatalf("statuses = %v; want one Succeeded", e.cd.statuses)
		}
		if e.clock.Now().After(limit) {
			t.Errorf("reported at %s; want before the limit %s", e.clock.Now(), limit)
		}
	})
}

// A misconfigured verify still ends a running hook at once: one Failed
// status, and a ConfigError naming the problem for Lambda.
func TestUnconfiguredFailsTheHook(t *testing.T) {
	e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
	u := &Unconfigured{CodePipeline: e.cp, CodeDeploy: e.cd, Err: errors.New("POSTDEPLOY_SAFETY_MARGIN=\"soon\": not a duration"), Log: e.v.Log, Now: e.clock.Now, Sleep: e.clock.Sleep}
	ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(time.Minute))
	defer cancel()
	_, err := lambda.NewHandler(u).Invoke(ctx, hookPayload(t, theHook))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "POSTDEPLOY_SAFETY_MARGIN") {
		t.Errorf("Invoke = %v; want a ConfigError naming the problem", err)
	}
	if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusFailed || e.cp.reports() != 0 {
		t.Errorf("statuses %v, job reports %d; want one Failed status and no job report", e.cd.statuses, e.cp.reports())
	}
}

// events/verify-codedeploy-hook.json is the payload CodeDeploy sends a
// hook function (the AppSpec 'hooks' section's sample functions read
// exactly these two keys), and it goes the whole JSON path to one status.
func TestHookEventFile(t *testing.T) {
	e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
	e.ssm.params[hookParam] = hookSpec(greenSpec)
	if err := e.invokeHook(t, readEvent(t, "verify-codedeploy-hook.json"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusSucceeded {
		t.Errorf("statuses = %v; want one Succeeded", e.cd.statuses)
	}
}

// The window ends at the hook's limit when that comes first, and a hook
// already past its limit still gets a report window (run fails it at
// once; the report must not be cut off before it is sent).
func TestHookWindow(t *testing.T) {
	for _, tc := range []struct {
		name       string
		startedAgo time.Duration
		budget     time.Duration
		wantEnd    func(now, limit, deadline time.Time) time.Time
	}{
		{"limit after the deadline: Lambda's window", time.Minute, 15 * time.Minute, func(_, _, d time.Time) time.Time { return d }},
		{"limit before the deadline: ends at the limit", 50 * time.Minute, 15 * time.Minute, func(_, l, _ time.Time) time.Time { return l }},
		{"past the limit: Lambda's window, to report", 59 * time.Minute, 15 * time.Minute, func(_, _, d time.Time) time.Time { return d }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", tc.startedAgo)
			now := e.clock.Now()
			run := hookRun{started: now.Add(-tc.startedAgo)}
			deadline := now.Add(tc.budget)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			w, wcancel := e.h.window(ctx, run)
			defer wcancel()
			want := tc.wantEnd(now, e.h.limit(run), deadline)
			if !w.end.Equal(want) || !w.reportBy.After(now) {
				t.Errorf("window(started %s ago) = end %s, reportBy %s; want end %s and a report after now %s", tc.startedAgo, w.end, w.reportBy, want, now)
			}
		})
	}
}
