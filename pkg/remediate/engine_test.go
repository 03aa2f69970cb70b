package remediate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	os.Exit(db.Run(m))
}

var quiet = slog.New(slog.DiscardHandler)

// newTable creates a fresh state table on the shared dynalite.
func newTable(t testing.TB) (state.API, string) {
	t.Helper()
	return db.StateTable(t, "remediate")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type rig struct {
	// pinned keeps the alarm's state as the test set it; otherwise each
	// delivery sets it to the delivered state, as CloudWatch would be.
	pinned bool
	e      *remediate.Engine
	ecs    *fakeECS
	ec2    *fakeEC2
	cw     *fakeCloudWatch
	n      *fakeNotifier
	clk    *clock
	store  *state.Store
	emf    *syncBuffer
}

var start = time.Date(2026, 11, 22, 9, 0, 12, 345e6, time.UTC)

const shippedPolicy = "" // "" means functions/remediate/policy.yaml

const testPolicy = `
optInTag: {key: "postdeploy:remediate", value: "true"}
defaults: {verifyTimeout: 2m, verifyInterval: 15s}
rules:
  - name: ecs-cpu-redeploy
    match: {alarmName: "prod-*-cpu-high", namespace: AWS/ECS, dimensions: {ClusterName: "*", ServiceName: "*"}}
    action: ecs.redeploy
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}"}
    cooldown: 30m
    notify: high-cpu
`

func loadPolicy(t testing.TB, src string) *remediate.Policy {
	t.Helper()
	b := []byte(src)
	if src == shippedPolicy {
		var err error
		if b, err = os.ReadFile(filepath.Join("..", "..", "functions", "remediate", "policy.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	p, err := remediate.ParsePolicy(b)
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func newRig(t testing.TB, policy string) *rig {
	t.Helper()
	api, table := newTable(t)
	r := &rig{
		ecs: newFakeECS(map[string]map[string]string{
			"prod/api":     {"postdeploy:remediate": "true", "team": "api"},
			"prod/search":  {"postdeploy:remediate": "true"},
			"prod/billing": {"team": "billing"},
			"prod/ledger":  {"postdeploy:remediate": "false"},
		}),
		ec2: &fakeEC2{instances: map[string]map[string]string{"i-0a1b2c3d4e5f67890": {"postdeploy:remediate": "true"}}},
		cw:  &fakeCloudWatch{},
		n:   &fakeNotifier{},
		clk: &clock{t: start.Add(time.Second)},
		emf: &syncBuffer{},
	}
	r.ecs.onUpdate = r.cw.acted
	r.store = state.New(api, table)
	r.store.Now = r.clk.Now
	r.e = (&remediate.Engine{
		Policy:  loadPolicy(t, policy),
		Actions: remediate.Actions(remediate.Clients{ECS: r.ecs, EC2: r.ec2, Notify: r.n}),
		Store:   r.store,
		Alarms:  r.cw,
		Notify:  r.n,
		Metrics: telemetry.NewMetrics("Postdeploy", r.emf),
		Region:  "us-east-1",
		Log:     quiet,
		Now:     r.clk.Now,
		Sleep:   r.clk.Sleep,
	}).SetDefaults()
	return r
}

// ecsAlarm is the CPU alarm of an ECS service in the prod cluster,
// changing state at `at`.
func ecsAlarm(service, st string, at time.Time) remediate.Alarm {
	name := "prod-" + service + "-cpu-high"
	dims := map[string]string{"ClusterName": "prod", "ServiceName": service}
	return remediate.Alarm{
		Name: name, ARN: alarmARN(name), AccountID: acct, Region: "us-east-1",
		NewState: st, OldState: "OK", Reason: "Threshold Crossed: 3 datapoints above 80.0",
		Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: dims, Timestamp: at,
		Metrics: []remediate.Metric{{Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: dims}},
	}
}

func (r *rig) handle(t *testing.T, a remediate.Alarm) remediate.Outcome {
	t.Helper()
	if !r.pinned {
		r.cw.set(a.NewState)
	}
	r.cw.defineIfAbsent(a) // CloudWatch has the alarm the delivery names
	out, err := r.e.Handle(context.Background(), a)
	if err != nil {
		t.Fatalf("Handle(%s %s at %s) error: %v", a.Name, a.NewState, a.Timestamp, err)
	}
	return out
}

func (r *rig) trail(t *testing.T, a remediate.Alarm) []map[string]string {
	t.Helper()
	recs, err := r.store.Trail(context.Background(), a.ARN, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs {
		out = append(out, rec.Attrs)
	}
	return out
}

// The "done when", with the shipped policy: an ALARM on an
// opted-in ECS service triggers one force-new-deployment and a
// notification; the same alarm again within the cooldown is skipped with
// the reason audited; the OK closes the incident with time to recover.
func TestDoneWhenECSRedeploy(t *testing.T) {
	r := newRig(t, shippedPolicy)
	first := ecsAlarm("api", "ALARM", start)

	out := r.handle(t, first)
	if out.Decision != remediate.Fixed || out.Rule != "ecs-cpu-redeploy" {
		t.Fatalf("first ALARM: decision %s by rule %q (%s); want fixed by ecs-cpu-redeploy", out.Decision, out.Rule, out.Reason)
	}
	want := []string{"prod/api force=true"}
	if got := updates(r.ecs); !cmp.Equal(got, want) {
		t.Errorf("ECS updates = %v; want %v", got, want)
	}
	if got := r.n.kinds(); !cmp.Equal(got, []notify.Kind{notify.HighCPU}) {
		t.Errorf("notifications = %v; want one on high-cpu", got)
	}
	if m := r.n.msgs[0]; !strings.Contains(m.Subject, "Fixed") || !strings.Contains(m.Body, `ecs:UpdateService {"Cluster":"prod","ForceNewDeployment":true,"Service":"api"}`) {
		t.Errorf("notification = %q\n%s\nwant the fix and the exact call", m.Subject, m.Body)
	}

	// The same delivery again (SNS retry): one action only.
	if out := r.handle(t, first); out.Decision != remediate.Duplicate {
		t.Errorf("redelivered ALARM: decision %s; want duplicate", out.Decision)
	}
	// The alarm fires again (a new state change) within the cooldown.
	r.clk.Add(10 * time.Minute)
	again := ecsAlarm("api", "ALARM", start.Add(10*time.Minute))
	out = r.handle(t, again)
	if out.Decision != remediate.Skipped || !strings.Contains(out.Reason, "cooldown") {
		t.Errorf("ALARM within the cooldown: decision %s (%s); want skipped for cooldown", out.Decision, out.Reason)
	}
	if n := r.ecs.updateCount(); n != 1 {
		t.Errorf("ECS updates after three deliveries = %d; want 1", n)
	}
	if m := r.n.msgs[len(r.n.msgs)-1]; !strings.Contains(m.Body, "API call planned, not made: ecs:UpdateService") || !strings.Contains(r.n.msgs[0].Body, "API call made: ecs:UpdateService") {
		t.Errorf("notifications do not say which call was made and which only planned:\n%s\n---\n%s", r.n.msgs[0].Body, m.Body)
	}
	trail := r.trail(t, first)
	last := trail[len(trail)-1]
	if last["decision"] != "skipped" || !strings.Contains(last["reason"], "cooldown: rule ecs-cpu-redeploy acted on ecs-service prod/api at") {
		t.Errorf("last audit record = %v; want the cooldown skip with its reason", last)
	}
	var decisions []string
	for _, rec := range trail {
		decisions = append(decisions, rec["decision"])
	}
	if want := []string{"fixed", "skipped"}; !cmp.Equal(decisions, want) {
		t.Errorf("audited decisions = %v; want %v", decisions, want)
	}

	// Recovery closes the incident and emits time to recover.
	ok := ecsAlarm("api", "OK", start.Add(12*time.Minute))
	out = r.handle(t, ok)
	if out.Decision != remediate.Recovered || out.TimeToRecover != 12*time.Minute {
		t.Errorf("OK: decision %s, time to recover %s; want recovered after 12m", out.Decision, out.TimeToRecover)
	}
	if !strings.Contains(r.emf.String(), `"TimeToRecover":720`) {
		t.Errorf("EMF output has no TimeToRecover of 720s:\n%s", r.emf.String())
	}
}

func updates(f *fakeECS) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, u := range f.updates {
		s := aws.ToString(u.Cluster) + "/" + aws.ToString(u.Service)
		if u.ForceNewDeployment {
			s += " force=true"
		}
		if u.DesiredCount != nil {
			s += fmt.Sprintf(" desired=%d", *u.DesiredCount)
		}
		out = append(out, s)
	}
	return out
}

// The safety layer, case by case: what it decides, and which mutating
// calls reach the service (none, whenever it says no).
func TestSafetyLayer(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		setup   func(r *rig)
		alarms  []remediate.Alarm
		want    []remediate.Decision
		reason  string // in the last outcome's reason
		updates []string
		notify  []notify.Kind
	}{
		{
			name:    "opted-in service is redeployed",
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed},
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU},
		},
		{
			name:   "service without the tag is never touched",
			alarms: []remediate.Alarm{ecsAlarm("billing", "ALARM", start)},
			want:   []remediate.Decision{remediate.Skipped},
			reason: `ecs-service prod/billing is not opted in: no tag "postdeploy:remediate"`,
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "service with the tag set to false is never touched",
			alarms: []remediate.Alarm{ecsAlarm("ledger", "ALARM", start)},
			want:   []remediate.Decision{remediate.Skipped},
			reason: "tag postdeploy:remediate=false, not postdeploy:remediate=true",
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "tags unreadable: not touched",
			setup:  func(r *rig) { r.ecs.describeErr = errors.New("AccessDeniedException") },
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:   []remediate.Decision{remediate.Failed},
			reason: "could not read the tags of ecs-service prod/api, so it was not touched",
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "global dry run (the function's switch) calls nothing",
			setup:  func(r *rig) { r.e.DryRun = true },
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:   []remediate.Decision{remediate.DryRun},
			reason: `would force a new deployment of ECS service api in cluster prod — ecs:UpdateService {"Cluster":"prod","ForceNewDeployment":true,"Service":"api"}`,
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "policy dry run calls nothing",
			policy: "dryRun: true\n" + testPolicy,
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:   []remediate.Decision{remediate.DryRun},
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "rule dry run calls nothing, and still honours the cooldown",
			policy: testPolicy + "    dryRun: true\n",
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start), ecsAlarm("api", "ALARM", start.Add(time.Minute))},
			want:   []remediate.Decision{remediate.DryRun, remediate.Skipped},
			reason: "cooldown",
			notify: []notify.Kind{notify.HighCPU, notify.HighCPU},
		},
		{
			name:    "same state change twice acts once",
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start), ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed, remediate.Duplicate},
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU},
		},
		{
			name:    "cooldown expired: acts again",
			policy:  strings.Replace(testPolicy, "cooldown: 30m", "cooldown: 5m", 1),
			setup:   func(r *rig) { r.clk.Add(6 * time.Minute) }, // the first verify takes no time
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed},
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU},
		},
		{
			name:    "rule rate limit",
			policy:  testPolicy + "    maxPerHour: 1\n",
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start), ecsAlarm("search", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed, remediate.Skipped},
			reason:  "rate limit: rule ecs-cpu-redeploy already made 1 of its 1 actions allowed this hour",
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU, notify.HighCPU},
		},
		{
			name:    "global rate limit",
			policy:  "limits: {globalPerHour: 1}\n" + testPolicy,
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start), ecsAlarm("search", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed, remediate.Skipped},
			reason:  "rate limit: all rules together already made 1 of its 1 actions allowed this hour",
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU, notify.HighCPU},
		},
		{
			name:   "blast radius: an event touching too many resources touches none",
			policy: "limits: {blastRadius: 2}\n" + testPolicy,
			setup: func(r *rig) {
				r.e.Actions["ecs.redeploy"] = manyTargets{r.e.Actions["ecs.redeploy"], []string{"api", "search", "billing"}}
			},
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:   []remediate.Decision{remediate.Skipped},
			reason: "blast radius: this event would act on 3 resources",
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name:   "no rule matches: ignored, audited, nobody paged",
			alarms: []remediate.Alarm{func() remediate.Alarm { a := ecsAlarm("api", "ALARM", start); a.Name = "staging-api-latency"; return a }()},
			want:   []remediate.Decision{remediate.Ignored},
			reason: "no rule",
		},
		{
			name:   "INSUFFICIENT_DATA with no rule for it",
			alarms: []remediate.Alarm{ecsAlarm("api", "INSUFFICIENT_DATA", start)},
			want:   []remediate.Decision{remediate.Ignored},
		},
		{
			name:   "alarm from another region",
			alarms: []remediate.Alarm{func() remediate.Alarm { a := ecsAlarm("api", "ALARM", start); a.Region = "eu-west-1"; return a }()},
			want:   []remediate.Decision{remediate.Refused},
			reason: "the alarm is in region eu-west-1; this function acts on its own region's alarms (us-east-1) only",
			notify: []notify.Kind{notify.Infrastructure},
		},
		{
			name:   "alarm already back to OK when the delivery arrives: refused, nothing done",
			setup:  func(r *rig) { r.pinned = true; r.cw.set("OK") },
			alarms: []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:   []remediate.Decision{remediate.Refused},
			reason: "CloudWatch reports alarm prod-api-cpu-high in state OK now, not ALARM as delivered",
			notify: []notify.Kind{notify.HighCPU},
		},
		{
			name: "call fails: failed, audited, notified",
			setup: func(r *rig) {
				r.ecs.updateErr = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized", Fault: smithy.FaultClient}
			},
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.Failed},
			reason:  "ecs:UpdateService failed: force new deployment of ECS service api in cluster prod: api error AccessDeniedException: not authorized (failed attempt 1 of 3)",
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU},
		},
		{
			name:    "call succeeds but the alarm stays in ALARM: not fixed, escalated",
			setup:   func(r *rig) { r.cw.afterAction = []string{"ALARM"} },
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.NotFixed},
			reason:  "did not fix the problem",
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.Escalation, notify.HighCPU},
		},
		{
			name:    "alarm clears within the wait: fixed",
			setup:   func(r *rig) { r.cw.afterAction = []string{"ALARM", "ALARM", "OK"} },
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.Fixed},
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU},
		},
		{
			name:    "deployment never stabilises: not fixed, escalated",
			setup:   func(r *rig) { r.ecs.unstable = true },
			alarms:  []remediate.Alarm{ecsAlarm("api", "ALARM", start)},
			want:    []remediate.Decision{remediate.NotFixed},
			reason:  "after waiting, the action had still not taken",
			updates: []string{"prod/api force=true"},
			notify:  []notify.Kind{notify.Escalation, notify.HighCPU},
		},
		{
			name:   "attempts exhausted: escalated once, then no more actions",
			policy: "limits: {maxAttempts: 2}\n" + strings.Replace(testPolicy, "cooldown: 30m", "cooldown: 1s", 1),
			setup: func(r *rig) {
				r.ecs.updateErr = &smithy.GenericAPIError{Code: "InvalidParameterException", Fault: smithy.FaultClient}
			},
			alarms: []remediate.Alarm{
				ecsAlarm("api", "ALARM", start),
				ecsAlarm("api", "ALARM", start.Add(time.Minute)),
				ecsAlarm("api", "ALARM", start.Add(2*time.Minute)),
			},
			want:    []remediate.Decision{remediate.Failed, remediate.Failed, remediate.Escalated},
			reason:  "2 failed remediation attempts",
			updates: []string{"prod/api force=true", "prod/api force=true"},
			notify:  []notify.Kind{notify.HighCPU, notify.Escalation, notify.HighCPU, notify.HighCPU},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := tt.policy
			if policy == "" {
				policy = testPolicy
			}
			r := newRig(t, policy)
			if tt.setup != nil {
				tt.setup(r)
			}
			var got []remediate.Decision
			var last remediate.Outcome
			for _, a := range tt.alarms {
				last = r.handle(t, a)
				got = append(got, last.Decision)
				r.clk.Add(2 * time.Second)
			}
			if !cmp.Equal(got, tt.want) {
				t.Errorf("decisions = %v (last reason %q); want %v", got, last.Reason, tt.want)
			}
			if !strings.Contains(last.Reason, tt.reason) {
				t.Errorf("last reason = %q; want it to contain %q", last.Reason, tt.reason)
			}
			if got := updates(r.ecs); !cmp.Equal(got, tt.updates) {
				t.Errorf("ECS mutating calls = %v; want %v", got, tt.updates)
			}
			if got := r.n.kinds(); !cmp.Equal(got, tt.notify) {
				t.Errorf("notifications = %v; want %v", got, tt.notify)
			}
			// Every decision but a duplicate is in the audit trail.
			audited := 0
			for _, d := range got {
				if d != remediate.Duplicate {
					audited++
				}
			}
			arns := map[string]remediate.Alarm{}
			for _, a := range tt.alarms {
				arns[a.ARN] = a
			}
			n := 0
			for _, a := range arns {
				n += len(r.trail(t, a))
			}
			if n != audited {
				t.Errorf("audit records = %d; want %d (one per decision)", n, audited)
			}
		})
	}
}

