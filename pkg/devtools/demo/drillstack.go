package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/drill"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// DemoStack is the local demo stack's name.
const DemoStack = "PostdeployDemo"

// alarmFilter is remediate's subscription filter policy, as the stack
// sets it (infra/stack remediateFilter, FilterPolicyScope MessageBody):
// CloudWatch's alarm notifications reach remediate, the suite's own
// notifications on the same topics do not.
const alarmFilter = `{"AlarmArn":[{"prefix":"arn:aws:cloudwatch:"}]}`

// drillDashboards are the demo stack's dashboards: one widget with data
// (the seeded CPU series), one without (memory: flagged), and an alarm
// widget (not a metric widget: not checked).
var drillDashboards = map[string]string{
	"app-System-Health-Overview": `{"widgets":[
		{"type":"text","properties":{"markdown":"# System Health Overview\nInfrastructure health of application **app**."}},
		{"type":"metric","properties":{"title":"EC2 CPU utilization (%)","view":"timeSeries","region":"us-east-1","metrics":[["AWS/EC2","CPUUtilization","AutoScalingGroupName","app-asg",{"stat":"Average"}]],"period":300}},
		{"type":"metric","properties":{"title":"EC2 memory used (%)","view":"timeSeries","region":"us-east-1","metrics":[["CWAgent","mem_used_percent","AutoScalingGroupName","app-asg",{"stat":"Average"}]],"period":300}},
		{"type":"alarm","properties":{"title":"Alarms","alarms":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:app-high-cpu"]}}]}`,
}

// drillRig is the local demo stack under the harness: the stand-in with
// the stack, respond and remediate running under the Lambda harness, and
// the stand-in's deliveries wired to them as the stack wires them (SNS
// lambda subscriptions → remediate, the EventBridge alarm rule →
// respond).
type drillRig struct {
	si                 *standin.Server
	respond, remediate *lambdarun.Function
	table              string // the env entry POSTDEPLOY_STATE_TABLE=…
	tableName          string
	wg                 sync.WaitGroup
	mu                 sync.Mutex
	invokeErrs         []string
	invocations        map[string]int
}

// startDrillStack starts the local demo stack.
func (r *rig) startDrillStack(ctx context.Context) (_ *drillRig, err error) {
	si, err := r.newStandin("drill.yaml")
	if err != nil {
		return nil, err
	}
	d := &drillRig{si: si, invocations: map[string]int{}}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	policy, err := os.ReadFile(filepath.Join(r.root, "functions", "remediate", "policy.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read the shipped remediation policy: %w", err)
	}
	si.SetParameter(standin.Parameter{Name: remediationPolicyParameter, Value: string(policy)})
	if d.table, err = r.freshTable(ctx); err != nil {
		return nil, err
	}
	d.tableName = strings.TrimPrefix(d.table, "POSTDEPLOY_STATE_TABLE=")
	if d.respond, err = r.start(ctx, "respond", si, d.table, suiteAlarmPrefixEnv()); err != nil {
		return nil, err
	}
	if d.remediate, err = r.start(ctx, "remediate", si, d.table); err != nil {
		return nil, err
	}
	res := []standin.StackResource{}
	for _, k := range notify.Kinds {
		res = append(res, standin.StackResource{LogicalID: string(k) + "Topic", Type: "AWS::SNS::Topic", PhysicalID: topicARN(k)})
	}
	for _, k := range []notify.Kind{notify.HighCPU, notify.Application, notify.Infrastructure, notify.Security} {
		if _, err := si.Subscribe(topicARN(k), "lambda", d.remediate.ARN(), map[string]string{
			"FilterPolicy": alarmFilter, "FilterPolicyScope": standin.ScopeMessageBody,
		}); err != nil {
			return nil, fmt.Errorf("subscribe remediate to %s: %w", k, err)
		}
	}
	for _, a := range si.AlarmStates() { // every alarm of drill.yaml is the stack's
		res = append(res, standin.StackResource{LogicalID: strings.ReplaceAll(a.Name, "-", ""), Type: "AWS::CloudWatch::Alarm", PhysicalID: a.Name})
	}
	for name, body := range drillDashboards {
		si.PutDashboard(name, body)
		res = append(res, standin.StackResource{LogicalID: strings.ReplaceAll(name, "-", ""), Type: "AWS::CloudWatch::Dashboard", PhysicalID: name})
	}
	if err := si.AddStack(standin.Stack{
		Name: DemoStack, Description: "postdeploy: verifies deployments, remediates alarms, triages events",
		Outputs:   map[string]string{"StateTableName": d.tableName, "TokenKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + tokenKeySecret},
		Resources: res,
	}); err != nil {
		return nil, err
	}
	si.SetHooks(standin.Hooks{Lambda: d.deliverSNS, Event: d.deliverEvent})
	return d, nil
}

// deliverSNS is SNS invoking a subscribed function (asynchronously).
func (d *drillRig) deliverSNS(fnARN string, payload []byte) {
	if fnARN != d.remediate.ARN() {
		d.failed(fmt.Sprintf("SNS delivery to %s: no such function in the demo stack", fnARN))
		return
	}
	d.invoke("remediate", d.remediate, payload)
}

// deliverEvent is EventBridge applying the stack's alarm rule: alarm
// state changes from aws.cloudwatch, but for TargetTracking-* alarms
// (infra/stack rules.go), go to respond. The stack's rule also leaves out
// the suite's own alarms (PostdeployDemo-…); the rig delivers them all
// the same, so the drill proves respond's own check too: respond leaves
// them to their alarm actions (suiteAlarmPrefixEnv).
func (d *drillRig) deliverEvent(ev []byte) {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(ev, &e); err != nil {
		d.failed("EventBridge event: " + err.Error())
		return
	}
	a, err := contract.AlarmFromEventBridge(e)
	if err != nil || strings.HasPrefix(a.Name, "TargetTracking-") {
		return
	}
	d.invoke("respond", d.respond, ev)
}

func (d *drillRig) invoke(name string, fn *lambdarun.Function, payload []byte) {
	d.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), fn.Timeout()+10*time.Second)
		defer cancel()
		res, err := fn.Invoke(ctx, payload)
		d.mu.Lock()
		d.invocations[name]++
		d.mu.Unlock()
		switch {
		case err != nil:
			d.failed(name + ": " + err.Error())
		case res.Err != nil:
			d.failed(fmt.Sprintf("%s: function error %v", name, res.Err))
		}
	})
}

