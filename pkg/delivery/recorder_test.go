package delivery_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/emfsum"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	os.Exit(db.Run(m))
}

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

// newRecorder gives each test its own table on the shared dynalite; out
// collects the EMF records.
func newRecorder(t *testing.T) (*delivery.Recorder, *bytes.Buffer) {
	t.Helper()
	c, table := db.StateTable(t, "delivery")
	out := &bytes.Buffer{}
	r := delivery.NewRecorder(c, table, telemetry.NewMetrics("Postdeploy", out), nil, 24*time.Hour)
	r.Now = func() time.Time { return at(200) }
	return r, out
}

// Sums adds up the EMF records the recorder wrote.
func Sums(t *testing.T, emf []byte) map[string]float64 {
	t.Helper()
	sums, err := emfsum.Sum(emf)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestDeploymentCountedOnceWithLeadTime(t *testing.T) {
	ctx := context.Background()
	r, out := newRecorder(t)
	d := delivery.Deployment{Pipeline: "api", ExecutionID: "e1", Completed: at(2), SourceCreated: at(0.5)}
	for range 3 { // EventBridge delivers at least once; the action and stage events both record it
		if err := r.RecordDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{
		"Deployments{Pipeline=api}": 1, "Deployments{Pipeline=api}#n": 1,
		"LeadTimeForChanges{Pipeline=api}": 5400, "LeadTimeForChanges{Pipeline=api}#n": 1,
	}
	if diff := cmp.Diff(want, Sums(t, out.Bytes())); diff != "" {
		t.Errorf("metrics after 3 deliveries of one deployment (-want +got):\n%s", diff)
	}
}

func TestVerificationFailureBeforeDeploymentCountsOnce(t *testing.T) {
	ctx := context.Background()
	r, out := newRecorder(t)
	f := delivery.Failure{Kind: delivery.FailedVerification, Pipeline: "api", ExecutionID: "e1", At: at(2.25)}
	// Out of order: the verdict arrives before the deployment's event, twice.
	for range 2 {
		if err := r.RecordFailure(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if got := Sums(t, out.Bytes())["ChangeFailures{Pipeline=api}"]; got != 0 {
		t.Fatalf("ChangeFailures before the deployment is known = %v; want 0", got)
	}
	d := delivery.Deployment{Pipeline: "api", ExecutionID: "e1", Completed: at(2), SourceCreated: at(1)}
	for range 2 {
		if err := r.RecordDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.RecordFailure(ctx, f); err != nil { // and once more, late
		t.Fatal(err)
	}
	// The rollback execution completes at +2h45m: restored 30m after the failure.
	rb := delivery.Deployment{Pipeline: "api", ExecutionID: "rb1", Completed: at(2.75), Rollback: true}
	for range 2 {
		if err := r.RecordDeployment(ctx, rb); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.RecordFailure(ctx, delivery.Failure{Kind: delivery.RolledBack, Pipeline: "api", At: at(2.5)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"Deployments{Pipeline=api}": 1, "Deployments{Pipeline=api}#n": 1,
		"LeadTimeForChanges{Pipeline=api}": 3600, "LeadTimeForChanges{Pipeline=api}#n": 1,
		"ChangeFailures{Pipeline=api}": 1, "ChangeFailures{Pipeline=api}#n": 1,
		"TimeToRestore{Pipeline=api}": 1800, "TimeToRestore{Pipeline=api}#n": 1,
	}
	if diff := cmp.Diff(want, Sums(t, out.Bytes())); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestRestoreArrivingBeforeTheFailure(t *testing.T) {
	ctx := context.Background()
	r, out := newRecorder(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.RecordDeployment(ctx, delivery.Deployment{Pipeline: "api", ExecutionID: "e1", Completed: at(1)}))
	// The fix lands before the (delayed) verdict of e1 is delivered.
	must(r.RecordDeployment(ctx, delivery.Deployment{Pipeline: "api", ExecutionID: "e2", Completed: at(3)}))
	must(r.RecordFailure(ctx, delivery.Failure{Kind: delivery.FailedVerification, Pipeline: "api", ExecutionID: "e1", At: at(1.5)}))
	must(r.RecordFailure(ctx, delivery.Failure{Kind: delivery.FailedVerification, Pipeline: "api", ExecutionID: "e1", At: at(1.5)}))
	got := Sums(t, out.Bytes())
	if got["ChangeFailures{Pipeline=api}"] != 1 || got["TimeToRestore{Pipeline=api}"] != 1.5*3600 || got["TimeToRestore{Pipeline=api}#n"] != 1 {
		t.Errorf("ChangeFailures = %v, TimeToRestore = %v over %v records; want 1, 5400 over 1", got["ChangeFailures{Pipeline=api}"], got["TimeToRestore{Pipeline=api}"], got["TimeToRestore{Pipeline=api}#n"])
	}
}

func TestIncidentAttributedAndRestoredOnce(t *testing.T) {
	ctx := context.Background()
	r, out := newRecorder(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.RecordDeployment(ctx, delivery.Deployment{Pipeline: "api", ExecutionID: "e1", Completed: at(1)}))
	must(r.RecordDeployment(ctx, delivery.Deployment{Pipeline: "api", ExecutionID: "e2", Completed: at(5)}))
	alarm := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-5xx"
	must(r.EndIncident(ctx, alarm, at(5.5))) // an OK before any ALARM: ignored
	for range 2 {
		must(r.StartIncident(ctx, alarm, "api", at(6)))
	}
	for range 2 {
		must(r.EndIncident(ctx, alarm, at(7.25)))
	}
	// An incident long after the last deployment is nobody's change.
	must(r.StartIncident(ctx, alarm, "api", at(60)))
	want := map[string]float64{
		"Deployments{Pipeline=api}": 2, "Deployments{Pipeline=api}#n": 2,
		"ChangeFailures{Pipeline=api}": 1, "ChangeFailures{Pipeline=api}#n": 1,
		"TimeToRestore{Pipeline=api}": 4500, "TimeToRestore{Pipeline=api}#n": 1,
		"DeliveryEventsIgnored{Reason=no-open-incident}": 2, "DeliveryEventsIgnored{Reason=no-open-incident}#n": 2,
		"DeliveryEventsIgnored{Reason=unattributed}": 1, "DeliveryEventsIgnored{Reason=unattributed}#n": 1,
	}
	if diff := cmp.Diff(want, Sums(t, out.Bytes())); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestBuildAndPipelineOutcomesOnce(t *testing.T) {
	ctx := context.Background()
	r, out := newRecorder(t)
	calls := []func() error{
		func() error { return r.RecordBuild(ctx, "arn:b1", "web", "IN_PROGRESS") },
		func() error { return r.RecordBuild(ctx, "arn:b1", "web", "SUCCEEDED") },
		func() error { return r.RecordBuild(ctx, "arn:b1", "web", "SUCCEEDED") },
		func() error { return r.RecordBuild(ctx, "arn:b2", "web", "FAULT") },
		func() error { return r.RecordBuild(ctx, "arn:b3", "web", "STOPPED") },
		func() error { return r.RecordPipelineRun(ctx, "api", "e1", "Succeeded") },
		func() error { return r.RecordPipelineRun(ctx, "api", "e1", "Succeeded") },
		func() error { return r.RecordPipelineRun(ctx, "api", "e2", "Failed") },
		func() error { return r.RecordPipelineRun(ctx, "api", "e2", "Succeeded") }, // retried stage: first outcome stays
		func() error { return r.RecordPipelineRun(ctx, "api", "e3", "Superseded") },
	}
	for _, c := range calls {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{
		"Builds{Outcome=Succeeded,Project=web}": 1, "Builds{Outcome=Succeeded,Project=web}#n": 1,
		"Builds{Outcome=Failed,Project=web}": 1, "Builds{Outcome=Failed,Project=web}#n": 1,
		"PipelineExecutions{Outcome=Succeeded,Pipeline=api}": 1, "PipelineExecutions{Outcome=Succeeded,Pipeline=api}#n": 1,
		"PipelineExecutions{Outcome=Failed,Pipeline=api}": 1, "PipelineExecutions{Outcome=Failed,Pipeline=api}#n": 1,
	}
	if diff := cmp.Diff(want, Sums(t, out.Bytes())); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestRecordRefusesIncompleteFacts(t *testing.T) {
	r, _ := newRecorder(t)
	if err := r.RecordDeployment(context.Background(), delivery.Deployment{Pipeline: "api"}); err == nil || !strings.Contains(err.Error(), "execution") {
		t.Errorf("RecordDeployment(no execution) = %v; want an error naming the execution", err)
	}
	if err := r.RecordFailure(context.Background(), delivery.Failure{Pipeline: "api"}); err == nil || !strings.Contains(err.Error(), "time") {
		t.Errorf("RecordFailure(no time) = %v; want an error naming the time", err)
	}
}