// manyTargets wraps an action to claim several targets (no real action
// does: it stands in for a future one that fans out).
type manyTargets struct {
	remediate.Action
	services []string
}

func (m manyTargets) Targets(a remediate.Alarm, _ remediate.Params) ([]remediate.Target, error) {
	var out []remediate.Target
	for _, s := range m.services {
		out = append(out, remediate.Target{Type: "ecs-service", ID: "prod/" + s})
	}
	return out, nil
}

// teamAPIPolicy redeploys the ECS service of alarms tagged team=api.
const teamAPIPolicy = `
optInTag: {key: "postdeploy:remediate"}
rules:
  - name: team-api-only
    match: {alarmName: "prod-*-cpu-high", tags: {team: api}}
    action: ecs.redeploy
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}"}`

func TestAlarmTagsReadOnlyWhenARuleNeedsThem(t *testing.T) {
	tagged := testPolicy + "    name: unused\n"
	_ = tagged
	policy := teamAPIPolicy + `
  - name: ec2
    match: {namespace: AWS/EC2}
    action: ec2.reboot
    params: {instanceId: "{{.Dimensions.InstanceId}}"}
`
	r := newRig(t, policy)
	r.cw.tags = map[string]string{"team": "api"}
	if out := r.handle(t, ecsAlarm("api", "ALARM", start)); out.Decision != remediate.Fixed {
		t.Errorf("tag-matched alarm: %s (%s); want fixed", out.Decision, out.Reason)
	}
	if r.cw.tagCalls != 1 {
		t.Errorf("ListTagsForResource calls = %d; want 1", r.cw.tagCalls)
	}
	a := ecsAlarm("api", "ALARM", start)
	a.Name, a.ARN = "other-alarm", alarmARN("other-alarm")
	if out := r.handle(t, a); out.Decision != remediate.Ignored {
		t.Errorf("alarm no rule matches by name: %s; want ignored", out.Decision)
	}
	if r.cw.tagCalls != 1 {
		t.Errorf("ListTagsForResource calls after an alarm no rule could match = %d; want still 1", r.cw.tagCalls)
	}
	r.cw.tags = map[string]string{"team": "web"}
	if out := r.handle(t, ecsAlarm("search", "ALARM", start)); out.Decision != remediate.Ignored {
		t.Errorf("alarm with the wrong tag: %s; want ignored", out.Decision)
	}
}

