package drill

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRespondVerdictForSuiteAndApplicationAlarms: for the suite's own
// alarms (their alarm actions notify the escalation topic) respond's
// expected outcome is no notification, reported as RespondNotRouted and
// not as a broken path; a notification from respond about one is a
// duplicate page, a problem. For an application alarm respond's
// notification is the expected outcome and none is a broken path.
func TestRespondVerdictForSuiteAndApplicationAlarms(t *testing.T) {
	tests := []struct {
		name        string
		suite       bool
		routedTo    string
		wantColumn  string
		wantProblem string // "" for none
	}{
		{"suite alarm left to its alarm action", true, "", RespondNotRouted, ""},
		{"suite alarm re-paged by respond", true, "postdeploy-application", "re-paged on postdeploy-application", "duplicate page"},
		{"application alarm routed", false, "postdeploy-application", "routed to postdeploy-application", ""},
		{"application alarm not routed: broken", false, "", "", "respond sent no notification about the alarm within 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			column, problem := respondVerdict(tt.suite, tt.routedTo, time.Minute)
			if column != tt.wantColumn || (problem == "") != (tt.wantProblem == "") || !strings.Contains(problem, tt.wantProblem) {
				t.Errorf("respondVerdict(%v, %q) = %q, %q; want %q, a problem saying %q", tt.suite, tt.routedTo, column, problem, tt.wantColumn, tt.wantProblem)
			}
		})
	}
	rep := Report{Rows: []Row{{Alarm: "a", Respond: RespondNotRouted, Restored: "restored to OK"}}}
	if !rep.OK() {
		t.Errorf("Report with a suite alarm %q: OK() = false; want true (not a broken path)", RespondNotRouted)
	}
}

// A notification from respond about a suite alarm that arrives after the
// drill moved on from it is still reported, on that alarm's row; one about
// an application alarm, or about nothing the drill reported as left
// alone, changes nothing.
func TestLateRepageOfASuiteAlarmIsAProblem(t *testing.T) {
	d := &Drill{Timeout: time.Minute}
	w := &watcher{d: d, seen: map[string][]sighting{
		"Stack-respond-errors": {{from: fromCloudWatch, topic: "arn:aws:sns:us-east-1:111122223333:esc", alarm: "Stack-respond-errors"},
			{from: fromRespond, topic: "arn:aws:sns:us-east-1:111122223333:app", alarm: "Stack-respond-errors"}},
		"Stack-verify-errors": {{from: fromCloudWatch, topic: "arn:aws:sns:us-east-1:111122223333:esc", alarm: "Stack-verify-errors"}},
		"app-high-cpu":        {{from: fromRespond, topic: "arn:aws:sns:us-east-1:111122223333:cpu", alarm: "app-high-cpu"}},
	}}
	rep := &Report{Rows: []Row{
		{Alarm: "Stack-respond-errors", Respond: RespondNotRouted},
		{Alarm: "Stack-verify-errors", Respond: RespondNotRouted},
		{Alarm: "app-high-cpu", Respond: "routed to cpu"},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no further read of the queue: only what was already seen
	d.lateRepages(ctx, w, rep, "Stack-")
	if r := rep.Rows[0]; r.Respond != "re-paged on app" || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "duplicate page") {
		t.Errorf("late re-page of Stack-respond-errors: respond %q, problems %v; want re-paged on app and one duplicate-page problem", r.Respond, r.Problems)
	}
	if r := rep.Rows[1]; r.Respond != RespondNotRouted || len(r.Problems) != 0 {
		t.Errorf("Stack-verify-errors: respond %q, problems %v; want %q and none", r.Respond, r.Problems, RespondNotRouted)
	}
	if r := rep.Rows[2]; r.Respond != "routed to cpu" || len(r.Problems) != 0 {
		t.Errorf("app-high-cpu: respond %q, problems %v; want unchanged", r.Respond, r.Problems)
	}
	if rep.OK() {
		t.Error("Report.OK() = true; want false: a suite alarm was paged twice")
	}
}
