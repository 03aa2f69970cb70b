package vuln_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	os.Exit(db.Run(m))
}

// fakeOps is OpsCenter: CreateOpsItem deduplicates on /aws/dedup as
// "Managing duplicate OpsItems" (Systems Manager User Guide) says — an
// open OpsItem with the same deduplication string is not created again
// (OpsItemAlreadyExistsException with its OpsItemId).
type fakeOps struct {
	mu      sync.Mutex
	creates int
	updates []*ssm.UpdateOpsItemInput
	byDedup map[string]string
	status  map[string]ssmtypes.OpsItemStatus
	fail    error
}

var _ vuln.OpsAPI = (*fakeOps)(nil)

func (f *fakeOps) CreateOpsItem(_ context.Context, in *ssm.CreateOpsItemInput, _ ...func(*ssm.Options)) (*ssm.CreateOpsItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if f.byDedup == nil {
		f.byDedup, f.status = map[string]string{}, map[string]ssmtypes.OpsItemStatus{}
	}
	dedup := aws.ToString(in.OperationalData["/aws/dedup"].Value)
	if id, ok := f.byDedup[dedup]; ok && f.status[id] != ssmtypes.OpsItemStatusResolved {
		return nil, &ssmtypes.OpsItemAlreadyExistsException{Message: aws.String("exists"), OpsItemId: aws.String(id)}
	}
	f.creates++
	id := fmt.Sprintf("oi-%012d", f.creates)
	f.byDedup[dedup] = id
	f.status[id] = ssmtypes.OpsItemStatusOpen
	return &ssm.CreateOpsItemOutput{OpsItemId: aws.String(id)}, nil
}

func (f *fakeOps) UpdateOpsItem(_ context.Context, in *ssm.UpdateOpsItemInput, _ ...func(*ssm.Options)) (*ssm.UpdateOpsItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.updates = append(f.updates, in)
	if in.Status != "" {
		f.status[aws.ToString(in.OpsItemId)] = in.Status
	}
	return &ssm.UpdateOpsItemOutput{}, nil
}

func (f *fakeOps) statusUpdates() (n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.updates {
		if u.Status == ssmtypes.OpsItemStatusResolved {
			n++
		}
	}
	return n
}

// fakeSender records notifications.
type fakeSender struct {
	mu   sync.Mutex
	msgs []notify.Message
	err  error
}