// 1,000 deliveries of the same alarm state change across 8 concurrent
// invocations (each its own engine and client, as separate Lambda
// instances would be) produce exactly one action.
func TestOneActionFromConcurrentDuplicateDeliveries(t *testing.T) {
	api, table := newTable(t)
	ecsFake := newFakeECS(map[string]map[string]string{"prod/api": {"postdeploy:remediate": "true"}})
	cw := &fakeCloudWatch{}
	ecsFake.onUpdate = cw.acted
	n := &fakeNotifier{}
	policy := loadPolicy(t, shippedPolicy)
	alarm := ecsAlarm("api", "ALARM", start)
	cw.define(alarm)
	const invocations, deliveries = 8, 1000
	var wg sync.WaitGroup
	var decisions sync.Map
	var errs atomic.Int64
	for i := 0; i < invocations; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			e := (&remediate.Engine{
				Policy: policy, Store: state.New(api, table), Alarms: cw, Notify: n, Log: quiet,
				Actions: remediate.Actions(remediate.Clients{ECS: ecsFake, Notify: n}),
			}).SetDefaults()
			for j := i; j < deliveries; j += invocations {
				out, err := e.Handle(context.Background(), alarm)
				if err != nil {
					errs.Add(1)
					t.Errorf("delivery %d: %v", j, err)
					continue
				}
				c, _ := decisions.LoadOrStore(out.Decision, new(atomic.Int64))
				c.(*atomic.Int64).Add(1)
			}
		}(i)
	}
	wg.Wait()
	if got := updates(ecsFake); len(got) != 1 {
		t.Errorf("%d deliveries over %d invocations made %d ECS calls %v; want exactly 1", deliveries, invocations, len(got), got)
	}
	count := func(d remediate.Decision) int64 {
		if c, ok := decisions.Load(d); ok {
			return c.(*atomic.Int64).Load()
		}
		return 0
	}
	if f, d := count(remediate.Fixed), count(remediate.Duplicate); f != 1 || d != deliveries-1 {
		t.Errorf("decisions: %d fixed, %d duplicate; want 1 and %d", f, d, deliveries-1)
	}
	if len(n.kinds()) != 1 {
		t.Errorf("notifications = %d; want 1", len(n.kinds()))
	}
}

