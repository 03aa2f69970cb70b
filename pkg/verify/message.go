package verify

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// checkOutcome is one check's end state, for messages.
type checkOutcome struct {
	Name, Kind, Target string
	Critical           bool
	Verdict            verdict.Verdict
	Tally              verdict.Tally
	// Last is this invocation's latest sample of the check.
	Last verdict.Result
	// Evidence is the evidence of the latest sample that did not succeed,
	// possibly from an earlier invocation.
	Evidence string
}

// outcome is a verification's end state.
type outcome struct {
	Verdict    verdict.Verdict
	Checks     []checkOutcome
	Samples    int
	Elapsed    time.Duration
	Where      string
	EndedEarly bool
	// PassUnsure is limits.inconclusive == pass.
	PassUnsure bool
}

// passes reports whether CodePipeline is told success: the verdict is
// Succeeded, or undecided (Inconclusive, Error) with
// limits.inconclusive: pass.
func (o outcome) passes() bool {
	return o.Verdict == verdict.Succeeded || (o.PassUnsure && o.Verdict != verdict.Failed)
}

func (o outcome) failed() []checkOutcome {
	var out []checkOutcome
	for _, c := range o.Checks {
		if c.Verdict != verdict.Succeeded {
			out = append(out, c)
		}
	}
	return out
}

func (o outcome) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %s", plural(o.Samples, "sample"), o.Elapsed.Round(time.Second))
	if o.Where != "" {
		b.WriteString("; " + o.Where)
	}
	if o.EndedEarly {
		b.WriteString("; stopped early on a decided failure")
	}
	return b.String()
}

// failureMessage is what a person reads in the CodePipeline console when
// verification fails: each failing check, its target, what was observed
// and what was expected, then what to do.
func failureMessage(o outcome) string {
	bad := o.failed()
	var title string
	switch o.Verdict {
	case verdict.Failed:
		title = fmt.Sprintf("Post-deploy verification FAILED: %d of %s failed", countCritical(bad, verdict.Failed), plural(len(o.Checks), "check"))
	case verdict.Error:
		title = fmt.Sprintf("Post-deploy verification could not run (ERROR): %d of %s could not be evaluated", countCritical(bad, verdict.Error), plural(len(o.Checks), "check"))
	default:
		title = fmt.Sprintf("Post-deploy verification was INCONCLUSIVE: %d of %s had too little data to judge", countCritical(bad, verdict.Inconclusive), plural(len(o.Checks), "check"))
	}
	var also []string
	for _, v := range []verdict.Verdict{verdict.Failed, verdict.Error, verdict.Inconclusive} {
		what := strings.ToLower(v.String())
		if n := countCritical(bad, v); n > 0 && v != o.Verdict {
			also = append(also, fmt.Sprintf("%d %s", n, what))
		}
	}
	for _, v := range []verdict.Verdict{verdict.Failed, verdict.Error, verdict.Inconclusive} {
		if n := countNonCritical(bad, v); n > 0 {
			also = append(also, fmt.Sprintf("%d %s (non-critical)", n, strings.ToLower(v.String())))
		}
	}
	if len(also) > 0 {
		title += ", " + strings.Join(also, ", ")
	}
	blocks := []string{title + " (" + o.header() + ")."}
	for _, c := range bad {
		blocks = append(blocks, checkBlock(c))
	}
	var passed []string
	for _, c := range o.Checks {
		if c.Verdict == verdict.Succeeded {
			passed = append(passed, c.Name)
		}
	}
	if len(passed) > 0 {
		blocks = append(blocks, "Passed: "+strings.Join(passed, ", ")+".")
	}
	switch o.Verdict {
	case verdict.Failed:
		blocks = append(blocks, "Next: the release is not healthy — roll back (re-run the previous execution or your rollback stage), then use the evidence above to find the cause. A check marked non-critical never fails the pipeline on its own.")
	case verdict.Error:
		blocks = append(blocks, "Next: the checks could not reach what they test (throttling, network, permissions). The release itself may be fine: fix the access problem named above and retry the stage. limits.inconclusive: pass lets an undecided verification through.")
	default:
		blocks = append(blocks, "Next: there was not enough data (low traffic, wrong metric or dimensions, bake too short). Check the metric names and dimensions above, lengthen bake, lower minSamples, or set noData / limits.inconclusive to pass.")
	}
	return joinWithin(blocks, "\n\n", MaxFailureMessage)
}

