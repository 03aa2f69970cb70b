package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// result is a check's result with what it checked and what passes.
func (c compiled) result() verdict.Result {
	return verdict.Result{Target: c.target, Expected: c.expected}
}

// judge turns an analysis into the check's result, with the evidence a
// person needs at 3 a.m.: both locations, the relative change, the
// p-value and the counts, then what the verdict means and what to do.
func (c compiled) judge(o outcome, p plan) verdict.Result {
	r := c.result()
	r.Verdict = o.Verdict
	r.Values = map[string]float64{
		"n_baseline": float64(o.Baseline.N),
		"n_canary":   float64(o.Canary.N),
	}
	if o.Reason == reasonTooFew {
		r.Observed = c.tooFew(o, p)
		return r
	}
	if o.Reason == reasonTestFailed {
		r.Observed = fmt.Sprintf("internal error: the Mann-Whitney test could not be computed for %d baseline and %d canary points; report this as a bug", o.Baseline.N, o.Canary.N)
		return r
	}
	r.Values["baseline_median"] = o.Baseline.Median
	r.Values["canary_median"] = o.Canary.Median
	r.Values["baseline_mean"] = o.Baseline.Mean
	r.Values["canary_mean"] = o.Canary.Mean
	r.Values["p_value"] = o.P
	r.Values["outliers_baseline"] = float64(o.Baseline.Outliers)
	r.Values["outliers_canary"] = float64(o.Canary.Outliers)
	if !o.Unbounded {
		r.Values["change_pct"] = o.Change * 100
	}

	unit := ""
	if u := c.cmp.Canary.Unit; u != "" {
		unit = " " + u
	}
	var b strings.Builder
	switch {
	case o.Unbounded:
		bl, cl := o.Baseline.Median, o.Canary.Median
		if o.Basis == "mean" {
			bl, cl = o.Baseline.Mean, o.Canary.Mean
		}
		if bl == 0 {
			fmt.Fprintf(&b, "the baseline %s is 0 while the canary %s is %s%s: %s from a zero baseline, too large to express as a percentage",
				o.Basis, o.Basis, num(cl), unit, changeWord(o.Sign))
		} else {
			fmt.Fprintf(&b, "the baseline %s is %s%s, so close to 0 that the canary %s of %s%s is %s too large to express as a percentage",
				o.Basis, num(bl), unit, o.Basis, num(cl), unit, changeWord(o.Sign))
		}
		if o.Basis == "mean" {
			fmt.Fprintf(&b, " (medians: canary %s, baseline %s)", num(o.Canary.Median), num(o.Baseline.Median))
		}
	case o.Basis == "mean":
		fmt.Fprintf(&b, "the baseline median is 0, so means are compared: canary mean %s%s vs baseline mean %s%s (%s); medians: canary %s, baseline %s",
			num(o.Canary.Mean), unit, num(o.Baseline.Mean), unit, signedPct(o.Change), num(o.Canary.Median), num(o.Baseline.Median))
	default:
		fmt.Fprintf(&b, "canary median %s%s vs baseline median %s%s (%s)",
			num(o.Canary.Median), unit, num(o.Baseline.Median), unit, signedPct(o.Change))
	}
	sided := "one-sided"
	if c.params.direction == DirectionEither {
		sided = "two-sided"
	}
	fmt.Fprintf(&b, "; p=%s (%s Mann-Whitney U=%s); n=%d baseline, %d canary",
		pval(o.P), sided, num(o.U), o.Baseline.N, o.Canary.N)
	if o.Baseline.Outliers+o.Canary.Outliers > 0 {
		fmt.Fprintf(&b, " after removing outliers (%d baseline, %d canary)", o.Baseline.Outliers, o.Canary.Outliers)
	}
	if o.Baseline.Dropped+o.Canary.Dropped > 0 {
		fmt.Fprintf(&b, "; dropped %d baseline and %d canary values that were not numbers", o.Baseline.Dropped, o.Canary.Dropped)
	}
	alpha := pval(c.params.alpha())
	switch o.Reason {
	case reasonRegression:
		tol := ""
		if c.params.tolerance > 0 {
			tol = " by more than the " + pct(c.params.tolerance) + " tolerated"
		}
		fmt.Fprintf(&b, ". The canary is significantly worse than the baseline (p < %s)%s: look at the canary's logs, traces and recent changes, and roll it back if it is the cause", alpha, tol)
	case reasonNotSignificant:
		fmt.Fprintf(&b, ". Not significant at %s confidence (p ≥ %s): no regression shown", pct(c.params.confidence), alpha)
	case reasonWithinTolerance:
		fmt.Fprintf(&b, ". Significant, but within the %s tolerated", pct(c.params.tolerance))
	case reasonGoodDirection:
		fmt.Fprintf(&b, ". Not a regression: the bad direction is %s", c.params.direction)
	}
	r.Observed = b.String()
	return r
}

func (c compiled) tooFew(o outcome, p plan) string {
	var b strings.Builder
	need := max(c.params.minSamples, 1)
	fmt.Fprintf(&b, "too few data points to compare: baseline %d, canary %d (need at least %d per series)", o.Baseline.N, o.Canary.N, need)
	if o.Baseline.Dropped+o.Canary.Dropped > 0 {
		fmt.Fprintf(&b, "; dropped %d baseline and %d canary values that were not numbers", o.Baseline.Dropped, o.Canary.Dropped)
	}
	for _, s := range []struct {
		name string
		st   seriesStats
		w    span
	}{{"baseline", o.Baseline, p.baseline}, {"canary", o.Canary, p.canary}} {
		if s.st.Points == 0 {
			fmt.Fprintf(&b, "; the %s has no data from %s to %s", s.name, s.w.start.UTC().Format(time.RFC3339), s.w.end.UTC().Format(time.RFC3339))
		}
	}
	if o.Baseline.Points == 0 || o.Canary.Points == 0 {
		b.WriteString(". Check that series' namespace, name, dimensions, stat and unit, and that the metric is published; otherwise")
	} else {
		b.WriteString(".")
	}
	b.WriteString(" wait for more data, lengthen the bake or the window, or lower minSamples")
	return b.String()
}

func changeWord(sign int) string {
	switch {
	case sign > 0:
		return "an increase"
	case sign < 0:
		return "a decrease"
	}
	return "no change"
}

// num renders a number with 4 significant digits, without an exponent
// when it is of a readable size. It never renders NaN or Inf.
func num(x float64) string {
	if !finite(x) {
		return "n/a"
	}
	s := strconv.FormatFloat(x, 'g', 4, 64)
	if a := math.Abs(x); a == 0 || a >= 1e-4 && a < 1e15 {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

// pval renders a p-value with 2 significant digits.
func pval(p float64) string {
	if !finite(p) {
		return "n/a"
	}
	s := strconv.FormatFloat(p, 'g', 2, 64)
	if p == 0 || p >= 1e-4 {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

// pct renders a fraction as a percentage: 0.2 → "20%".
func pct(f float64) string { return num(f*100) + "%" }

// signedPct renders a relative change: 0.3 → "+30.0%".
func signedPct(f float64) string {
	if !finite(f) {
		return "n/a"
	}
	v := f * 100
	if math.Abs(v) >= 1000 {
		if v > 0 {
			return "+" + num(v) + "%"
		}
		return num(v) + "%"
	}
	return fmt.Sprintf("%+.1f%%", v)
}
