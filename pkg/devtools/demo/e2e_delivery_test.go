package main

import (
	"context"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/delivery"
)

// The hand-worked keys of the week (delivery_week.go) are what
// pkg/delivery's definitions give for the week's facts.
func TestDeliveryWeekHandWorkedKeysMatchTheDefinitions(t *testing.T) {
	deps := []delivery.Deployment{
		{Pipeline: weekPipeline, ExecutionID: "e1", SourceCreated: wk(0, 8, 0), Completed: wk(0, 9, 30)},
		{Pipeline: weekPipeline, ExecutionID: "e2", SourceCreated: wk(1, 10, 0), Completed: wk(1, 12, 30)},
		{Pipeline: weekPipeline, ExecutionID: "r1", SourceCreated: wk(0, 8, 0), Completed: wk(1, 13, 15), Rollback: true},
		{Pipeline: weekPipeline, ExecutionID: "e3", SourceCreated: wk(2, 14, 0), Completed: wk(3, 10, 0)},
		{Pipeline: weekPipeline, ExecutionID: "e4", SourceCreated: wk(4, 9, 0), Completed: wk(4, 10, 0)},
	}
	failures := []delivery.Failure{
		{Kind: delivery.FailedVerification, Pipeline: weekPipeline, ExecutionID: "e2", At: wk(1, 12, 45)},
		{Kind: delivery.RolledBack, Pipeline: weekPipeline, At: wk(1, 13, 0)},
		{Kind: delivery.IncidentStarted, Pipeline: weekPipeline, At: wk(3, 11, 0)},
	}
	incidents := []delivery.Incident{{Pipeline: weekPipeline, Start: wk(3, 11, 0), End: wk(3, 11, 45)}}
	got := delivery.Summarize(deps, failures, incidents, weekStart, weekStart.Add(7*24*time.Hour), 24*time.Hour)
	if got != weekKeys {
		t.Errorf("Summarize(the week) = %+v; want the hand-worked %+v", got, weekKeys)
	}
}

// The week through respond's real binary: duplicates, an out-of-order
// verdict and a pipeline with no production stage still give the
// hand-worked keys.
func TestDeliveryWeekThroughRespond(t *testing.T) {
	requireFunction(t, "respond")
	requireDynalite(t)
	res := deliveryWeek(context.Background(), shared)
	expectAsPlanned(t, "delivery week", res)
	if want := "4 deploys/week, lead 2h0m0s, CFR 50%, restore 37m30s"; res.Got != want {
		t.Errorf("deliveryWeek = %q; want %q", res.Got, want)
	}
	if res.Invocations != len(weekEvents()) {
		t.Errorf("invocations = %d; want one per event (%d)", res.Invocations, len(weekEvents()))
	}
	t.Logf("%s:\n%s", res.NoteTitle, res.Note)
}
