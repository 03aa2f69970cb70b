package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

// Targets, from the adoption issue: a function starts in 20 ms, ships in
// 6 MB, and fits Lambda's 128 MB memory setting with room (48 MiB).
const (
	targetColdStart = 20 * time.Millisecond
	targetZipBytes  = 6_000_000
	targetRSSKiB    = 48 * 1024
	// From the verify fan-out work (pkg/check benchmarks): 100 probes in
	// one answer's time, 250 alarms in ≤ 3 DescribeAlarms calls, 500
	// metric queries in one GetMetricData call.
	targetProbeSampleMS   = 300
	targetAlarmCalls      = 3
	targetMetricDataCalls = 1
)

// figure is one row of the table.
type figure struct {
	Name     string
	Measured string
	Target   string
	Command  string
	Over     bool
}

// report is everything measured.
type report struct {
	root              string
	started, finished time.Time
	machine           string
	loadBefore        string
	loadAfter         string
	runs              int

	floor     coldStart
	cold      []coldStart
	sizes     []packageSize
	verify    *heavyVerifyResult
	respond   *heavyRespondResult
	benches   []benchResult
	benchFile string

	figures []figure
}

const (
	cmdReport = "make build && go run ./pkg/devtools/benchreport"
	cmdBench  = "go test -run '^$' -bench %s %s"
)

// build fills the table from the measurements.
func (r *report) build() {
	add := func(f figure) { r.figures = append(r.figures, f) }
	for _, c := range r.cold {
		add(figure{
			Name:     "Cold start, " + c.Function + " (median of " + fmt.Sprint(len(c.Samples)) + "; p90)",
			Measured: fmt.Sprintf("%s (p90 %s)", msText(c.Median), msText(c.P90)),
			Target:   "≤ " + msText(targetColdStart),
			Command:  cmdReport,
			Over:     c.Median > targetColdStart,
		})
	}
	add(figure{
		Name:     "Cold start floor: bare aws-lambda-go bootstrap (median; p90)",
		Measured: fmt.Sprintf("%s (p90 %s)", msText(r.floor.Median), msText(r.floor.P90)),
		Target:   "— (reference)",
		Command:  cmdReport,
	})
	for _, s := range r.sizes {
		add(figure{
			Name:     "Deployment package, " + s.Function + " (zipped linux/arm64 bootstrap)",
			Measured: fmt.Sprintf("%s (binary %s)", mbText(s.Zipped), mbText(s.Binary)),
			Target:   "≤ " + mbText(targetZipBytes),
			Command:  cmdReport,
			Over:     s.Zipped > targetZipBytes,
		})
	}
	if v := r.verify; v != nil {
		add(figure{
			Name:     fmt.Sprintf("Peak RSS, verify: one sample of %d probes, %d alarms, %d metric queries (the largest legal spec: 50 checks)", v.Probes, heavyAlarms, v.Queries),
			Measured: kibText(v.PeakRSSKiB),
			Target:   "≤ " + kibText(targetRSSKiB),
			Command:  cmdReport,
			Over:     v.PeakRSSKiB > targetRSSKiB,
		})
		add(figure{
			Name:     "verify heavy sample: DescribeAlarms calls for 250 alarms",
			Measured: fmt.Sprint(v.DescribeAlarms),
			Target:   fmt.Sprintf("≤ %d", targetAlarmCalls),
			Command:  cmdReport,
			Over:     v.DescribeAlarms > targetAlarmCalls,
		})
		add(figure{
			Name:     "verify heavy sample: GetMetricData calls for 500 queries",
			Measured: fmt.Sprintf("%d (%d queries)", v.GetMetricData, v.Queries),
			Target:   fmt.Sprintf("%d", targetMetricDataCalls),
			Command:  cmdReport,
			Over:     v.GetMetricData > targetMetricDataCalls,
		})
		add(figure{
			Name:     "verify heavy sample: invocation time (probes answer in 20 ms)",
			Measured: fmt.Sprintf("%s (%d probes, %d AWS calls)", msText(v.Duration), v.Probes, v.AWSCalls),
			Target:   "—",
			Command:  cmdReport,
		})
	}
	if h := r.respond; h != nil {
		add(figure{
			Name:     fmt.Sprintf("Peak RSS, respond: %d findings (%d events of 100)", h.Findings, h.Events),
			Measured: kibText(h.PeakRSSKiB),
			Target:   "≤ " + kibText(targetRSSKiB),
			Command:  cmdReport,
			Over:     h.PeakRSSKiB > targetRSSKiB,
		})
		add(figure{
			Name:     "respond triage through the binary, DynamoDB claim + SNS publish each",
			Measured: fmt.Sprintf("%.0f findings/s (%d published)", float64(h.Findings)/h.Handling.Seconds(), h.Published),
			Target:   "—",
			Command:  cmdReport,
		})
	}
	r.benchFigures(add)
}