// A failure of the state table before anything was done is an error, and
// the state change is released so a retried delivery handles it.
func TestStoreFailureReleasesTheStateChange(t *testing.T) {
	r := newRig(t, testPolicy)
	r.e.Alarms = failingTags{r.cw}
	policy := strings.Replace(testPolicy, `namespace: AWS/ECS,`, `namespace: AWS/ECS, tags: {team: api},`, 1)
	r.e.Policy = loadPolicy(t, policy)
	a := ecsAlarm("api", "ALARM", start)
	r.cw.define(a)
	if _, err := r.e.Handle(context.Background(), a); err == nil {
		t.Fatalf("Handle with unreadable alarm tags = nil error; want an error (retry)")
	}
	r.e.Alarms = r.cw
	r.cw.tags = map[string]string{"team": "api"}
	if out := r.handle(t, a); out.Decision != remediate.Fixed {
		t.Errorf("retried delivery: %s (%s); want fixed (the first attempt released its claim)", out.Decision, out.Reason)
	}
}

type failingTags struct{ *fakeCloudWatch }

func (failingTags) ListTagsForResource(context.Context, *cloudwatchListTagsInput, ...func(*cloudwatchOptions)) (*cloudwatchListTagsOutput, error) {
	return nil, errors.New("ThrottlingException: Rate exceeded")
}