func (d *drillRig) failed(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.invokeErrs = append(d.invokeErrs, s)
}

// Close waits for the deliveries in flight, then stops everything.
func (d *drillRig) Close() {
	if d.si != nil {
		d.si.SetHooks(standin.Hooks{})
	}
	d.wg.Wait()
	for _, fn := range []*lambdarun.Function{d.respond, d.remediate} {
		if fn != nil {
			_ = fn.Close()
		}
	}
	if d.si != nil {
		d.si.Close()
	}
}

// drillClients builds the drill's SDK clients on the stand-in and
// dynalite, with static credentials, as `postdeploy drill` builds them on
// the caller's.
func (r *rig) newDrill(ctx context.Context, d *drillRig, log io.Writer) (*drill.Drill, error) {
	dyn, err := r.dynalite(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(standin.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("demo", "demo", "")),
		config.WithBaseEndpoint(d.si.URL()))
	if err != nil {
		return nil, fmt.Errorf("drill clients: %w", err)
	}
	store := func(table string) drill.AuditTrail { return state.New(dyn.Client(), table) }
	// Settle: the stand-in's subscriptions take effect at once. Timeout
	// bounds a path that never shows; a working one ends the wait as soon
	// as it arrives, so the bound is generous for a loaded shared machine
	// (one run at load 14 took over 20 s for respond's page).
	return &drill.Drill{
		Stacks: cloudformation.NewFromConfig(cfg), Alarms: cloudwatch.NewFromConfig(cfg),
		Topics: sns.NewFromConfig(cfg), Queues: sqs.NewFromConfig(cfg),
		Trail:   store,
		Timeout: 45 * time.Second, Poll: 50 * time.Millisecond, Settle: drill.NoSettle, ReceiveWait: 1,
		Log: log,
	}, nil
}

// runDrill runs the alert drill against the local demo stack.
func (r *rig) runDrill(ctx context.Context, log io.Writer) (*drill.Report, *drillRig, error) {
	d, err := r.startDrillStack(ctx)
	if err != nil {
		return nil, nil, err
	}
	dr, err := r.newDrill(ctx, d, log)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	rep, err := dr.Run(ctx, DemoStack)
	return rep, d, err
}
