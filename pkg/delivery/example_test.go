package delivery_test

import (
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/delivery"
)

// Two production deployments in a day; the second fails its verification
// and a rollback restores service 20 minutes later.
func ExampleSummarize() {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	deps := []delivery.Deployment{
		{Pipeline: "api", ExecutionID: "e1", SourceCreated: at(8, 0), Completed: at(9, 0)},
		{Pipeline: "api", ExecutionID: "e2", SourceCreated: at(13, 0), Completed: at(14, 0)},
		{Pipeline: "api", ExecutionID: "r1", Completed: at(14, 30), Rollback: true},
	}
	failures := []delivery.Failure{{Kind: delivery.FailedVerification, Pipeline: "api", ExecutionID: "e2", At: at(14, 10)}}
	k := delivery.Summarize(deps, failures, nil, day, day.Add(24*time.Hour), 24*time.Hour)
	fmt.Printf("deployments %d, lead time %s, change failure rate %.0f%%, time to restore %s\n", k.Deployments, k.LeadTime, k.ChangeFailureRate, k.TimeToRestore)
	// Output: deployments 2, lead time 1h0m0s, change failure rate 50%, time to restore 20m0s
}
