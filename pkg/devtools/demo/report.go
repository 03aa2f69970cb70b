package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// played is a scenario with its result.
type played struct {
	scenario
	result
}

func (p played) ok() bool { return len(p.Problems) == 0 }

// writeReport prints the table, the notes, and what went wrong.
func writeReport(w io.Writer, ps []played, total, build time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tEXPECTED\tGOT\tINVOCATIONS\tAWS CALLS\tTIME\t")
	for _, p := range ps {
		mark := "ok"
		if !p.ok() {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", p.Name, p.Expected, p.Got, p.Invocations, p.AWSCalls, seconds(p.Elapsed), mark)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "(AWS CALLS: calls the functions made to the stand-in; their DynamoDB calls go to dynalite.)")

	for _, p := range ps {
		if p.Note == "" {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n%s\n", p.NoteTitle, indent(p.Note, "  │ "))
	}

	bad := 0
	for _, p := range ps {
		if p.ok() {
			continue
		}
		bad++
		fmt.Fprintf(w, "\n%q did not go as expected:\n", p.Name)
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "  - %s\n", pr)
		}
	}
	fmt.Fprintln(w)
	if bad == 0 {
		fmt.Fprintf(w, "All %d scenarios went as expected in %s (build %s).\n", len(ps), seconds(total), seconds(build))
		return
	}
	fmt.Fprintf(w, "%d of %d scenarios did NOT go as expected (%s). Re-run with -v to see every function's logs.\n", bad, len(ps), seconds(total))
}

// seconds formats a duration for people: "14ms", "3.2s".
func seconds(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
