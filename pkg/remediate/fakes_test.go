package remediate_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// fakeECS holds services by "cluster/service" and records every
// mutating call.
type fakeECS struct {
	mu       sync.Mutex
	services map[string]*fakeService
	updates  []ecs.UpdateServiceInput
	// describeErr fails DescribeServices; updateErr fails UpdateService.
	describeErr, updateErr error
	// unstable leaves a forced deployment rolling out forever.
	unstable bool
	seq      int
	// onUpdate is called after each successful UpdateService.
	onUpdate func()
	// hook, if set, runs first in every call with its ctx and operation
	// name; an error it returns is the call's (after UpdateService
	// recorded the update: the request landed, its answer did not).
	hook func(ctx context.Context, op string) error
}

type fakeService struct {
	tags             map[string]string
	desired, running int32
	deployments      []ecstypes.Deployment
}

var _ remediate.ECSAPI = (*fakeECS)(nil)

func newFakeECS(services map[string]map[string]string) *fakeECS {
	f := &fakeECS{services: map[string]*fakeService{}}
	for k, tags := range services {
		f.services[k] = &fakeService{tags: tags, desired: 2, running: 2, deployments: []ecstypes.Deployment{{
			Id: aws.String("ecs-svc/0"), Status: aws.String("PRIMARY"), RolloutState: ecstypes.DeploymentRolloutStateCompleted,
		}}}
	}
	return f
}

func (f *fakeECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hook != nil {
		if err := f.hook(ctx, "DescribeServices"); err != nil {
			return nil, err
		}
	}
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	out := &ecs.DescribeServicesOutput{}
	withTags := len(in.Include) > 0 && in.Include[0] == ecstypes.ServiceFieldTags
	for _, name := range in.Services {
		s, ok := f.services[aws.ToString(in.Cluster)+"/"+name]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(name), Reason: aws.String("MISSING")})
			continue
		}
		svc := ecstypes.Service{ServiceName: aws.String(name), DesiredCount: s.desired, RunningCount: s.running, Deployments: append([]ecstypes.Deployment(nil), s.deployments...)}
		if withTags { // as ECS: tags only when asked for
			for k, v := range s.tags {
				svc.Tags = append(svc.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
		}
		out.Services = append(out.Services, svc)
	}
	return out, nil
}

func (f *fakeECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, *in)
	if f.hook != nil {
		if err := f.hook(ctx, "UpdateService"); err != nil {
			return nil, err
		}
	}
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	s, ok := f.services[aws.ToString(in.Cluster)+"/"+aws.ToString(in.Service)]
	if !ok {
		return nil, errors.New("ServiceNotFoundException")
	}
	if in.DesiredCount != nil {
		s.desired, s.running = *in.DesiredCount, *in.DesiredCount
	}
	if in.ForceNewDeployment {
		f.seq++
		d := ecstypes.Deployment{Id: aws.String(fmt.Sprintf("ecs-svc/%d", f.seq)), Status: aws.String("PRIMARY"), RolloutState: ecstypes.DeploymentRolloutStateCompleted}
		if f.unstable {
			d.RolloutState = ecstypes.DeploymentRolloutStateInProgress
			old := s.deployments[0]
			old.Status = aws.String("ACTIVE")
			s.deployments = []ecstypes.Deployment{d, old}
		} else {
			s.deployments = []ecstypes.Deployment{d}
		}
	}
	if f.onUpdate != nil {
		f.onUpdate()
	}
	return &ecs.UpdateServiceOutput{Service: &ecstypes.Service{ServiceName: in.Service, Deployments: s.deployments}}, nil
}

func (f *fakeECS) updateCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}

// fakeEC2 holds instances by id.
type fakeEC2 struct {
	mu        sync.Mutex
	instances map[string]map[string]string // id → tags
	reboots   [][]string
	status    ec2types.SummaryStatus
	// onReboot is called after each RebootInstances.
	onReboot func()
}

