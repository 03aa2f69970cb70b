package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func localSpec(t *testing.T, yaml string) spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(yaml), nil)
	if err != nil {
		t.Fatalf("spec.Parse: %v", err)
	}
	return s
}

// Local samples on verify's schedule, tallies like bake, and ends with
// verify's verdict and message.
func TestLocalRun(t *testing.T) {
	fail := func(int, int) verdict.Result {
		return verdict.Result{Verdict: verdict.Failed, Target: "https://api.example.com/health", Observed: "status 503"}
	}
	tests := []struct {
		name        string
		spec        string
		result      func(sample, item int) verdict.Result
		wantVerdict verdict.Verdict
		wantPassed  bool
		wantSamples int
		wantMessage string
	}{
		{"passes over the bake", "bake: 2m\ninterval: 30s\nchecks: [{name: health, http: {url: 'https://api.example.com/health'}}]",
			pass, verdict.Succeeded, true, 5, "Verified: 1 check passed (5 samples over 2m0s)."},
		{"fails fast on a critical failure", "bake: 2m\ninterval: 30s\nchecks: [{name: health, http: {url: 'https://api.example.com/health'}}]",
			fail, verdict.Failed, false, 1, "Post-deploy verification FAILED: 1 of 1 check failed"},
		{"inconclusive passes with limits.inconclusive: pass", "bake: 0s\nlimits: {inconclusive: pass}\nchecks: [{name: health, http: {url: 'https://api.example.com/health'}}]",
			func(int, int) verdict.Result { return verdict.Result{Verdict: verdict.Inconclusive} }, verdict.Inconclusive, true, 1, "Passed with limits.inconclusive=pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localSpec(t, tt.spec)
			suite, _ := buildWith(&scripted{result: tt.result})(s)
			clock := newClock()
			var progress []int
			l := Local{Now: clock.Now, Sleep: clock.Sleep, OnSample: func(n int, _ time.Time, rs []verdict.Result) {
				if len(rs) != len(s.Checks) {
					t.Errorf("OnSample(%d) got %d results; want %d", n, len(rs), len(s.Checks))
				}
				progress = append(progress, n)
			}}
			r := l.Run(context.Background(), s, suite)
			if r.Verdict != tt.wantVerdict || r.Passed != tt.wantPassed || r.Samples != tt.wantSamples {
				t.Errorf("Run = verdict %v, passed %t, %d samples; want %v, %t, %d", r.Verdict, r.Passed, r.Samples, tt.wantVerdict, tt.wantPassed, tt.wantSamples)
			}
			if !strings.HasPrefix(r.Message, tt.wantMessage) {
				t.Errorf("Run message = %q; want it to start %q", r.Message, tt.wantMessage)
			}
			if len(progress) != r.Samples {
				t.Errorf("OnSample called %d times; want one per sample (%d)", len(progress), r.Samples)
			}
			if len(r.Checks) != 1 || r.Checks[0].Verdict != tt.wantVerdict {
				t.Errorf("Run checks = %+v; want one check with verdict %v", r.Checks, tt.wantVerdict)
			}
		})
	}
}

// A cancelled context ends the bake with no verdict claimed.
func TestLocalRunInterrupted(t *testing.T) {
	s := localSpec(t, "bake: 10m\ninterval: 1m\nchecks: [{name: health, http: {url: 'https://api.example.com/health'}}]")
	suite, _ := buildWith(&scripted{result: pass})(s)
	clock := newClock()
	ctx, cancel := context.WithCancel(context.Background())
	l := Local{Now: clock.Now, Sleep: clock.Sleep, OnSample: func(n int, _ time.Time, _ []verdict.Result) {
		if n == 2 {
			cancel()
		}
	}}
	r := l.Run(ctx, s, suite)
	if !r.Interrupted || r.Passed || r.Samples != 2 {
		t.Errorf("Run(cancelled after 2 samples) = interrupted %t, passed %t, %d samples; want true, false, 2", r.Interrupted, r.Passed, r.Samples)
	}
	if !strings.Contains(r.Message, "interrupted") {
		t.Errorf("Run message = %q; want it to say it was interrupted", r.Message)
	}
}