func checkBlock(c checkOutcome) string {
	label := strings.ToUpper(c.Verdict.String())
	if !c.Critical {
		label += " (non-critical)"
	}
	head := fmt.Sprintf("%s %s [%s]", label, c.Name, c.Kind)
	if c.Target != "" {
		head += " " + c.Target
	}
	t := c.Tally
	counts := plural(t.Samples(), "sample") + ":"
	for _, c := range []struct {
		n    int
		what string
	}{{t.Failed, "failed"}, {t.Errors, "errored"}, {t.Inconclusive, "inconclusive"}, {t.Succeeded, "passed"}} {
		if c.n > 0 {
			counts += fmt.Sprintf(" %d %s,", c.n, c.what)
		}
	}
	counts = strings.TrimSuffix(counts, ",")
	ev := c.Evidence
	if ev == "" {
		ev = c.Last.Evidence()
	}
	if ev == "" {
		ev = "no evidence recorded"
	}
	return head + "\n  " + counts + "\n  last: " + ev
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func countNonCritical(cs []checkOutcome, v verdict.Verdict) int {
	n := 0
	for _, c := range cs {
		if !c.Critical && c.Verdict == v {
			n++
		}
	}
	return n
}

func countCritical(cs []checkOutcome, v verdict.Verdict) int {
	n := 0
	for _, c := range cs {
		if c.Critical && c.Verdict == v {
			n++
		}
	}
	return n
}

// successSummary is the ≤2,048-character summary of a passed verification.
func successSummary(o outcome) string {
	passed := 0
	for _, c := range o.Checks {
		if c.Verdict == verdict.Succeeded {
			passed++
		}
	}
	head := fmt.Sprintf("Verified: %s passed (%s).", plural(len(o.Checks), "check"), o.header())
	if passed < len(o.Checks) {
		head = fmt.Sprintf("Verified: every critical check passed; %d of %s passed in all (%s).", passed, plural(len(o.Checks), "check"), o.header())
	}
	if o.Verdict != verdict.Succeeded {
		head = fmt.Sprintf("Passed with limits.inconclusive=pass: verdict %s (%s).", o.Verdict, o.header())
	}
	items := []string{head}
	for _, c := range o.Checks {
		s := c.Name + ": " + c.Verdict.String()
		if c.Verdict != verdict.Succeeded {
			s += " — " + shorten(cmp.Or(c.Evidence, c.Last.Evidence()), 160)
		} else if v := keyValues(c.Last.Values); v != "" {
			s += " (" + v + ")"
		}
		items = append(items, s)
	}
	return joinWithin(items, "\n", MaxSummary)
}

func progressSummary(o outcome, bake time.Duration) string {
	items := []string{fmt.Sprintf("Baking: %s of %s, %d samples so far.", o.Elapsed.Round(time.Second), bake, o.Samples)}
	for _, c := range o.Checks {
		t := c.Tally
		items = append(items, fmt.Sprintf("%s: %d ok, %d failed, %d errors, %d inconclusive", c.Name, t.Succeeded, t.Failed, t.Errors, t.Inconclusive))
	}
	return joinWithin(items, "\n", MaxSummary)
}

// configMessage lists every spec problem for a ConfigurationError.
func configMessage(source string, err error) string {
	var items []string
	if errs := spec.Errors(nil); errors.As(err, &errs) {
		items = append(items, fmt.Sprintf("Post-deploy verification spec (%s) has %d problem(s); fix them and retry the stage:", source, len(errs)))
		for _, e := range errs {
			items = append(items, "- "+e.Error())
		}
	} else {
		items = append(items, fmt.Sprintf("Post-deploy verification could not load its spec (%s): %v", source, err))
	}
	return joinWithin(items, "\n", MaxFailureMessage)
}

func keyValues(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.FormatFloat(m[k], 'g', 4, 64))
	}
	return shorten(strings.Join(parts, ", "), 120)
}

// joinWithin joins items with sep, dropping whole items from the end when
// they don't fit within limit bytes and saying how many were left out.
func joinWithin(items []string, sep string, limit int) string {
	full := strings.Join(items, sep)
	if len(full) <= limit {
		return full
	}
	for keep := len(items) - 1; keep >= 1; keep-- {
		s := strings.Join(items[:keep], sep) + sep + fmt.Sprintf("…and %d more", len(items)-keep)
		if len(s) <= limit {
			return s
		}
	}
	return clip(items[0], limit)
}

var varKeyUnsafe = regexp.MustCompile(`[^A-Za-z0-9@_-]+`)

// MaxOutputVariables bounds the variables a verification exports.
const MaxOutputVariables = 100

// outputVariables are what downstream actions can read as
// #{<namespace>.<key>}: the verdict, the failing checks, the sample count
// and each check's measured values as <check>_<value>.
func outputVariables(o outcome) map[string]string {
	vars := map[string]string{
		"verdict":     o.Verdict.String(),
		"samples":     strconv.Itoa(o.Samples),
		"bakeSeconds": strconv.Itoa(int(o.Elapsed.Seconds())),
	}
	var failed []string
	for _, c := range o.failed() {
		failed = append(failed, c.Name)
	}
	vars["failedChecks"] = strings.Join(failed, ",")
	for _, c := range o.Checks {
		for _, k := range slices.Sorted(maps.Keys(c.Last.Values)) {
			if len(vars) >= MaxOutputVariables {
				return vars
			}
			key := varKeyUnsafe.ReplaceAllString(c.Name+"_"+k, "_")
			vars[key] = strconv.FormatFloat(c.Last.Values[k], 'g', -1, 64)
		}
	}
	return vars
}