var _ remediate.EC2API = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r ec2types.Reservation
	for _, id := range in.InstanceIds {
		tags, ok := f.instances[id]
		if !ok {
			return nil, fmt.Errorf("InvalidInstanceID.NotFound: %s", id)
		}
		inst := ec2types.Instance{InstanceId: aws.String(id)}
		for k, v := range tags {
			inst.Tags = append(inst.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		r.Instances = append(r.Instances, inst)
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{r}}, nil
}

func (f *fakeEC2) DescribeInstanceStatus(_ context.Context, in *ec2.DescribeInstanceStatusInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	if st == "" {
		st = ec2types.SummaryStatusOk
	}
	out := &ec2.DescribeInstanceStatusOutput{}
	for _, id := range in.InstanceIds {
		out.InstanceStatuses = append(out.InstanceStatuses, ec2types.InstanceStatus{
			InstanceId:     aws.String(id),
			InstanceState:  &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
			InstanceStatus: &ec2types.InstanceStatusSummary{Status: st},
			SystemStatus:   &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusOk},
		})
	}
	return out, nil
}

func (f *fakeEC2) RebootInstances(_ context.Context, in *ec2.RebootInstancesInput, _ ...func(*ec2.Options)) (*ec2.RebootInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reboots = append(f.reboots, in.InstanceIds)
	if f.onReboot != nil {
		f.onReboot()
	}
	return &ec2.RebootInstancesOutput{}, nil
}

// fakeCloudWatch is CloudWatch's alarms: their definitions (define),
// the current state, and after an action (acted, hooked to the fake
// services' mutating calls) the states the following reads see in turn
// (the last one stays). DescribeAlarms answers, as CloudWatch does, only
// the alarms it holds, with their ARN and definition. It also answers
// ListTagsForResource, counting calls.
type fakeCloudWatch struct {
	// hook, if set, runs first in DescribeAlarms; its error is the call's.
	hook        func(ctx context.Context) error
	mu          sync.Mutex
	defs        map[string]remediate.Alarm // by name
	state       string                     // "" is ALARM
	afterAction []string                   // nil is OK at once
	pending     []string
	tags        map[string]string
	tagCalls    int
	describes   int
	// transitions makes DescribeAlarms report each alarm's definition
	// Timestamp as its StateTransitionedTimestamp, as CloudWatch does.
	transitions bool
}

var _ remediate.AlarmAPI = (*fakeCloudWatch)(nil)

// define adds (or replaces) an alarm's definition: its name, ARN and
// metrics (a composite's Rule) as CloudWatch holds them.
func (f *fakeCloudWatch) define(a remediate.Alarm) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.defs == nil {
		f.defs = map[string]remediate.Alarm{}
	}
	f.defs[a.Name] = a
}

// defineIfAbsent defines a unless an alarm of that name is defined.
func (f *fakeCloudWatch) defineIfAbsent(a remediate.Alarm) {
	f.mu.Lock()
	_, ok := f.defs[a.Name]
	f.mu.Unlock()
	if !ok {
		f.define(a)
	}
}

func (f *fakeCloudWatch) set(st string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.pending = st, nil
}

func (f *fakeCloudWatch) acted() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append([]string(nil), f.afterAction...)
	if len(f.pending) == 0 {
		f.pending = []string{"OK"}
	}
}

func (f *fakeCloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.hook != nil {
		if err := f.hook(ctx); err != nil {
			return nil, err
		}
	}
	if len(f.pending) > 0 {
		f.state = f.pending[0]
		if len(f.pending) > 1 {
			f.pending = f.pending[1:]
		}
	}
	st := f.state
	if st == "" {
		st = "ALARM"
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, name := range in.AlarmNames {
		a, ok := f.defs[name]
		if !ok {
			continue
		}
		reason := a.Reason
		if reason == "" {
			reason = "CloudWatch's reason for " + a.Name
		}
		if a.Composite {
			out.CompositeAlarms = append(out.CompositeAlarms, cwtypes.CompositeAlarm{
				AlarmName: aws.String(a.Name), AlarmArn: aws.String(a.ARN), AlarmRule: aws.String(a.Rule),
				StateValue: cwtypes.StateValue(st), StateReason: aws.String(reason),
			})
			continue
		}
		m := cwtypes.MetricAlarm{AlarmName: aws.String(a.Name), AlarmArn: aws.String(a.ARN), StateValue: cwtypes.StateValue(st),
			StateReason: aws.String(reason)}
		if f.transitions {
			m.StateTransitionedTimestamp, m.StateUpdatedTimestamp = aws.Time(a.Timestamp), aws.Time(a.Timestamp.Add(time.Minute))
		}
		if len(a.Metrics) == 1 && a.Metrics[0].ID == "" && a.Metrics[0].Expression == "" {
			q := a.Metrics[0]
			m.Namespace, m.MetricName, m.Dimensions = aws.String(q.Namespace), aws.String(q.MetricName), cwDims(q.Dimensions)
		} else {
			for _, q := range a.Metrics {
				dq := cwtypes.MetricDataQuery{Id: aws.String(q.ID)}
				if q.Expression != "" {
					dq.Expression = aws.String(q.Expression)
				}
				if q.MetricName != "" {
					dq.MetricStat = &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.MetricName), Dimensions: cwDims(q.Dimensions)}, Stat: aws.String("Sum"), Period: aws.Int32(60)}
				}
				m.Metrics = append(m.Metrics, dq)
			}
		}
		out.MetricAlarms = append(out.MetricAlarms, m)
	}
	return out, nil
}

