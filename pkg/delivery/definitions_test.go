package delivery

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // a Monday

// none marks an unknown source time in dep.
const none = -9999.0

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

func dep(exec string, completedH, sourceH float64) Deployment {
	d := Deployment{Pipeline: "api", ExecutionID: exec, Completed: at(completedH)}
	if sourceH != none {
		d.SourceCreated = at(sourceH)
	}
	return d
}

func TestFrequency(t *testing.T) {
	deps := []Deployment{dep("a", 0, none), dep("b", 23.99, none), dep("c", 24, none), {Pipeline: "api", ExecutionID: "r", Completed: at(1), Rollback: true}}
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"first day: a and b, not the rollback, c is the next day", at(0), at(24), 2},
		{"from is inclusive, to exclusive", at(23.99), at(24.0001), 2},
		{"empty period", at(100), at(200), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Frequency(deps, tt.from, tt.to); got != tt.want {
				t.Errorf("Frequency(%v, %v) = %d; want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestLeadTime(t *testing.T) {
	tests := []struct {
		name   string
		d      Deployment
		want   time.Duration
		wantOK bool
	}{
		{"commit 3h30m before completion", dep("a", 5.5, 2), 3*time.Hour + 30*time.Minute, true},
		{"same instant", dep("a", 2, 2), 0, true},
		{"unknown source time", dep("a", 5, none), 0, false},
		{"source newer than the deployment", dep("a", 1, 2), 0, false},
		{"rollback has none", Deployment{Pipeline: "api", Completed: at(5), SourceCreated: at(1), Rollback: true}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LeadTime(tt.d)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("LeadTime(%+v) = %v, %v; want %v, %v", tt.d, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAttribute(t *testing.T) {
	deps := []Deployment{
		dep("a", 0, none),
		dep("b", 10, none),
		{Pipeline: "api", ExecutionID: "rb", Completed: at(12), Rollback: true},
		{Pipeline: "web", ExecutionID: "w", Completed: at(11)},
		dep("c", 40, none),
	}
	w := 24 * time.Hour
	tests := []struct {
		name string
		f    Failure
		want int
	}{
		{"incident goes to the latest earlier deployment of its pipeline, not the rollback or another pipeline", Failure{Kind: IncidentStarted, Pipeline: "api", At: at(13)}, 1},
		{"named execution wins over the latest", Failure{Kind: FailedVerification, Pipeline: "api", ExecutionID: "a", At: at(13)}, 0},
		{"named execution not yet deployed", Failure{Kind: FailedVerification, Pipeline: "api", ExecutionID: "c", At: at(13)}, -1},
		{"outside the window", Failure{Kind: IncidentStarted, Pipeline: "api", At: at(10 + 24.01)}, -1},
		{"at the window's end", Failure{Kind: IncidentStarted, Pipeline: "api", At: at(34)}, 1},
		{"before any deployment", Failure{Kind: IncidentStarted, Pipeline: "api", At: at(-1)}, -1},
		{"same instant as the deployment", Failure{Kind: IncidentStarted, Pipeline: "api", At: at(10)}, 1},
		{"unknown pipeline", Failure{Kind: IncidentStarted, Pipeline: "db", At: at(13)}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Attribute(deps, tt.f, w); got != tt.want {
				t.Errorf("Attribute(%+v) = %d; want %d", tt.f, got, tt.want)
			}
		})
	}
}

func TestChangeFailureRate(t *testing.T) {
	deps := []Deployment{dep("a", 0, none), dep("b", 10, none), dep("c", 20, none), dep("d", 40, none), {Pipeline: "api", ExecutionID: "rb", Completed: at(21), Rollback: true}}
	failures := []Failure{
		{Kind: FailedVerification, Pipeline: "api", ExecutionID: "b", At: at(10.2)},
		{Kind: RolledBack, Pipeline: "api", At: at(10.5)},         // b again: counted once
		{Kind: IncidentStarted, Pipeline: "api", At: at(22)},      // c
		{Kind: IncidentStarted, Pipeline: "api", At: at(39)},      // c: 19h after, inside 24h
		{Kind: IncidentStarted, Pipeline: "api", At: at(40 + 25)}, // d: outside the window
	}
	// Hand count: 4 deployments (the rollback is not one); b and c failed.
	failed, total := ChangeFailureRate(deps, failures, 24*time.Hour)
	if failed != 2 || total != 4 {
		t.Errorf("ChangeFailureRate = %d/%d; want 2/4", failed, total)
	}
}

func TestRestores(t *testing.T) {
	t.Run("incident", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			in     Incident
			want   time.Duration
			wantOK bool
		}{
			{"closed after 45m", Incident{Start: at(1), End: at(1.75)}, 45 * time.Minute, true},
			{"open", Incident{Start: at(1)}, 0, false},
			{"end before start", Incident{Start: at(2), End: at(1)}, 0, false},
		} {
			got, ok := IncidentRestore(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%s: IncidentRestore(%+v) = %v, %v; want %v, %v", tt.name, tt.in, got, ok, tt.want, tt.wantOK)
			}
		}
	})
	t.Run("redeploy", func(t *testing.T) {
		deps := []Deployment{dep("a", 0, none), dep("b", 10, none), {Pipeline: "api", ExecutionID: "rb", Completed: at(10.75), Rollback: true}, dep("c", 12, none), {Pipeline: "web", ExecutionID: "w", Completed: at(10.6)}}
		got, i := RedeployRestore(deps, deps[1], at(10.25))
		if got != 30*time.Minute || i != 2 {
			t.Errorf("RedeployRestore(b failed at +10h15m) = %v, %d; want 30m0s, 2 (the rollback at +10h45m)", got, i)
		}
		if got, i := RedeployRestore(deps, deps[3], at(12.5)); i != -1 {
			t.Errorf("RedeployRestore(c, nothing later) = %v, %d; want -1", got, i)
		}
	})
}

func TestSuccessRate(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		build    bool
		want     float64
		wantOK   bool
	}{
		{"builds: 3 of 4 counted succeeded; STOPPED excluded", []string{"SUCCEEDED", "SUCCEEDED", "FAULT", "SUCCEEDED", "STOPPED", "IN_PROGRESS"}, true, 75, true},
		{"builds: timed out is a failure", []string{"TIMED_OUT", "SUCCEEDED"}, true, 50, true},
		{"pipelines: superseded and stopped excluded", []string{"Succeeded", "Failed", "Superseded", "Stopped", "Cancelled", "Succeeded", "Succeeded", "Failed"}, false, 60, true},
		{"nothing counted", []string{"Stopped"}, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var os []Outcome
			for _, s := range tt.statuses {
				if tt.build {
					os = append(os, BuildOutcome(s))
				} else {
					os = append(os, PipelineOutcome(s))
				}
			}
			got, ok := SuccessRate(os)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("SuccessRate(%v) = %v, %v; want %v, %v", tt.statuses, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	// A week by hand: four deployments, one rollback.
	//   a  Mon 09:00, source 07:00 → lead 2h
	//   b  Tue 09:00, source Mon 21:00 → lead 12h; verification fails 09:10; rollback rb completes 09:40 → restore 30m
	//   c  Wed 09:00, source 08:00 → lead 1h; incident 11:00–12:30 → restore 90m, c failed
	//   d  Fri 09:00, source Thu 09:00 → lead 24h
	// Leads 1h, 2h, 12h, 24h → median 7h. CFR 2/4 = 50%. Restores 30m, 90m → median 60m.
	deps := []Deployment{
		dep("a", 0, -2),
		dep("b", 24, 12),
		{Pipeline: "api", ExecutionID: "rb", Completed: at(24 + 40.0/60), SourceCreated: at(-2), Rollback: true},
		dep("c", 48, 47),
		dep("d", 96, 72),
	}
	failures := []Failure{
		{Kind: FailedVerification, Pipeline: "api", ExecutionID: "b", At: at(24 + 10.0/60)},
		{Kind: RolledBack, Pipeline: "api", At: at(24 + 30.0/60)},
		{Kind: IncidentStarted, Pipeline: "api", At: at(50)},
	}
	incidents := []Incident{{Pipeline: "api", Start: at(50), End: at(51.5)}}
	got := Summarize(deps, failures, incidents, at(0), at(7*24), 24*time.Hour)
	want := Keys{Deployments: 4, LeadTime: 7 * time.Hour, Failed: 2, ChangeFailureRate: 50, TimeToRestore: time.Hour, Restores: 2}
	if got != want {
		t.Errorf("Summarize(week) = %+v; want %+v", got, want)
	}
}
