package verify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func sampleOutcome() outcome {
	return outcome{
		Verdict: verdict.Failed,
		Samples: 7,
		Elapsed: 3*time.Minute + 2*time.Second,
		Where:   "pipeline shop-prod, stage Deploy, action Verify, execution 0f5e",
		Checks: []checkOutcome{
			{Name: "api-health", Kind: "http", Target: "https://api.example.com/health", Critical: true, Verdict: verdict.Failed,
				Tally:    verdict.Tally{Succeeded: 5, Failed: 2},
				Evidence: "sample 7: observed status 503 in 120ms; expected status == 200",
				Last:     verdict.Result{Values: map[string]float64{"status": 503, "latency_ms": 120}}},
			{Name: "no-new-alarms", Kind: "alarms", Target: `alarms with prefix "prod-api-"`, Critical: true, Verdict: verdict.Succeeded,
				Tally: verdict.Tally{Succeeded: 7}, Last: verdict.Result{Values: map[string]float64{"in_alarm": 0}}},
			{Name: "latency-vs-baseline", Kind: "compare", Target: "p95 Duration: canary vs baseline", Critical: false, Verdict: verdict.Inconclusive,
				Tally:    verdict.Tally{Inconclusive: 7},
				Evidence: "sample 7: observed 3 baseline and 2 canary points; expected at least 10 per series"},
		},
	}
}

func TestMessagesGolden(t *testing.T) {
	o := sampleOutcome()
	golden.Check(t, "testdata/failure.golden", failureMessage(o))

	ok := sampleOutcome()
	ok.Verdict = verdict.Succeeded
	ok.Checks[0].Verdict, ok.Checks[0].Evidence = verdict.Succeeded, ""
	golden.Check(t, "testdata/success.golden", successSummary(ok))
	golden.Check(t, "testdata/progress.golden", progressSummary(ok, 10*time.Minute))

	errs := spec.Errors{{Path: "bake", Msg: `must be a duration like "30s" or "10m", got "ten"`}, {Path: "checks[0].http.url", Msg: "is required"}}
	golden.Check(t, "testdata/config.golden", configMessage("SSM parameter /postdeploy/shop/prod", errs))

	var vars []string
	for k, v := range outputVariables(ok) {
		vars = append(vars, k+"="+v)
	}
	slices.Sort(vars)
	golden.Check(t, "testdata/variables.golden", strings.Join(vars, "\n")+"\n")
}
