package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	code := m.Run()
	_ = db.Close()
	os.Exit(code)
}

var tableSeq atomic.Int64

// ecsFake: services prod/api (opted in) and prod/billing (not); records
// UpdateService calls; a forced deployment completes at once.
type ecsFake struct {
	mu      sync.Mutex
	updates []string
	desired map[string]int32
	cw      *alarmsFake
}

var _ remediate.ECSAPI = (*ecsFake)(nil)

var ecsTags = map[string]map[string]string{
	"api":     {"postdeploy:remediate": "true"},
	"billing": {"owner": "billing"},
}

func (f *ecsFake) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecs.DescribeServicesOutput{}
	for _, s := range in.Services {
		n, ok := f.desired[s]
		if !ok {
			n = 2
		}
		svc := ecstypes.Service{ServiceName: aws.String(s), DesiredCount: n, RunningCount: n, Deployments: []ecstypes.Deployment{{
			Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), RolloutState: ecstypes.DeploymentRolloutStateCompleted,
		}}}
		for k, v := range ecsTags[s] {
			svc.Tags = append(svc.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out.Services = append(out.Services, svc)
	}
	return out, nil
}

func (f *ecsFake) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := fmt.Sprintf("%s/%s force=%t", aws.ToString(in.Cluster), aws.ToString(in.Service), in.ForceNewDeployment)
	if in.DesiredCount != nil {
		if f.desired == nil {
			f.desired = map[string]int32{}
		}
		f.desired[aws.ToString(in.Service)] = *in.DesiredCount
		u += fmt.Sprintf(" desired=%d", *in.DesiredCount)
	}
	f.updates = append(f.updates, u)
	f.cw.acted()
	return &ecs.UpdateServiceOutput{Service: &ecstypes.Service{ServiceName: in.Service, Deployments: []ecstypes.Deployment{{
		Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), RolloutState: ecstypes.DeploymentRolloutStateCompleted,
	}}}}, nil
}

// ec2Fake: one opted-in instance; records reboots.
type ec2Fake struct {
	mu      sync.Mutex
	reboots []string
	cw      *alarmsFake
}

var _ remediate.EC2API = (*ec2Fake)(nil)

func (f *ec2Fake) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	var r ec2types.Reservation
	for _, id := range in.InstanceIds {
		r.Instances = append(r.Instances, ec2types.Instance{InstanceId: aws.String(id), Tags: []ec2types.Tag{{Key: aws.String("postdeploy:remediate"), Value: aws.String("true")}}})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{r}}, nil
}

func (f *ec2Fake) DescribeInstanceStatus(_ context.Context, in *ec2.DescribeInstanceStatusInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	ok := &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusOk}
	return &ec2.DescribeInstanceStatusOutput{InstanceStatuses: []ec2types.InstanceStatus{{
		InstanceId: aws.String(in.InstanceIds[0]), InstanceState: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
		InstanceStatus: ok, SystemStatus: ok,
	}}}, nil
}

func (f *ec2Fake) RebootInstances(_ context.Context, in *ec2.RebootInstancesInput, _ ...func(*ec2.Options)) (*ec2.RebootInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reboots = append(f.reboots, in.InstanceIds...)
	f.cw.acted()
	return &ec2.RebootInstancesOutput{}, nil
}

// alarmsFake: an alarm reads ALARM, except that the first read after an
// action (acted, called by the fake services' mutating calls) reads OK:
// the action fixed it.
type alarmsFake struct {
	mu    sync.Mutex
	fixed bool
}

var _ remediate.AlarmAPI = (*alarmsFake)(nil)

func (f *alarmsFake) acted() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fixed = true
}

func (f *alarmsFake) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := cwtypes.StateValueAlarm
	if f.fixed {
		st, f.fixed = cwtypes.StateValueOk, false
	}
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []cwtypes.MetricAlarm{{AlarmName: aws.String(in.AlarmNames[0]), StateValue: st}}}, nil
}

func (*alarmsFake) ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	return &cloudwatch.ListTagsForResourceOutput{}, nil
}