func cwDims(d map[string]string) []cwtypes.Dimension {
	var out []cwtypes.Dimension
	for _, k := range slices.Sorted(maps.Keys(d)) {
		out = append(out, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(d[k])})
	}
	return out
}

func (f *fakeCloudWatch) ListTagsForResource(_ context.Context, _ *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tagCalls++
	out := &cloudwatch.ListTagsForResourceOutput{}
	for k, v := range f.tags {
		out.Tags = append(out.Tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

// fakeNotifier records messages.
type fakeNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
}

var _ remediate.Notifier = (*fakeNotifier)(nil)

func (f *fakeNotifier) Send(_ context.Context, m notify.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	return fmt.Sprintf("msg-%d", len(f.msgs)), nil
}

func (f *fakeNotifier) kinds() []notify.Kind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []notify.Kind
	for _, m := range f.msgs {
		out = append(out, m.Kind)
	}
	return out
}

// fakeSNS records what a notify.Router publishes.
type fakeSNS struct {
	mu  sync.Mutex
	pub []*sns.PublishInput
}

var _ notify.Publisher = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pub = append(f.pub, in)
	return &sns.PublishOutput{MessageId: aws.String(fmt.Sprint(len(f.pub)))}, nil
}

// published lists "topic-kind decision" of each message.
func (f *fakeSNS) published() []string {
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

// clock is a settable clock shared by the engine and the store; the
// engine's Sleep advances it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.Add(d)
	return nil
}

type (
	cloudwatchListTagsInput  = cloudwatch.ListTagsForResourceInput
	cloudwatchListTagsOutput = cloudwatch.ListTagsForResourceOutput
	cloudwatchOptions        = cloudwatch.Options
)

// memStore is an in-memory StateStore for tests that run many
// invocations without a table (fuzzing): claims never expire, limits
// count forever.
type memStore struct {
	mu        sync.Mutex
	claims    map[string]bool
	counts    map[string]int
	incidents map[string]*state.Incident
	audits    int
}

var _ remediate.StateStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{claims: map[string]bool{}, counts: map[string]int{}, incidents: map[string]*state.Incident{}}
}

func (m *memStore) Claim(_ context.Context, key string, _ time.Duration, _ map[string]string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[key] {
		return false, nil
	}
	m.claims[key] = true
	return true, nil
}

func (m *memStore) Holder(context.Context, string) (state.Hold, bool, error) {
	return state.Hold{}, false, nil
}

func (m *memStore) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.claims, key)
	return nil
}

func (m *memStore) Take(_ context.Context, key string, limit int, _ time.Duration) (bool, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts[key] >= limit {
		return false, m.counts[key], nil
	}
	m.counts[key]++
	return true, m.counts[key], nil
}

func (m *memStore) OpenIncident(_ context.Context, id string, at time.Time, attrs map[string]string) (state.Incident, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok := m.incidents[id]; ok && in.Open {
		return *in, false, nil
	}
	m.incidents[id] = &state.Incident{ID: id, Open: true, OpenedAt: at, Attrs: attrs}
	return *m.incidents[id], true, nil
}

func (m *memStore) RecordAttempt(_ context.Context, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[id]
	if !ok || !in.Open {
		return 0, errors.New("no open incident")
	}
	in.Attempts++
	return in.Attempts, nil
}

func (m *memStore) MarkEscalated(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[id]
	if !ok || !in.Open || in.Escalated {
		return false, nil
	}
	in.Escalated = true
	return true, nil
}

func (m *memStore) CloseIncident(_ context.Context, id string, at time.Time) (state.Incident, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[id]
	if !ok || !in.Open {
		return state.Incident{}, false, nil
	}
	in.Open, in.ClosedAt = false, at
	return *in, true, nil
}

func (m *memStore) Audit(context.Context, string, time.Time, map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audits++
	return nil
}
