package vuln_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

var reportNow = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func rec(i int, p triage.Priority, score float64, age time.Duration, status string, resolvedAgo time.Duration) vuln.Record {
	first := reportNow.Add(-age)
	r := vuln.Record{
		Key: fmt.Sprintf("inspector2#%04d", i), Source: "inspector2", FindingID: fmt.Sprintf("arn:aws:inspector2:us-east-1:123456789012:finding/%04d", i),
		Title: fmt.Sprintf("CVE-2026-%04d - libexample", 1000+i), Vuln: fmt.Sprintf("CVE-2026-%04d", 1000+i),
		Resource: fmt.Sprintf("prod-svc-%02d@sha256:%064d", i%7, i), Severity: "HIGH", Priority: p, Score: score,
		FirstSeen: first, LastSeen: reportNow, Due: first.Add(triage.DefaultSLAs[p]), Status: status,
	}
	if status == vuln.StatusResolved {
		r.ResolvedAt = reportNow.Add(-resolvedAgo)
	}
	if p <= triage.P2 {
		r.TicketID = fmt.Sprintf("oi-%012d", i)
	}
	return r
}

// TestWeeklyReportGolden: the weekly status report as email text. Run
// with -update to rewrite testdata/report.txt after a deliberate change.
func TestWeeklyReportGolden(t *testing.T) {
	h, d := time.Hour, 24*time.Hour
	recs := []vuln.Record{
		rec(1, triage.P1, 92.5, 30*h, vuln.StatusOpen, 0),       // overdue P1, new this week
		rec(2, triage.P1, 88, 10*h, vuln.StatusOpen, 0),         // open P1 within SLA
		rec(3, triage.P2, 71.2, 9*d, vuln.StatusOpen, 0),        // overdue P2
		rec(4, triage.P2, 60, 3*d, vuln.StatusOpen, 0),          // new P2
		rec(5, triage.P3, 45, 40*d, vuln.StatusOpen, 0),         // P3 30–90 days, overdue
		rec(6, triage.P3, 41, 100*d, vuln.StatusOpen, 0),        // P3 > 90 days
		rec(7, triage.P4, 20, 2*d, vuln.StatusOpen, 0),          // new P4
		rec(8, triage.P1, 95, 3*d, vuln.StatusResolved, 2*d),    // resolved this week within 1 day
		rec(9, triage.P2, 65, 20*d, vuln.StatusResolved, 5*d),   // resolved this week, late
		rec(10, triage.P3, 38, 60*d, vuln.StatusResolved, 20*d), // resolved earlier, within SLA
	}
	for i := 11; i <= 18; i++ {
		recs = append(recs, rec(i, triage.P3, 35+float64(i)/10, 5*d, vuln.StatusOpen, 0))
	}
	golden.Check(t, "testdata/report.txt", vuln.Report(recs, reportNow))
}

// TestDigestGolden: the digest of one CVE on five resources.
func TestDigestGolden(t *testing.T) {
	d := vuln.Digested{
		Vuln: "CVE-2026-4242", Title: "CVE-2026-4242 - openssl", Severity: "HIGH", Priority: "P2",
		FirstAt:   time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC),
		Resources: []string{"api@sha256:aaa", "billing@sha256:bbb", "checkout@sha256:ccc", "search@sha256:ddd", "web@sha256:eee"},
	}
	m := vuln.DigestAlert(d, false, 24*time.Hour).Message()
	golden.Check(t, "testdata/digest.txt", m.Subject+"\n\n"+m.Body)
	u := vuln.DigestAlert(d, true, 24*time.Hour).Message()
	golden.Check(t, "testdata/digest-update.subject.txt", u.Subject+"\n")
}