func (f *fakeSender) Send(_ context.Context, m notify.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.msgs = append(f.msgs, m)
	return fmt.Sprintf("msg-%d", len(f.msgs)), nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	m       *vuln.Manager
	ops     *fakeOps
	sender  *fakeSender
	clk     *clock
	metrics *bytes.Buffer
	states  *state.Store
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newRig(t *testing.T) *rig {
	t.Helper()
	c, table := db.StateTable(t, "vuln")
	r := &rig{ops: &fakeOps{}, sender: &fakeSender{}, clk: &clock{t: t0}, metrics: &bytes.Buffer{}}
	r.states = state.New(c, table)
	r.states.Now = r.clk.Now
	mt := telemetry.NewMetrics("Postdeploy", r.metrics)
	r.m = vuln.New(vuln.Manager{
		Store: vuln.NewStore(c, table), Claims: r.states, Tickets: &vuln.OpsCenter{API: r.ops},
		TicketMin: triage.P2, Notify: r.sender, Metrics: mt, Now: r.clk.Now, DigestThreshold: 3, DigestWindow: 24 * time.Hour,
	})
	return r
}

func (r *rig) metric(name, dim, val string) float64 {
	var sum float64
	for line := range strings.SplitSeq(strings.TrimSpace(r.metrics.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if v, ok := rec[name].(float64); ok && rec[dim] == val {
			sum += v
		}
	}
	return sum
}

func finding(id, resource, cve string) triage.Finding {
	return triage.Finding{
		ID: "arn:aws:inspector2:us-east-1:123456789012:finding/" + id, Source: triage.SourceInspector, Type: "PACKAGE_VULNERABILITY",
		Title: cve + " - openssl", Severity: triage.High, CVSS: 7.5, Vulnerabilities: []string{cve},
		Resource:    triage.Resource{Type: "AWS_ECR_CONTAINER_IMAGE", Repository: resource, ImageDigest: "sha256:" + strings.Repeat("a", 64)},
		FirstSeen:   t0.Add(-time.Hour),
		Remediation: "Upgrade openssl to 3.0.15.",
	}
}

func assess(p triage.Priority, score float64) triage.Assessment {
	return triage.Assessment{Priority: p, Score: score, SLA: triage.DefaultSLAs[p], Due: t0.Add(-time.Hour).Add(triage.DefaultSLAs[p])}
}

// TestTicketOnce1000DuplicateDeliveries8Concurrent: one finding
// delivered 1,000 times, 8 deliveries at a time, opens exactly one
// OpsItem — the state table's conditional write picks one opener.
func TestTicketOnce1000DuplicateDeliveries8Concurrent(t *testing.T) {
	r := newRig(t)
	f := finding("dup", "prod-api", "CVE-2026-0001")
	jobs := make(chan int)
	var wg sync.WaitGroup
	var errs atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range jobs {
				if _, err := r.m.Observe(context.Background(), f, assess(triage.P2, 60)); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	for i := range 1000 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if errs.Load() != 0 {
		t.Fatalf("Observe failed %d times; want 0", errs.Load())
	}
	if r.ops.creates != 1 {
		t.Errorf("CreateOpsItem created %d OpsItems for one finding delivered 1,000 times; want 1", r.ops.creates)
	}
	rec, ok, err := r.m.Store.Get(context.Background(), vuln.Key(f))
	if err != nil || !ok || rec.TicketID != "oi-000000000001" || rec.TicketState != vuln.TicketOpen {
		t.Errorf("record = %+v, %v, %v; want ticket oi-000000000001 open", rec, ok, err)
	}
	if got := r.metric(telemetry.MetricTickets, "Operation", "open"); got != 1 {
		t.Errorf("Tickets{Operation=open} = %v; want 1", got)
	}
}

// TestTicketUpdatedWhenScoreChanges: a finding that escalates updates its
// ticket once; the same delivery again updates nothing; a finding below
// the ticket priority gets none.
func TestTicketUpdatedWhenScoreChanges(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	f := finding("esc", "prod-api", "CVE-2026-0002")
	steps := []struct {
		name        string
		a           triage.Assessment
		wantCreates int
		wantUpdates int
	}{
		{"first P2: opened", assess(triage.P2, 60), 1, 0},
		{"same again: nothing", assess(triage.P2, 60), 1, 0},
		{"score up: updated", assess(triage.P2, 70), 1, 1},
		{"escalated to P1: updated", assess(triage.P1, 85), 1, 2},
		{"P1 again: nothing", assess(triage.P1, 85), 1, 2},
	}
	for _, st := range steps {
		if _, err := r.m.Observe(ctx, f, st.a); err != nil {
			t.Fatalf("%s: Observe = %v", st.name, err)
		}
		if r.ops.creates != st.wantCreates || len(r.ops.updates) != st.wantUpdates {
			t.Errorf("%s: %d creates, %d updates; want %d, %d", st.name, r.ops.creates, len(r.ops.updates), st.wantCreates, st.wantUpdates)
		}
	}
	if p := aws.ToInt32(r.ops.updates[1].Priority); p != 1 {
		t.Errorf("OpsItem priority after escalation = %d; want 1", p)
	}
	low := finding("low", "tools", "CVE-2026-0003")
	if _, err := r.m.Observe(ctx, low, assess(triage.P3, 40)); err != nil {
		t.Fatal(err)
	}
	if r.ops.creates != 1 {
		t.Errorf("a P3 finding opened a ticket (ticket priority P2); creates = %d", r.ops.creates)
	}
}

// TestTicketFailureNeverLosesTheFinding: OpsCenter down: the finding is
// logged, the failure counted, and the daily run opens the ticket.
func TestTicketFailureNeverLosesTheFinding(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.ops.fail = errors.New("operation error SSM: CreateOpsItem: InternalServerError")
	f := finding("down", "prod-api", "CVE-2026-0004")
	if _, err := r.m.Observe(ctx, f, assess(triage.P1, 90)); err != nil {
		t.Fatalf("Observe = %v; want nil (a ticket failure never fails the finding)", err)
	}
	if got := r.metric(telemetry.MetricTicketFailures, "Operation", "open"); got != 1 {
		t.Errorf("TicketFailures{Operation=open} = %v; want 1", got)
	}
	rec, _, _ := r.m.Store.Get(ctx, vuln.Key(f))
	if rec.TicketState != vuln.TicketFailed || rec.Status != vuln.StatusOpen {
		t.Errorf("record = %+v; want open, ticket failed", rec)
	}
	r.ops.fail = nil
	if _, err := r.m.Daily(ctx); err != nil {
		t.Fatalf("Daily = %v", err)
	}
	rec, _, _ = r.m.Store.Get(ctx, vuln.Key(f))
	if r.ops.creates != 1 || rec.TicketID == "" {
		t.Errorf("after the daily run: %d creates, ticket %q; want the ticket opened", r.ops.creates, rec.TicketID)
	}
}

// TestResolveOnceClosesTicket: 8 concurrent resolutions resolve once,
// close the ticket once and record the time to remediate within SLA.
func TestResolveOnceClosesTicket(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	f := finding("fix", "prod-api", "CVE-2026-0005")
	if _, err := r.m.Observe(ctx, f, assess(triage.P2, 60)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(47 * time.Hour)
	var wg sync.WaitGroup
	var won atomic.Int64
	for range 8 {
		wg.Go(func() {
			if _, ok, err := r.m.Resolve(ctx, vuln.Key(f), at, "Inspector2 reports the finding CLOSED"); err == nil && ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || r.ops.statusUpdates() != 1 {
		t.Errorf("resolutions won %d, OpsItems resolved %d; want 1, 1", won.Load(), r.ops.statusUpdates())
	}
	if got := r.metric(telemetry.MetricTimeToRemediate, "Priority", "P2"); got != (48 * time.Hour).Seconds() {
		t.Errorf("TimeToRemediate{P2} = %v s; want %v (first seen an hour before t0)", got, (48 * time.Hour).Seconds())
	}
	if got := r.metric(telemetry.MetricRemediatedWithinSLA, "Priority", "P2"); got != 1 {
		t.Errorf("RemediatedWithinSLA{P2} = %v; want 1 (2 days of a 7-day SLA)", got)
	}
	if _, ok, _ := r.m.Resolve(ctx, vuln.Key(finding("never-seen", "x", "CVE-1")), at, "x"); ok {
		t.Errorf("Resolve(unknown finding) = true; want false")
	}
}

// TestSLABreachOncePerDay: an overdue finding gets one alert per UTC day
// however often the daily run runs, and a note on its ticket.
func TestSLABreachOncePerDay(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	f := finding("late", "prod-api", "CVE-2026-0006")
	if _, err := r.m.Observe(ctx, f, assess(triage.P1, 90)); err != nil { // due t0+23h
		t.Fatal(err)
	}
	runs := []struct {
		name  string
		after time.Duration
		want  int // alerts so far
	}{
		{"before due", 0, 0},
		{"due passed", 24 * time.Hour, 1},
		{"same day again", time.Hour, 1},
		{"same day, a third run", time.Hour, 1},
		{"next day", 24 * time.Hour, 2},
	}
	for _, run := range runs {
		r.clk.Add(run.after)
		if _, err := r.m.Daily(ctx); err != nil {
			t.Fatalf("%s: Daily = %v", run.name, err)
		}
		if len(r.sender.msgs) != run.want {
			t.Errorf("%s: %d breach alerts; want %d", run.name, len(r.sender.msgs), run.want)
		}
	}
	comments := 0
	for _, u := range r.ops.updates {
		if _, ok := u.OperationalData["postdeploy:slaBreach"]; ok {
			comments++
		}
	}
	if comments != 2 {
		t.Errorf("ticket breach notes = %d; want 2", comments)
	}
	if !strings.Contains(r.sender.msgs[0].Subject, "SLA breached (1h overdue)") {
		t.Errorf("subject = %q; want it to say SLA breached (1h overdue)", r.sender.msgs[0].Subject)
	}
}

// TestSLABreachAlertFailsThenRetried: an alert that cannot be published
// releases the day's claim, so the retried run sends it.
func TestSLABreachAlertFailsThenRetried(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.m.Observe(ctx, finding("late2", "prod-api", "CVE-2026-0007"), assess(triage.P1, 90)); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(48 * time.Hour)
	r.sender.err = errors.New("SNS down")
	if _, err := r.m.Daily(ctx); err == nil {
		t.Fatalf("Daily = nil; want the publish error")
	}
	r.sender.err = nil
	if _, err := r.m.Daily(ctx); err != nil {
		t.Fatalf("retried Daily = %v", err)
	}
	if len(r.sender.msgs) != 1 {
		t.Errorf("alerts after the retry = %d; want 1", len(r.sender.msgs))
	}
}

// TestDigestThresholds: with threshold 3, the first two resources of one
// CVE are notified one by one, the third sends the digest, later ones
// fold into it until the next hour's update; a repeated resource adds
// nothing; another CVE is counted apart; threshold 0 never digests.
func TestDigestThresholds(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	steps := []struct {
		name     string
		advance  time.Duration
		resource string
		cve      string
		want     vuln.DigestAction
		count    int
	}{
		{"1st resource", 0, "svc-a", "CVE-2026-1000", vuln.Individual, 1},
		{"2nd resource", 0, "svc-b", "CVE-2026-1000", vuln.Individual, 2},
		{"other CVE apart", 0, "svc-a", "CVE-2026-2000", vuln.Individual, 1},
		{"3rd reaches the threshold", 0, "svc-c", "CVE-2026-1000", vuln.SendDigest, 3},
		{"4th folds", 0, "svc-d", "CVE-2026-1000", vuln.Folded, 4},
		{"repeated resource adds nothing", 0, "svc-d", "CVE-2026-1000", vuln.Folded, 4},
		{"next hour: one update", time.Hour, "svc-e", "CVE-2026-1000", vuln.UpdateDigest, 5},
		{"same hour again: folds", 0, "svc-f", "CVE-2026-1000", vuln.Folded, 6},
	}
	for _, st := range steps {
		r.clk.Add(st.advance)
		d, err := r.m.Digest(ctx, finding(st.resource+st.cve, st.resource, st.cve), assess(triage.P3, 40))
		if err != nil || d.Action != st.want || d.Count != st.count {
			t.Errorf("%s: Digest = %v (%d resources), %v; want %v (%d)", st.name, d.Action, d.Count, err, st.want, st.count)
		}
	}
	r.m.DigestThreshold = 0
	if d, _ := r.m.Digest(ctx, finding("z", "svc-z", "CVE-2026-1000"), assess(triage.P3, 40)); d.Action != vuln.Individual {
		t.Errorf("threshold 0: Digest = %v; want individual", d.Action)
	}
}

// TestReopenedFindingGetsANewTicket: a finding resolved (ticket closed)
// and then reported again is open once more with a new ticket; the
// closed one is kept as previousTicketId.
func TestReopenedFindingGetsANewTicket(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	f := finding("back", "prod-api", "CVE-2026-0010")
	if _, err := r.m.Observe(ctx, f, assess(triage.P2, 60)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.m.Resolve(ctx, vuln.Key(f), t0.Add(time.Hour), "fixed"); err != nil || !ok {
		t.Fatalf("Resolve = %v, %v", ok, err)
	}
	if _, err := r.m.Observe(ctx, f, assess(triage.P2, 60)); err != nil {
		t.Fatal(err)
	}
	rec, _, _ := r.m.Store.Get(ctx, vuln.Key(f))
	if rec.Status != vuln.StatusOpen || r.ops.creates != 2 || rec.TicketID != "oi-000000000002" {
		t.Errorf("reopened: status %s, %d OpsItems created, ticket %q; want open, 2, oi-000000000002", rec.Status, r.ops.creates, rec.TicketID)
	}
}

// TestDailyAsksTheOwningServiceFirst: an overdue finding the owning
// service reports closed (its resolution event was lost) is resolved by
// the daily run, not alerted on.
func TestDailyAsksTheOwningServiceFirst(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	f := finding("lost", "prod-api", "CVE-2026-0011")
	if _, err := r.m.Observe(ctx, f, assess(triage.P1, 90)); err != nil {
		t.Fatal(err)
	}
	asked := 0
	r.m.StillOpen = func(_ context.Context, rec vuln.Record) (bool, string, error) {
		asked++
		return false, "Inspector2 reports the finding CLOSED", nil
	}
	r.clk.Add(48 * time.Hour)
	res, err := r.m.Daily(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, _ := r.m.Store.Get(ctx, vuln.Key(f))
	if asked != 1 || res.Resolved != 1 || len(r.sender.msgs) != 0 || rec.Status != vuln.StatusResolved {
		t.Errorf("asked %d, resolved %d, alerts %d, status %s; want 1, 1, 0, resolved", asked, res.Resolved, len(r.sender.msgs), rec.Status)
	}
}
