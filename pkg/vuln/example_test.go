package vuln_test

import (
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// A finding's log record, its digest group and its ticket's label.
func ExampleFromFinding() {
	f := triage.Finding{
		ID: "arn:aws:inspector2:us-east-1:123456789012:finding/abc", Source: triage.SourceInspector,
		Title: "CVE-2026-1234 - openssl", Severity: triage.High, Vulnerabilities: []string{"cve-2026-1234"},
		Resource:  triage.Resource{Repository: "api", ImageDigest: "sha256:1"},
		FirstSeen: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	}
	a := triage.Scorer{}.Score(f, f.FirstSeen)
	r := vuln.FromFinding(f, a, f.FirstSeen)
	fmt.Println(r.Priority, r.Severity, r.Vuln, r.Resource, "due", r.Due.Format("2006-01-02"))
	fmt.Println(vuln.Label(r.Key)[:len("postdeploy-inspector2-")])
	// Output:
	// P3 HIGH CVE-2026-1234 api@sha256:1 due 2026-12-31
	// postdeploy-inspector2-
}

// The SLA-breach claim is per finding and UTC day, so the alert goes out
// once a day however often the daily run runs.
func ExampleBreachKey() {
	fmt.Println(vuln.BreachKey("inspector2#abc", time.Date(2026, 12, 5, 23, 30, 0, 0, time.FixedZone("PST", -8*3600))))
	// Output: vuln-breach#inspector2#abc#2026-12-06
}