// benchFigures adds the in-process figures from go test -bench output.
func (r *report) benchFigures(add func(figure)) {
	type want struct {
		pkg, name, unit, label, target string
		over                           func(float64) bool
	}
	wants := []want{
		{"pkg/check/httpcheck", "BenchmarkSample100Probes", "ms/sample", "100 HTTP probes, one sample (each answers in 100 ms)", fmt.Sprintf("< %d ms", targetProbeSampleMS), func(v float64) bool { return v >= targetProbeSampleMS }},
		{"pkg/check/httpcheck", "BenchmarkSample100ProbesTLS", "ms/first-sample", "100 HTTPS probes, first sample (100 handshakes)", "—", nil},
		{"pkg/check/alarms", "BenchmarkAlarms250", "calls/op", "250 alarms: DescribeAlarms calls per sample", fmt.Sprintf("≤ %d", targetAlarmCalls), func(v float64) bool { return v > targetAlarmCalls }},
		{"pkg/check/metrics", "BenchmarkMetrics500", "calls/op", "500 metric queries: GetMetricData calls per sample", fmt.Sprint(targetMetricDataCalls), func(v float64) bool { return v > targetMetricDataCalls }},
		{"pkg/respond", "BenchmarkTriageRoute", "findings/s", "triage in process (decode, score, dedupe, render, route)", "—", nil},
		{"pkg/respond", "BenchmarkTriageRoute", "findings/cpu-s", "triage in process, per CPU-second", "—", nil},
		{"pkg/remediate", "BenchmarkHandleDuplicate", "ddb-calls/op", "remediate redelivery: DynamoDB calls", "—", nil},
		{"pkg/remediate", "BenchmarkHandleAct", "ddb-calls/op", "remediate first delivery (act + verify): DynamoDB calls", "—", nil},
	}
	for _, w := range wants {
		b, ok := find(r.benches, w.pkg, w.name)
		if !ok {
			continue
		}
		v, ok := b.Metrics[w.unit]
		if !ok {
			continue
		}
		f := figure{
			Name:     w.label,
			Measured: fmt.Sprintf("%s %s", trimFloat(v), w.unit),
			Target:   w.target,
			Command:  fmt.Sprintf(cmdBench, "'^"+w.name+"$'", "./"+w.pkg),
		}
		if w.over != nil {
			f.Over = w.over(v)
		}
		add(f)
	}
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`go run ./pkg/devtools/benchreport`, see its doc.go for how each figure is taken). Do not edit by hand: run it again.\n\n")
	p("- Date: %s (took %s)\n", r.started.Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Round(time.Second))
	p("- Machine: %s\n", r.machine)
	p("- Load average (1, 5, 15 min): %s before, %s after. On a shared, loaded machine compare medians and the ratio to the floor (a bare aws-lambda-go bootstrap started the same way), not single times.\n", r.loadBefore, r.loadAfter)
	if r.benchFile != "" {
		p("- In-process figures parsed from `%s` (go test -bench output).\n", r.benchFile)
	}
	p("\n| figure | measured | target | command |\n|---|---|---|---|\n")
	for _, f := range r.figures {
		m := f.Measured
		if f.Over {
			m = "**" + m + " — over**"
		}
		p("| %s | %s | %s | `%s` |\n", f.Name, m, f.Target, f.Command)
	}

	var over []string
	for _, f := range r.figures {
		if f.Over {
			over = append(over, f.Name+": "+f.Measured+" against "+f.Target)
		}
	}
	if len(over) > 0 {
		p("\n**Over target** (%d): %s. The sections below say what dominates each.\n", len(over), strings.Join(over, "; "))
	} else {
		p("\nEvery figure with a target meets it.\n")
	}
	p("\nThe fault matrix (throttling, 5xx, slow answers, resets, the deadline, malformed input, duplicate deliveries through the real binaries) is a test, part of `make test`; see it with `go test -v -run TestFaultMatrix ./pkg/devtools/demo`.\n")

	p("\n## Cold start: what it costs\n\n")
	p("Process start to first response for a trivial event (verify: one alarm check on an empty prefix and its PutJobSuccessResult; remediate: an OK alarm notification; respond: an event no rule routes), %d runs each, under pkg/lambdarun against the AWS stand-in. The harness times it as Init Duration + Duration (the REPORT line), so AWS config loading and client construction are in it.\n\n", r.runs)
	p("| function | median | p90 | ÷ floor | package inits (sum) | main's own setup (median init − inits) | peak RSS after the event | costliest initialisers (inittrace, one run) |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.cold {
		var top []string
		for _, i := range c.Inits[:min(4, len(c.Inits))] {
			top = append(top, fmt.Sprintf("%s %s", i.Package, msText(i.Clock)))
		}
		ratio := 0.0
		if r.floor.Median > 0 {
			ratio = float64(c.Median) / float64(r.floor.Median)
		}
		p("| %s | %s | %s | %.1f× | %s | %s | %s | %s |\n", c.Function, msText(c.Median), msText(c.P90), ratio, msText(c.InitTotal), msText(c.MainSetup), kibText(c.IdleRSSKiB), strings.Join(top, "; "))
	}
	p("| floor (bare aws-lambda-go) | %s | %s | 1.0× | | | | |\n", msText(r.floor.Median), msText(r.floor.P90))

	p("\n## Deployment packages: what dominates\n\n")
	p("Zipped with deflate, as `make build` leaves dist/<fn>/bootstrap (linux/arm64, `-ldflags='-s -w'`). The deployed binary is stripped, so the split below sums the symbol sizes (`go tool nm -size`) of the unstripped host build of the same packages, per module.\n\n")
	p("The last column names what switches off the linker's dead-code elimination of methods (found with `go build -ldflags=-dumpdep`): a reachable call of reflect's Method or MethodByName with a name the linker cannot see makes it keep every exported method of every reachable type — for an AWS SDK client, every operation with its serialisers, used or not. Where it is off, the SDK clients dominate the binary.\n\n")
	p("| function | zipped | binary | largest parts (share of symbol bytes) | method dead-code elimination off because of |\n|---|---|---|---|---|\n")
	const module = "github.com/postdeploy/postdeploy/"
	for _, s := range r.sizes {
		var top []string
		for _, m := range s.Top[:min(6, len(s.Top))] {
			top = append(top, fmt.Sprintf("%s %.0f%%", m.Module, 100*float64(m.Bytes)/float64(max(s.SymbolTotal, 1))))
		}
		var why []string
		for _, b := range s.Breakers {
			w := "`" + b.Func + "`"
			if o := b.origin(module); o != "" {
				w += " reached from `" + o + "`"
			}
			why = append(why, w)
		}
		if len(why) == 0 {
			why = []string{"— (on)"}
		}
		p("| %s | %s | %s | %s | %s |\n", s.Function, mbText(s.Zipped), mbText(s.Binary), strings.Join(top, ", "), strings.Join(why, "; "))
	}

	if v := r.verify; v != nil {
		p("\n## verify under a heavy sample\n\n")
		p("One cold invocation with a spec (from SSM) of %d http checks against a local server answering in 20 ms, %d alarm checks covering %d alarms (two name lists and a prefix), and %d metric checks of %d metrics and an expression each (%d metric data queries), bake 0s: one sample. 100 http checks cannot be in one verification — the spec allows at most %d checks — so this is the largest legal spec; the 100-probe fan-out is BenchmarkSample100Probes below.", heavyProbes, heavyAlarmChecks, heavyAlarms, heavyMetricChecks, heavyMetricsPer, heavyMetricQueries, spec.MaxChecks)
		p(" Outcome: %s. Peak RSS %s; %d AWS calls in all: %d DescribeAlarms, %d GetMetricData carrying %d queries; %d probes reached the server.\n", v.Outcome, kibText(v.PeakRSSKiB), v.AWSCalls, v.DescribeAlarms, v.GetMetricData, v.Queries, v.Probes)
	}
	if h := r.respond; h != nil {
		p("\n## respond under 10,000 findings\n\n")
		p("%d Security Hub “Findings - Imported” events of 100 distinct ASFF findings each (severities mixed 1 critical : 2 high : 3 medium : 3 low : 1 informational), delivered one event per invocation to one warm execution environment. Each finding is normalised, scored, claimed in DynamoDB (dynalite) and published to SNS (the stand-in): %d published, %d stand-in calls. Time in the handler %s (%.0f findings/s); wall time with the harness %s. Peak RSS %s.\n", h.Events, h.Published, h.AWSCalls, h.Handling.Round(time.Millisecond), float64(h.Findings)/h.Handling.Seconds(), h.Elapsed.Round(time.Millisecond), kibText(h.PeakRSSKiB))
	}

	if len(r.benches) > 0 {
		p("\n## Every Go benchmark\n\n| package | benchmark | figures |\n|---|---|---|\n")
		for _, bn := range r.benches {
			var ms []string
			for _, u := range sortedUnits(bn.Metrics) {
				ms = append(ms, trimFloat(bn.Metrics[u])+" "+u)
			}
			p("| %s | %s | %s |\n", strings.TrimPrefix(bn.Package, "github.com/postdeploy/postdeploy/"), bn.Name, strings.Join(ms, ", "))
		}
	}
	return b.String()
}

// sortedUnits puts ns/op first, then the custom units, then B/op and
// allocs/op.
func sortedUnits(m map[string]float64) []string {
	rank := func(u string) int {
		switch u {
		case "ns/op":
			return 0
		case "B/op":
			return 2
		case "allocs/op":
			return 3
		}
		return 1
	}
	var us []string
	for u := range m {
		us = append(us, u)
	}
	for i := 1; i < len(us); i++ {
		for j := i; j > 0 && (rank(us[j]) < rank(us[j-1]) || rank(us[j]) == rank(us[j-1]) && us[j] < us[j-1]); j-- {
			us[j], us[j-1] = us[j-1], us[j]
		}
	}
	return us
}

func msText(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mbText(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

func kibText(k int64) string { return fmt.Sprintf("%.1f MiB", float64(k)/1024) }

func trimFloat(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
	return fmt.Sprintf("%.3g", v)
}

// describeMachine names the CPU, cores, memory, OS and Go.
func describeMachine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (strings.TrimSpace(k) == "model name" || strings.TrimSpace(k) == "Model") {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if st, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(st), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/1024/1024)
			}
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s, %s", cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadAverage is /proc/loadavg's three averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