// snsFake records what the real notify.Router publishes.
type snsFake struct {
	mu  sync.Mutex
	pub []*sns.PublishInput
}

var _ notify.Publisher = (*snsFake)(nil)

func (f *snsFake) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pub = append(f.pub, in)
	return &sns.PublishOutput{MessageId: aws.String(fmt.Sprint(len(f.pub)))}, nil
}

// published lists "topic-kind decision" of each message.
func (f *snsFake) published() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.pub {
		kind := *p.MessageAttributes["kind"].StringValue
		dec := ""
		if v, ok := p.MessageAttributes["decision"]; ok {
			dec = " " + *v.StringValue
		}
		out = append(out, kind+dec)
	}
	return out
}

// clock is the engine's clock; Sleep advances it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return nil
}

type rig struct {
	h   *remediate.Handler
	ecs *ecsFake
	ec2 *ec2Fake
	sns *snsFake
}

func topics() map[notify.Kind]string {
	m := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		m[k] = "arn:aws:sns:us-east-1:123456789012:postdeploy-" + string(k)
	}
	return m
}

func newRig(t *testing.T) *rig {
	t.Helper()
	client := db.Server(t).Client()
	table := fmt.Sprintf("remediate-fn-%d", tableSeq.Add(1))
	if err := state.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	// The function's own way to its policy: file:policy.yaml beside it.
	policy, err := remediate.LoadPolicy(context.Background(), config.DefaultRemediationPolicy, nil, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	cw := &alarmsFake{}
	r := &rig{ecs: &ecsFake{cw: cw}, ec2: &ec2Fake{cw: cw}, sns: &snsFake{}}
	clk := &clock{t: time.Date(2026, 11, 22, 9, 0, 13, 0, time.UTC)}
	router := notify.Router{API: r.sns, Topics: topics()}
	log := slog.New(slog.DiscardHandler)
	metrics := telemetry.NewMetrics("Postdeploy", io.Discard)
	r.h = &remediate.Handler{
		Engine: &remediate.Engine{
			Policy:  policy,
			Actions: remediate.Actions(remediate.Clients{ECS: r.ecs, EC2: r.ec2, Notify: router}),
			Store:   state.New(client, table),
			Alarms:  cw,
			Notify:  router,
			Metrics: metrics,
			Log:     log,
			Region:  "us-east-1",
			// Verification polls on a clock the test moves: no real waits.
			Now:   clk.Now,
			Sleep: clk.Sleep,
		},
		Log:     log,
		Metrics: metrics,
	}
	return r
}

// invoke runs the handler the way the Lambda runtime does, on the bytes
// of an events/ file.
func (r *rig) invoke(t *testing.T, file string) error {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	_, err = lambda.NewHandler(r.h.Handle).Invoke(context.Background(), b)
	return err
}

func (r *rig) mustInvoke(t *testing.T, file string) {
	t.Helper()
	if err := r.invoke(t, file); err != nil {
		t.Fatalf("Invoke(%s) error: %v", file, err)
	}
}

func (r *rig) updates() []string {
	r.ecs.mu.Lock()
	defer r.ecs.mu.Unlock()
	return append([]string(nil), r.ecs.updates...)
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name      string
		dryRun    bool
		files     []string
		updates   []string
		reboots   []string
		published []string
	}{
		{
			name:      "ALARM on an opted-in ECS service: one forced deployment, one notification",
			files:     []string{"remediate-ecs-alarm.json"},
			updates:   []string{"prod/api force=true"},
			published: []string{"high-cpu fixed"},
		},
		{
			name:      "redelivery and a new ALARM within the cooldown act no more; the OK closes the incident",
			files:     []string{"remediate-ecs-alarm.json", "remediate-ecs-alarm.json", "remediate-ecs-alarm-again.json", "remediate-ecs-ok.json"},
			updates:   []string{"prod/api force=true"},
			published: []string{"high-cpu fixed", "high-cpu skipped", "high-cpu recovered"},
		},
		{
			name:      "service without the opt-in tag is never touched",
			files:     []string{"remediate-ecs-untagged.json"},
			published: []string{"high-cpu skipped"},
		},
		{
			name:      "dry run calls no mutating API",
			dryRun:    true,
			files:     []string{"remediate-ecs-alarm.json", "remediate-ec2-status-check.json"},
			published: []string{"high-cpu dry-run", "infrastructure dry-run"},
		},
		{
			name:      "one bad record never sinks the others",
			files:     []string{"remediate-mixed-batch.json"},
			reboots:   []string{"i-0a1b2c3d4e5f67890"},
			published: []string{"infrastructure fixed"},
		},
		{
			name:      "composite alarm escalates to people",
			files:     []string{"remediate-composite.json"},
			published: []string{"escalation", "infrastructure acted"},
		},
		{
			name:      "metric math alarm scales the service within bounds",
			files:     []string{"remediate-math-alarm.json"},
			updates:   []string{"prod/api force=false desired=4"},
			published: []string{"application fixed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.h.Engine.DryRun = tt.dryRun
			for _, f := range tt.files {
				r.mustInvoke(t, f)
			}
			if got := r.updates(); !cmp.Equal(got, tt.updates) {
				t.Errorf("ECS UpdateService calls = %v; want %v", got, tt.updates)
			}
			if got := r.ec2.reboots; !cmp.Equal(got, tt.reboots) {
				t.Errorf("EC2 reboots = %v; want %v", got, tt.reboots)
			}
			if got := r.sns.published(); !cmp.Equal(got, tt.published) {
				t.Errorf("SNS publishes = %v; want %v", got, tt.published)
			}
		})
	}
}

