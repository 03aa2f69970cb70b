package triage_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/triage"
)

// A critical, exploited, fixable finding on an image tagged
// criticality=critical is P1, to be fixed within a day.
func ExampleFromEvent() {
	b, err := os.ReadFile("../../events/respond-inspector-finding.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		fmt.Println(err)
		return
	}
	findings, _, err := triage.FromEvent(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := findings[0]
	a := triage.Scorer{}.Score(f, time.Now())
	fmt.Println(f.Title, f.Severity, f.Resource.Name())
	fmt.Printf("risk %.0f → %s, SLA %s\n", a.Score, a.Priority, a.SLA)
	// Output:
	// CVE-2022-3602 - openssl CRITICAL prod-api@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd
	// risk 90 → P1, SLA 24h0m0s
}

// Weights come from configuration; the score divides by their sum.
func ExampleScorer_Score() {
	w, _ := triage.ParseWeights("severity=0.5,likelihood=0.3,impact=0.2,compliance=0")
	s := triage.Scorer{Weights: w}
	low := triage.Finding{Severity: triage.Low, Resource: triage.Resource{Repository: "tools"}}
	a := s.Score(low, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	fmt.Printf("%.1f %s due %s\n", a.Score, a.Priority, a.Due.Format(time.DateOnly))
	// Output: 28.5 P4 due 2027-02-20
}