// The recovered outcome names the rule and action that handled the
// incident, read from the incident record: its summary (the log line,
// respond's remediation line) and its notification say it, even after the
// policy changed.
func TestRecoveredNamesItsAction(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, r *rig) // between the ALARM and the OK
		rule   string
		action string
	}{
		{"policy unchanged", nil, "ecs-cpu-redeploy", "ecs.redeploy"},
		{"the rule now names another action", func(t *testing.T, r *rig) {
			r.e.Policy = loadPolicy(t, strings.Replace(strings.Replace(testPolicy, "action: ecs.redeploy", "action: ecs.scale", 1), `service: "{{.Dimensions.ServiceName}}"}`, `service: "{{.Dimensions.ServiceName}}", step: 1, min: 1, max: 2}`, 1))
		}, "ecs-cpu-redeploy", "ecs.redeploy"},
		{"the rule is gone from the policy", func(t *testing.T, r *rig) {
			r.e.Policy = loadPolicy(t, strings.Replace(testPolicy, "name: ecs-cpu-redeploy", "name: renamed", 1))
		}, "ecs-cpu-redeploy", "ecs.redeploy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testPolicy)
			if out := r.handle(t, ecsAlarm("api", "ALARM", start)); out.Decision != remediate.Fixed {
				t.Fatalf("ALARM: %s (%s); want fixed", out.Decision, out.Reason)
			}
			if tt.change != nil {
				tt.change(t, r)
			}
			out := r.handle(t, ecsAlarm("api", "OK", start.Add(7*time.Minute)))
			want := "(rule " + tt.rule + ", action " + tt.action + ")"
			if out.Decision != remediate.Recovered || out.Rule != tt.rule || out.Action != tt.action || !strings.Contains(out.String(), want) {
				t.Errorf("recovered outcome = %q (rule %q, action %q); want it to name %s", out.String(), out.Rule, out.Action, want)
			}
			m := r.n.msgs[len(r.n.msgs)-1]
			if !strings.Contains(m.Subject, "Recovered") || !strings.Contains(m.Body, "handled by rule "+tt.rule+" with action "+tt.action) {
				t.Errorf("recovery notification = %q\n%s\nwant it to name rule %s and action %s", m.Subject, m.Body, tt.rule, tt.action)
			}
		})
	}
}