// A failure of the state table is returned, so Lambda retries the
// invocation; the records that are not alarms are still skipped quietly.
func TestHandlerReturnsEngineFailures(t *testing.T) {
	r := newRig(t)
	r.h.Engine.Store = state.New(db.Server(t).Client(), "no-such-table")
	err := r.invoke(t, "remediate-mixed-batch.json")
	if err == nil {
		t.Fatal("Invoke with a missing state table = nil; want an error so the delivery is retried")
	}
	if !strings.Contains(err.Error(), "prod-worker-status-check") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("error = %v; want it to name the alarm and the table failure", err)
	}
	if len(r.ec2.reboots) != 0 {
		t.Errorf("reboots = %v; want none without the state table", r.ec2.reboots)
	}
}

// The policy make demo runs with is valid.
func TestDemoPolicy(t *testing.T) {
	if _, err := remediate.LoadPolicy(context.Background(), "file:testdata/demo-policy.yaml", nil, ".", nil); err != nil {
		t.Error(err)
	}
}

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{
		config.EnvStateTable:      "postdeploy-state",
		"LAMBDA_TASK_ROOT":        t.TempDir(), // no policy.yaml there: the embedded one
		config.EnvMetricNamespace: "Postdeploy",
	}
	for k, v := range topics() {
		env[config.TopicEnv(k)] = v
	}
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)
	h, err := newHandler(context.Background(), getenv, log)
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	if h.Engine.Region != "us-east-1" || len(h.Engine.Policy.Rules) == 0 {
		t.Errorf("newHandler: region %q, %d rules; want us-east-1 and the shipped policy", h.Engine.Region, len(h.Engine.Policy.Rules))
	}

	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("optInTag: {key: k}\nrules:\n  - name: r\n    action: ec2.rebot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env[config.EnvRemediationPolicy] = "file:" + bad
	_, err = newHandler(context.Background(), getenv, log)
	var perrs remediate.Errors
	if !errors.As(err, &perrs) || !strings.Contains(err.Error(), `rules[0].action: unknown action "ec2.rebot"`) || !strings.Contains(err.Error(), "rules[0].match") {
		t.Errorf("newHandler with a bad policy = %v; want every problem with its path", err)
	}

	delete(env, config.EnvStateTable)
	if _, err := newHandler(context.Background(), getenv, log); err == nil || !strings.Contains(err.Error(), config.EnvStateTable) {
		t.Errorf("newHandler without a state table = %v; want an error naming %s", err, config.EnvStateTable)
	}
}
