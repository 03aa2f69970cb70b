package vuln

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Weekly sends the weekly status report to the report topic (KindReport)
// and returns its text.
func (m *Manager) Weekly(ctx context.Context) (string, error) {
	now := m.Now()
	recs, err := m.Store.List(ctx)
	if err != nil {
		return "", err
	}
	text := Report(recs, now)
	id, err := m.Notify.Send(ctx, notify.Message{
		Kind:     KindReport,
		Subject:  "Vulnerability status, week ending " + now.UTC().Format("2006-01-02"),
		Body:     text,
		Severity: "INFO",
	})
	if err != nil {
		return text, fmt.Errorf("send the weekly vulnerability report: %w", err)
	}
	m.Log.InfoContext(ctx, "weekly vulnerability report sent", "messageId", id, "findings", len(recs))
	return text, nil
}

var priorities = []triage.Priority{triage.P1, triage.P2, triage.P3, triage.P4}

// MTTRWindow is how far back the report's mean time to remediate looks.
const MTTRWindow = 90 * 24 * time.Hour

// Report renders the weekly status report from the log, as plain text
// that reads well in email: open findings by priority and age, new and
// resolved this week, SLA breaches, mean time to remediate per priority
// (findings resolved in the last 90 days) and the ten riskiest open
// findings. Text that came from findings is neutralised (notify.Plain).
func Report(recs []Record, now time.Time) string {
	weekAgo := now.Add(-7 * 24 * time.Hour)
	var b strings.Builder
	fmt.Fprintf(&b, "Vulnerability status report, week ending %s (UTC)\n", now.UTC().Format("Mon 2 January 2006"))
	fmt.Fprintf(&b, "From the vulnerability management log (the postdeploy state table).\n\n")

	var open, overdue []Record
	newWeek := map[triage.Priority]int{}
	resolvedWeek := map[triage.Priority]int{}
	lateWeek := 0
	type mttr struct {
		n, within int
		sum       time.Duration
	}
	mt := map[triage.Priority]*mttr{}
	for _, r := range recs {
		if r.FirstSeen.After(weekAgo) {
			newWeek[r.Priority]++
		}
		switch r.Status {
		case StatusOpen:
			open = append(open, r)
			if r.Overdue(now) {
				overdue = append(overdue, r)
			}
		case StatusResolved:
			if r.ResolvedAt.After(weekAgo) {
				resolvedWeek[r.Priority]++
				if r.ResolvedAt.After(r.Due) {
					lateWeek++
				}
			}
			if r.ResolvedAt.After(now.Add(-MTTRWindow)) {
				x := mt[r.Priority]
				if x == nil {
					x = &mttr{}
					mt[r.Priority] = x
				}
				x.n++
				x.sum += r.ResolvedAt.Sub(r.FirstSeen)
				if !r.ResolvedAt.After(r.Due) {
					x.within++
				}
			}
		}
	}

	fmt.Fprintf(&b, "OPEN FINDINGS: %d (%d past their SLA)\n\n", len(open), len(overdue))
	fmt.Fprintf(&b, "  priority   open   < 7 days   7-30 days   30-90 days   > 90 days   past SLA\n")
	for _, p := range priorities {
		var ages [4]int
		total, late := 0, 0
		for _, r := range open {
			if r.Priority != p {
				continue
			}
			total++
			if r.Overdue(now) {
				late++
			}
			switch age := r.Age(now); {
			case age < 7*24*time.Hour:
				ages[0]++
			case age < 30*24*time.Hour:
				ages[1]++
			case age < 90*24*time.Hour:
				ages[2]++
			default:
				ages[3]++
			}
		}
		fmt.Fprintf(&b, "  %-8s %6d %10d %11d %12d %11d %10d\n", p, total, ages[0], ages[1], ages[2], ages[3], late)
	}
	fmt.Fprintf(&b, "\nTHIS WEEK\n\n")
	fmt.Fprintf(&b, "  New:       %s\n", byPriority(newWeek))
	fmt.Fprintf(&b, "  Resolved:  %s\n", byPriority(resolvedWeek))
	fmt.Fprintf(&b, "  SLA breaches: %d open past due; %d resolved this week after their due date\n", len(overdue), lateWeek)

	fmt.Fprintf(&b, "\nMEAN TIME TO REMEDIATE (resolved in the last 90 days)\n\n")
	for _, p := range priorities {
		x := mt[p]
		if x == nil {
			fmt.Fprintf(&b, "  %s  none resolved\n", p)
			continue
		}
		fmt.Fprintf(&b, "  %s  %s over %s, %d%% within SLA\n", p, human(x.sum/time.Duration(x.n)), notify.Count(x.n, "finding", "findings"), 100*x.within/x.n)
	}

	sort.SliceStable(open, func(i, j int) bool {
		if open[i].Score != open[j].Score {
			return open[i].Score > open[j].Score
		}
		return open[i].FirstSeen.Before(open[j].FirstSeen)
	})
	fmt.Fprintf(&b, "\nTEN RISKIEST OPEN FINDINGS\n\n")
	if len(open) == 0 {
		fmt.Fprintf(&b, "  none: nothing is open\n")
	}
	for i, r := range open {
		if i == 10 {
			break
		}
		due := "due " + r.Due.UTC().Format("2006-01-02")
		if r.Overdue(now) {
			due = "OVERDUE by " + days(now.Sub(r.Due))
		}
		ticket := ""
		if r.TicketID != "" {
			ticket = ", ticket " + notify.Plain(r.TicketID)
		}
		fmt.Fprintf(&b, "  %2d. %s  risk %5.1f  %s\n", i+1, r.Priority, r.Score, clipRunes(notify.Plain(r.Title), 90))
		fmt.Fprintf(&b, "      %s on %s\n", clipRunes(notify.Plain(r.Vuln), 60), clipRunes(notify.Plain(r.Resource), 100))
		fmt.Fprintf(&b, "      %s, open %s%s\n", due, human(r.Age(now)), ticket)
	}
	return b.String()
}

func byPriority(m map[triage.Priority]int) string {
	total := 0
	var parts []string
	for _, p := range priorities {
		total += m[p]
		if m[p] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p, m[p]))
		}
	}
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// human renders a duration as days and hours.
func human(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	dd := int(d / (24 * time.Hour))
	h := int((d % (24 * time.Hour)) / time.Hour)
	switch {
	case dd == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dd", dd)
	}
	return fmt.Sprintf("%dd %dh", dd, h)
}
