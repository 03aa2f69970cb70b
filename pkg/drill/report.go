package drill

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one alarm's drill.
type Row struct {
	Alarm string
	// Topics are the topics the alarm notifies (names).
	Topics []string
	// Notified is how long CloudWatch's notification took to reach the
	// drill's queue, on NotifiedOn; 0 when it did not.
	Notified   time.Duration
	NotifiedOn string
	// Respond says where respond routed it ("" when it did not), or
	// for one of the suite's own alarms RespondNotRouted (right) or
	// where respond re-paged it (a problem);
	// Remediate remediate's decision as audited.
	Respond, Remediate string
	// Skipped says why the alarm was not drilled.
	Skipped string
	// Note is worth knowing but not a problem; Restored what became of
	// the alarm's state afterwards.
	Note, Restored string
	// Problems say which part of the path is broken.
	Problems []string
}

func (r Row) summary() string {
	switch {
	case r.Skipped != "":
		return "skipped: " + r.Skipped
	case len(r.Problems) > 0:
		return "BROKEN: " + strings.Join(r.Problems, "; ")
	}
	return "ok"
}

// WidgetCheck is one dashboard widget's data check.
type WidgetCheck struct {
	Dashboard, Widget string
	// HasData: some series of the widget had a datapoint in the last day.
	HasData bool
	// Err says why the widget could not be checked.
	Err string
}

// Report is the drill's outcome.
type Report struct {
	Stack    string
	Rows     []Row
	Widgets  []WidgetCheck
	Restored []string
	// Cleanup lists what could not be removed (the queue, subscriptions).
	Cleanup []string
}

// OK reports whether every drilled alarm's path worked, every alarm was
// restored and the drill cleaned up after itself. Empty dashboard
// widgets are flagged, not failures: a new deployment has no traffic yet.
func (r *Report) OK() bool {
	for _, row := range r.Rows {
		if len(row.Problems) > 0 || strings.HasPrefix(row.Restored, "NOT") {
			return false
		}
	}
	for _, s := range r.Restored {
		if strings.Contains(s, "NOT restored") {
			return false
		}
	}
	return len(r.Cleanup) == 0
}

// Write prints the table, then the problems, then the dashboards.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Alert drill of stack %s\n\n", r.Stack)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALARM\tTOPIC\tNOTIFIED\tRESPOND\tREMEDIATE")
	for _, row := range r.Rows {
		notified, respond, remediate := "NO", orNo(row.Respond), orNo(row.Remediate)
		if row.Notified > 0 || row.NotifiedOn != "" {
			notified = fmt.Sprintf("in %.2f s", row.Notified.Seconds())
		}
		if row.Skipped != "" {
			notified, respond, remediate = "skipped", "—", "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Alarm, orDash(strings.Join(row.Topics, ",")), notified, respond, remediate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	broken := 0
	for _, row := range r.Rows {
		if row.Skipped != "" {
			fmt.Fprintf(&b, "\n%s: skipped: %s", row.Alarm, row.Skipped)
		}
		if row.Note != "" {
			fmt.Fprintf(&b, "\n%s: note: %s", row.Alarm, row.Note)
		}
		for _, p := range row.Problems {
			broken++
			fmt.Fprintf(&b, "\n%s: BROKEN: %s", row.Alarm, p)
		}
		if strings.HasPrefix(row.Restored, "NOT") {
			fmt.Fprintf(&b, "\n%s: %s", row.Alarm, row.Restored)
		}
	}
	restored := 0
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Restored, "restored") || strings.HasPrefix(row.Restored, "back to") {
			restored++
		}
	}
	fmt.Fprintf(&b, "\nRestored %d alarm(s) to their state before the drill.", restored)
	for _, s := range r.Restored {
		fmt.Fprintf(&b, "\nafter an interruption: %s", s)
	}
	for _, c := range r.Cleanup {
		fmt.Fprintf(&b, "\ncleanup: %s", c)
	}
	if len(r.Widgets) > 0 {
		fmt.Fprintf(&b, "\n\nDashboards (data in the last 24 h):\n")
		for _, wc := range r.Widgets {
			status := "has data"
			switch {
			case wc.Err != "":
				status = "NOT CHECKED: " + wc.Err
			case !wc.HasData:
				status = "EMPTY: no datapoint in the last day"
			}
			fmt.Fprintf(&b, "  %s / %s: %s\n", wc.Dashboard, wc.Widget, status)
		}
	}
	verdict := "every alert path works"
	if !r.OK() {
		verdict = fmt.Sprintf("BROKEN: %d problem(s) above", broken+len(r.Cleanup))
	}
	fmt.Fprintf(&b, "\nResult: %s; %d alarms drilled, %d skipped; %d dashboard widgets empty.\n", verdict, r.drilled(), r.skipped(), r.empty())
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) drilled() int { return len(r.Rows) - r.skipped() }

func (r *Report) skipped() int {
	n := 0
	for _, row := range r.Rows {
		if row.Skipped != "" {
			n++
		}
	}
	return n
}

func (r *Report) empty() int {
	n := 0
	for _, w := range r.Widgets {
		if w.Err == "" && !w.HasData {
			n++
		}
	}
	return n
}

func orNo(s string) string {
	if s == "" {
		return "NO"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
