package compare

import (
	"errors"
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// The values of spec.Compare.Direction.
const (
	DirectionIncrease = "increase"
	DirectionDecrease = "decrease"
	DirectionEither   = "either"
)

// TestMannWhitney is the only value of spec.Compare.Test so far.
const TestMannWhitney = "mann-whitney"

// Defaults applied by New.
const (
	DefaultConfidence = 0.95
	DefaultMinSamples = 10
)

// maxMagnitude is the largest magnitude CloudWatch accepts for a value
// (PutMetricData rejects anything outside ±2^360). A larger value cannot
// have come from CloudWatch; dropping it also keeps every sum and
// difference below finite overflow.
var maxMagnitude = math.Ldexp(1, 360)

// outlierFence is Tukey's k: a point further than k×IQR outside the
// quartiles is an outlier.
const outlierFence = 1.5

// params is what one analysis needs from a compare check's spec, with
// defaults applied.
type params struct {
	direction  string
	tolerance  float64 // relative change tolerated, as a fraction
	confidence float64 // e.g. 0.95; a change is significant when p < 1-confidence
	minSamples int     // fewest usable points per series
	noData     string  // verdict for too few points: fail, pass, inconclusive
}

// alpha is the significance level, 1-confidence, rounded to 12 decimal
// places so that 0.95 gives exactly 0.05 rather than 0.050000000000000044
// (which would let an exact p-value of 0.05 count as significant).
func (p params) alpha() float64 { return math.Round((1-p.confidence)*1e12) / 1e12 }

// reason says why an analysis ended the way it did.
type reason int

const (
	reasonTooFew          reason = iota + 1 // fewer usable points than minSamples
	reasonGoodDirection                     // no change in the bad direction
	reasonNotSignificant                    // a bad change, but p ≥ 1-confidence
	reasonWithinTolerance                   // significant and bad, but no larger than the tolerance
	reasonRegression                        // significant, bad and beyond the tolerance: Failed
	reasonTestFailed                        // the test itself could not run (a bug)
)

// seriesStats describes one side of a comparison.
type seriesStats struct {
	// Points is how many data points were read.
	Points int
	// Dropped counts NaN, ±Inf and out-of-range values removed.
	Dropped int
	// Outliers counts points removed as outliers (Tukey's fences).
	Outliers int
	// N is how many points the test used: Points-Dropped-Outliers.
	N int
	// Median and Mean of the N points used (0 when N is 0).
	Median, Mean float64
}

// outcome is the result of comparing a canary series with a baseline.
type outcome struct {
	Verdict  verdict.Verdict
	Reason   reason
	Baseline seriesStats
	Canary   seriesStats
	// Basis is what the relative change compares: "median", or "mean"
	// when the baseline median is 0 (sparse series such as error counts).
	Basis string
	// Change is (canary-baseline)/|baseline| of the basis, a fraction.
	// It is 0 when Unbounded.
	Change float64
	// Unbounded is set when the baseline's basis is 0 and the canary's is
	// not: the relative change is infinite, in direction Sign.
	Unbounded bool
	// Sign is the direction of the change: -1, 0 or +1.
	Sign int
	// U is the Mann-Whitney U statistic of the baseline (pairs where the
	// baseline point is greater, ties counting one half), and P the
	// p-value of the test in the check's direction (one-sided for
	// increase and decrease, two-sided for either).
	U, P float64
}

// analyze compares canary with baseline. It never panics and never
// returns NaN or ±Inf in any field, whatever the input.
//
// The steps, in order:
//  1. Drop NaN, ±Inf and values outside CloudWatch's range (±2^360).
//  2. Too few usable points on either side (< minSamples) → the NoData
//     policy's verdict (Inconclusive by default).
//  3. Remove outliers from each side separately: points beyond Tukey's
//     fences, 1.5×IQR outside the quartiles. A side whose IQR is 0 (for
//     example an error count that is mostly 0) keeps every point, so its
//     rare non-zero values are not thrown away as outliers.
//  4. Mann-Whitney U test of the two sides (go-moremath/stats), one-sided
//     in the bad direction (two-sided for either). Two sides whose every
//     value is equal give p = 1.
//  5. Effect size: the relative change of the medians, or of the means
//     when the baseline median is 0. A baseline of 0 against a canary
//     that is not 0 is an unbounded change, never a division by zero.
//  6. Failed only when the change is in the bad direction, significant
//     (p < 1-confidence) and larger than the tolerance; Succeeded
//     otherwise.
func analyze(baseline, canary []float64, p params) outcome {
	var o outcome
	b, bDropped := clean(baseline)
	c, cDropped := clean(canary)
	o.Baseline = seriesStats{Points: len(baseline), Dropped: bDropped, N: len(b)}
	o.Canary = seriesStats{Points: len(canary), Dropped: cDropped, N: len(c)}
	minN := max(p.minSamples, 1)
	if len(b) < minN || len(c) < minN {
		o.Reason = reasonTooFew
		o.Verdict = noDataVerdict(p.noData)
		o.P = 1
		return o
	}

	b, o.Baseline.Outliers = removeOutliers(b)
	c, o.Canary.Outliers = removeOutliers(c)
	o.Baseline.N, o.Canary.N = len(b), len(c)
	o.Baseline.Median, o.Baseline.Mean = median(b), stats.Mean(b)
	o.Canary.Median, o.Canary.Mean = median(c), stats.Mean(c)

	o.U, o.P = float64(len(b)*len(c))/2, 1
	res, err := stats.MannWhitneyUTest(b, c, hypothesis(p.direction))
	switch {
	case errors.Is(err, stats.ErrSamplesEqual):
		// Every value on both sides is the same: no evidence of a change.
	case err != nil || !finite(res.P) || !finite(res.U):
		o.Reason, o.Verdict = reasonTestFailed, verdict.Error
		return o
	default:
		o.U, o.P = res.U, math.Min(math.Max(res.P, 0), 1)
	}

	o.Basis = "median"
	bl, cl := o.Baseline.Median, o.Canary.Median
	if bl == 0 {
		o.Basis = "mean"
		bl, cl = o.Baseline.Mean, o.Canary.Mean
	}
	o.Sign = sign(cl - bl)
	switch {
	case bl == 0 && cl == 0:
		o.Change = 0
	case bl == 0:
		o.Unbounded = true
	default:
		o.Change = (cl - bl) / math.Abs(bl)
		if !finite(o.Change) { // a baseline so small that the ratio overflows
			o.Change, o.Unbounded = 0, true
		}
	}

	bad := o.Sign > 0 && p.direction != DirectionDecrease ||
		o.Sign < 0 && p.direction != DirectionIncrease
	significant := o.P < p.alpha()
	beyond := o.Unbounded || math.Abs(o.Change) > p.tolerance
	switch {
	case !bad:
		o.Reason, o.Verdict = reasonGoodDirection, verdict.Succeeded
	case !significant:
		o.Reason, o.Verdict = reasonNotSignificant, verdict.Succeeded
	case !beyond:
		o.Reason, o.Verdict = reasonWithinTolerance, verdict.Succeeded
	default:
		o.Reason, o.Verdict = reasonRegression, verdict.Failed
	}
	return o
}

// hypothesis is the alternative the U test checks, with the baseline as
// the first sample: an increase means the baseline is less than the
// canary.
func hypothesis(direction string) stats.LocationHypothesis {
	switch direction {
	case DirectionIncrease:
		return stats.LocationLess
	case DirectionDecrease:
		return stats.LocationGreater
	}
	return stats.LocationDiffers
}

func noDataVerdict(policy string) verdict.Verdict {
	switch policy {
	case spec.PolicyFail:
		return verdict.Failed
	case spec.PolicyPass:
		return verdict.Succeeded
	}
	return verdict.Inconclusive
}

// clean returns the usable values of xs, sorted, and how many it dropped.
func clean(xs []float64) (sorted []float64, dropped int) {
	sorted = make([]float64, 0, len(xs))
	for _, x := range xs {
		if finite(x) && math.Abs(x) <= maxMagnitude {
			sorted = append(sorted, x)
		}
	}
	slices.Sort(sorted)
	return sorted, len(xs) - len(sorted)
}

// removeOutliers drops the points of sorted beyond Tukey's fences. With
// fewer than 4 points, or an IQR of 0, it keeps every point.
func removeOutliers(sorted []float64) (kept []float64, removed int) {
	if len(sorted) < 4 {
		return sorted, 0
	}
	s := stats.Sample{Xs: sorted, Sorted: true}
	q1, q3 := s.Quantile(0.25), s.Quantile(0.75)
	iqr := q3 - q1
	if !(iqr > 0) {
		return sorted, 0
	}
	lo, hi := q1-outlierFence*iqr, q3+outlierFence*iqr
	kept = make([]float64, 0, len(sorted))
	for _, x := range sorted {
		if x >= lo && x <= hi {
			kept = append(kept, x)
		}
	}
	return kept, len(sorted) - len(kept)
}

func median(sorted []float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return stats.Sample{Xs: sorted, Sorted: true}.Quantile(0.5)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
