package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// SectionName names the marked section of BENCHMARKS.md this command
// owns; benchreport keeps it when it rewrites the file.
const SectionName = "triage-at-scale"

// The markers around the section.
const (
	beginMarker = "<!-- section:" + SectionName + ":begin (written by go run ./pkg/devtools/triagebench; benchreport keeps it) -->"
	endMarker   = "<!-- section:" + SectionName + ":end -->"
)

func (r result) markdown() string {
	var b strings.Builder
	fmt.Fprintln(&b, beginMarker)
	fmt.Fprintln(&b, "## respond: one Security Hub event of 100 findings, sequential vs concurrent + PublishBatch")
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "Written by `go run ./pkg/devtools/triagebench -runs %d -delay %s` on %s (took %s). Load average (1, 5, 15 min): %s.\n\n",
		r.opts.runs, r.opts.delay, r.started.Format("2006-01-02 15:04 UTC"), r.took.Round(time.Second), r.load)
	fmt.Fprintf(&b, "The real respond binary (built for this host, run under pkg/devtools/lambdarun, warm) handles one Security Hub \"Findings - Imported\" event of %d distinct ASFF findings. Every AWS call is answered after a fixed %s: the stand-in's FaultLatency on every SNS call, and a proxy in front of dynalite adding the same delay to every DynamoDB call. Both modes run in the same process of this command, each against its own state table and stand-in, on the same events (same finding ids); the figure is the handler's Duration (the REPORT line), median of %d events each of fresh findings.\n\n",
		r.opts.findings, r.opts.delay, r.opts.runs)
	fmt.Fprintln(&b, "| mode | median | all events | messages | SNS calls | DynamoDB calls | claims per finding | published again on redelivery |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|")
	for _, m := range r.modes {
		var all []string
		for _, d := range m.Durations {
			all = append(all, ms(d))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %.2f | %d |\n", m.Mode, ms(median(m.Durations)), strings.Join(all, ", "),
			m.Published, m.SNSCalls, m.DDBCalls, float64(m.Claims)/float64(r.opts.findings), m.Redelivery)
	}
	fmt.Fprintln(&b)
	verdict := "met"
	if r.speedup() < 10 {
		verdict = "**not met**"
	}
	same := "the same messages (subject and body, compared as sorted sets per event)"
	if !r.same {
		same = "**different messages**: " + r.sameNote
	}
	fmt.Fprintf(&b, "Speed-up, concurrent + PublishBatch over sequential: **%.1f×** (target ≥ 10×: %s); with the vulnerability log as well: %.1f×. Every mode published %s; each finding was claimed once, and delivering the last event again published nothing.\n\n", r.speedup(), verdict, r.speedupOf(2), same)
	fmt.Fprintln(&b, "Why: sequentially, each finding costs its dedupe claim (a conditional PutItem) and one SNS Publish, one after another: about 2 × 100 round trips. Concurrently, 16 findings at a time (POSTDEPLOY_TRIAGE_CONCURRENCY), each with its claim (and, in the last row, its vulnerability-log UpdateItem side by side), and the notifications in PublishBatch calls of 10 (the API's maximum), those calls also concurrent: about ⌈100/16⌉ + 1 round trips. On a loaded 2-core machine the concurrent mode is bound by CPU (dynalite, the stand-in, respond and this command share it), not by the 20 ms: compare the load average above. The digest is off (POSTDEPLOY_DIGEST_THRESHOLD=0) because the 100 findings are one control on 100 buckets, which it would rightly fold into one message; tickets are off (the default). The first two rows run with vulnerability management off (POSTDEPLOY_VULN_MANAGEMENT=false) so they compare the same work, claims and publishes.")
	fmt.Fprintln(&b, endMarker)
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// writeSection replaces the marked section of the file at path (or
// appends it when the file has none).
func writeSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	s := string(old)
	if i := strings.Index(s, beginMarker[:strings.Index(beginMarker, ":begin")]); i >= 0 {
		if j := strings.Index(s[i:], endMarker); j >= 0 {
			s = s[:i] + strings.TrimSuffix(section, "\n") + s[i+j+len(endMarker):]
		} else {
			return fmt.Errorf("%s: the %s section has a begin marker and no end marker; fix the file by hand", path, SectionName)
		}
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n" + section
	}
	//nolint:gosec // G306: a checked-in document, not a secret
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
