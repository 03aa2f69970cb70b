package compare

import (
	"math"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func seq(from, to, step float64) []float64 {
	var xs []float64
	for x := from; x <= to; x += step {
		xs = append(xs, x)
	}
	return xs
}

func repeat(v float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = v
	}
	return xs
}

// stdNormalCDF is Φ written with the standard library's erfc, so the
// normal-approximation reference values below do not depend on
// go-moremath's own normal distribution.
func stdNormalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// TestAnalyzeReferenceValues checks U and the p-value against values
// worked out independently of go-moremath.
//
// U is the library's U1: the number of (baseline, canary) pairs in which
// the baseline value is greater, ties counting 1/2; equivalently
// R1 − n1(n1+1)/2 where R1 is the baseline's rank sum in the pooled data.
//
// Exact p-values (small samples) come from enumerating, by hand, the
// C(n1+n2, n1) equally likely ways of labelling the pooled values:
//
//   - n1 = n2 = 3: the number of labellings giving U = 0..9 is the number
//     of partitions of U into at most 3 parts of at most 3, i.e.
//     1, 1, 2, 3, 3, 3, 3, 2, 1, 1 (total 20). So P(U ≤ 0) = 1/20 and
//     P(U ≤ 3) = (1+1+2+3)/20 = 7/20.
//   - n1 = n2 = 4 with complete separation: P(U ≤ 0) = 1/C(8,4) = 1/70.
//   - ties, baseline {1,2,2} vs canary {2,3,4}: pooled ranks are
//     1, 3, 3, 3, 5, 6 (the three 2s share rank 3). The baseline's rank
//     sum is 1+3+3 = 7, U = 7 − 6 = 1, and the only labellings with a
//     rank sum ≤ 7 are {1, two of the three 2s}: 3 of 20, so P = 3/20.
//
// The one-sided test for an increase asks whether the baseline is less
// than the canary, so its p-value is P(U ≤ observed U); the two-sided
// p-value is twice the smaller tail.
//
// Normal approximation (n > 50, no ties): baseline 1..60, canary
// 11.5..70.5 (k + 10.5). A baseline value b exceeds b−11 canary values
// when b ≥ 12, so U = Σ_{j=1}^{49} j = 1225. μ = n1·n2/2 = 1800,
// σ = √(n1·n2·(N+1)/12) = √(3600·121/12) = √36300 ≈ 190.53. With the
// continuity correction, z = (1225 − 1800 + 0.5)/σ ≈ −3.0153 and
// p = Φ(z) ≈ 0.00128 one-sided, 2Φ(z) ≈ 0.00257 two-sided.
//
// Normal approximation with ties (n > 25): baseline twenty 0s and twenty
// 1s, canary ten 0s and thirty 1s. U counts baseline-greater pairs (a
// baseline 1 over a canary 0: 20·10 = 200) plus half the tied pairs
// ((20·10 + 20·30)/2 = 400): U = 600, μ = 800. The tie groups have
// sizes 30 and 50, so Σ(t³−t) = 26970 + 124950 = 151920, and
// σ² = n1·n2/12 · ((N+1) − Σ(t³−t)/(N(N−1))) = 1600/12 · (81 − 151920/6320)
// ≈ 7594.9, σ ≈ 87.15. z = (600 − 800 + 0.5)/σ ≈ −2.289, p = Φ(z) ≈ 0.0110.
// The medians are 0.5 and 1: +100%.
func TestAnalyzeReferenceValues(t *testing.T) {
	sigma := math.Sqrt(3600 * 121.0 / 12)
	zNormal := (1225 - 1800 + 0.5) / sigma
	sigmaTies := math.Sqrt(1600.0 / 12 * (81 - 151920.0/6320))
	zTies := (600 - 800 + 0.5) / sigmaTies
	tiedBaseline := append(repeat(0, 20), repeat(1, 20)...)
	tiedCanary := append(repeat(0, 10), repeat(1, 30)...)
	shifted := seq(11.5, 70.5, 1)
	tests := []struct {
		name              string
		baseline, canary  []float64
		direction         string
		wantU, wantP      float64
		wantVerdict       verdict.Verdict
		wantReason        reason
		wantChangePercent float64
	}{
		{"3v3 separated, increase", []float64{1, 2, 3}, []float64{4, 5, 6}, DirectionIncrease, 0, 1.0 / 20, verdict.Succeeded, reasonNotSignificant, 150},
		{"3v3 separated, either", []float64{1, 2, 3}, []float64{4, 5, 6}, DirectionEither, 0, 2.0 / 20, verdict.Succeeded, reasonNotSignificant, 150},
		{"3v3 separated, decrease", []float64{1, 2, 3}, []float64{4, 5, 6}, DirectionDecrease, 0, 1, verdict.Succeeded, reasonGoodDirection, 150},
		{"3v3 interleaved, increase", []float64{1, 3, 5}, []float64{2, 4, 6}, DirectionIncrease, 3, 7.0 / 20, verdict.Succeeded, reasonNotSignificant, 33.33333},
		{"3v3 interleaved, either", []float64{1, 3, 5}, []float64{2, 4, 6}, DirectionEither, 3, 14.0 / 20, verdict.Succeeded, reasonNotSignificant, 33.33333},
		{"4v4 separated, increase", []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, DirectionIncrease, 0, 1.0 / 70, verdict.Failed, reasonRegression, 160},
		{"ties, increase", []float64{1, 2, 2}, []float64{2, 3, 4}, DirectionIncrease, 1, 3.0 / 20, verdict.Succeeded, reasonNotSignificant, 50},
		{"normal approximation, increase", seq(1, 60, 1), shifted, DirectionIncrease, 1225, stdNormalCDF(zNormal), verdict.Failed, reasonRegression, 100 * (41 - 30.5) / 30.5},
		{"normal approximation, either", seq(1, 60, 1), shifted, DirectionEither, 1225, 2 * stdNormalCDF(zNormal), verdict.Failed, reasonRegression, 100 * (41 - 30.5) / 30.5},
		{"normal approximation with ties, increase", tiedBaseline, tiedCanary, DirectionIncrease, 600, stdNormalCDF(zTies), verdict.Failed, reasonRegression, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params{direction: tt.direction, tolerance: 0.2, confidence: 0.95, minSamples: 3}
			o := analyze(tt.baseline, tt.canary, p)
			if o.U != tt.wantU {
				t.Errorf("analyze(%v, %v).U = %v; want %v", tt.baseline, tt.canary, o.U, tt.wantU)
			}
			if math.Abs(o.P-tt.wantP) > 1e-9 {
				t.Errorf("analyze(%v, %v).P = %.12g; want %.12g", tt.baseline, tt.canary, o.P, tt.wantP)
			}
			if o.Verdict != tt.wantVerdict || o.Reason != tt.wantReason {
				t.Errorf("analyze(%v, %v) = %v (reason %d); want %v (reason %d)", tt.baseline, tt.canary, o.Verdict, o.Reason, tt.wantVerdict, tt.wantReason)
			}
			if got := o.Change * 100; math.Abs(got-tt.wantChangePercent) > 1e-3 {
				t.Errorf("analyze(%v, %v).Change = %.5f%%; want %.5f%%", tt.baseline, tt.canary, got, tt.wantChangePercent)
			}
		})
	}
	// The normal-approximation value is what the comment says, so a typo in
	// the derivation above cannot hide behind the formula.
	if p := stdNormalCDF(zNormal); math.Abs(p-0.001283) > 5e-6 {
		t.Errorf("Φ(%.4f) = %.6f; want ≈ 0.001283", zNormal, p)
	}
	if p := stdNormalCDF(zTies); math.Abs(p-0.0110) > 5e-5 {
		t.Errorf("Φ(%.4f) = %.6f; want ≈ 0.0110", zTies, p)
	}
}

func TestAnalyzeEdgeCases(t *testing.T) {
	def := params{direction: DirectionIncrease, tolerance: 0.2, confidence: 0.95, minSamples: 10}
	nan, inf := math.NaN(), math.Inf(1)
	withNaN := append(seq(100, 119, 1), nan, inf, math.Inf(-1), 1e300)
	tests := []struct {
		name             string
		baseline, canary []float64
		p                params
		want             outcome // only the fields compared below
		wantUnbounded    bool
		wantBasis        string
	}{
		{
			name:     "empty series",
			baseline: nil, canary: seq(1, 20, 1), p: def,
			want: outcome{Verdict: verdict.Inconclusive, Reason: reasonTooFew},
		},
		{
			name:     "all NaN",
			baseline: repeat(nan, 30), canary: seq(1, 30, 1), p: def,
			want: outcome{Verdict: verdict.Inconclusive, Reason: reasonTooFew, Baseline: seriesStats{Points: 30, Dropped: 30}},
		},
		{
			name:     "too few, noData fail",
			baseline: seq(1, 3, 1), canary: seq(1, 3, 1), p: params{direction: DirectionIncrease, confidence: 0.95, minSamples: 10, noData: "fail"},
			want: outcome{Verdict: verdict.Failed, Reason: reasonTooFew},
		},
		{
			name:     "too few, noData pass",
			baseline: seq(1, 3, 1), canary: seq(1, 3, 1), p: params{direction: DirectionIncrease, confidence: 0.95, minSamples: 10, noData: "pass"},
			want: outcome{Verdict: verdict.Succeeded, Reason: reasonTooFew},
		},
		{
			name:     "NaN, Inf and out-of-range values are dropped, the rest compared",
			baseline: withNaN, canary: withNaN, p: def,
			want:      outcome{Verdict: verdict.Succeeded, Reason: reasonGoodDirection, Baseline: seriesStats{Points: 24, Dropped: 4, N: 20}},
			wantBasis: "median",
		},
		{
			name:     "zero baseline, non-zero canary: unbounded increase fails",
			baseline: repeat(0, 12), canary: seq(1, 12, 1), p: def,
			want:          outcome{Verdict: verdict.Failed, Reason: reasonRegression},
			wantUnbounded: true, wantBasis: "mean",
		},
		{
			name:     "zero baseline, non-zero canary, decrease is bad: not a regression",
			baseline: repeat(0, 12), canary: seq(1, 12, 1), p: params{direction: DirectionDecrease, confidence: 0.95, minSamples: 10},
			want:          outcome{Verdict: verdict.Succeeded, Reason: reasonGoodDirection},
			wantUnbounded: true, wantBasis: "mean",
		},
		{
			name:     "zero baseline, one canary spike: unbounded but not significant",
			baseline: repeat(0, 12), canary: append(repeat(0, 11), 5), p: def,
			want:          outcome{Verdict: verdict.Succeeded, Reason: reasonNotSignificant},
			wantUnbounded: true, wantBasis: "mean",
		},
		{
			name:     "both all zero",
			baseline: repeat(0, 12), canary: repeat(0, 12), p: def,
			want:      outcome{Verdict: verdict.Succeeded, Reason: reasonGoodDirection, P: 1},
			wantBasis: "mean",
		},
		{
			name:     "sparse baseline: means compared",
			baseline: append(repeat(0, 9), 1, 1, 1), canary: append(repeat(0, 5), repeat(1, 7)...), p: def,
			want:      outcome{Verdict: verdict.Succeeded, Reason: reasonNotSignificant},
			wantBasis: "mean",
		},
		{
			name:     "significant but within tolerance",
			baseline: seq(100, 139, 1), canary: seq(110, 149, 1), p: def,
			want:      outcome{Verdict: verdict.Succeeded, Reason: reasonWithinTolerance},
			wantBasis: "median",
		},
		{
			name:     "tiny baseline: the ratio overflows and is unbounded",
			baseline: repeat(1e-310, 12), canary: seq(1e10, 1.2e11, 1e10), p: def,
			want:          outcome{Verdict: verdict.Failed, Reason: reasonRegression},
			wantUnbounded: true, wantBasis: "median",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := analyze(tt.baseline, tt.canary, tt.p)
			if o.Verdict != tt.want.Verdict || o.Reason != tt.want.Reason {
				t.Errorf("analyze = %v (reason %d); want %v (reason %d)", o.Verdict, o.Reason, tt.want.Verdict, tt.want.Reason)
			}
			if o.Unbounded != tt.wantUnbounded || o.Basis != tt.wantBasis {
				t.Errorf("analyze: Unbounded, Basis = %v, %q; want %v, %q", o.Unbounded, o.Basis, tt.wantUnbounded, tt.wantBasis)
			}
			if tt.want.Baseline.Points != 0 && (o.Baseline.Points != tt.want.Baseline.Points || o.Baseline.Dropped != tt.want.Baseline.Dropped) {
				t.Errorf("analyze: baseline points, dropped = %d, %d; want %d, %d", o.Baseline.Points, o.Baseline.Dropped, tt.want.Baseline.Points, tt.want.Baseline.Dropped)
			}
			if tt.want.Baseline.N != 0 && o.Baseline.N != tt.want.Baseline.N {
				t.Errorf("analyze: baseline N = %d; want %d", o.Baseline.N, tt.want.Baseline.N)
			}
			if tt.want.P != 0 && o.P != tt.want.P {
				t.Errorf("analyze: P = %v; want %v", o.P, tt.want.P)
			}
			assertFinite(t, o)
		})
	}
}

func TestRemoveOutliers(t *testing.T) {
	tests := []struct {
		name        string
		sorted      []float64
		wantRemoved int
	}{
		{"one far point", append(seq(10, 29, 1), 1000), 1},
		{"low and high", append(append([]float64{-500}, seq(10, 29, 1)...), 1000), 2},
		{"none", seq(10, 29, 1), 0},
		{"IQR 0 keeps rare values", append(repeat(0, 20), 7, 9), 0},
		{"fewer than 4 points", []float64{1, 2, 1000}, 0},
	}
	for _, tt := range tests {
		kept, removed := removeOutliers(tt.sorted)
		if removed != tt.wantRemoved || len(kept) != len(tt.sorted)-tt.wantRemoved {
			t.Errorf("%s: removeOutliers(%v) removed %d, kept %d; want %d removed", tt.name, tt.sorted, removed, len(kept), tt.wantRemoved)
		}
	}
}

func TestJudgeZeroBaselineMessage(t *testing.T) {
	c := mustCompile(t, validCheck())
	o := analyze(repeat(0, 12), seq(1, 12, 1), c.params)
	r := c.judge(o, plan{})
	if r.Verdict != verdict.Failed {
		t.Fatalf("judge(zero baseline).Verdict = %v; want Failed", r.Verdict)
	}
	for _, want := range []string{"baseline mean is 0", "zero baseline", "canary mean is 6.5", "n=12 baseline, 12 canary"} {
		if !strings.Contains(r.Observed, want) {
			t.Errorf("judge(zero baseline).Observed = %q; want it to contain %q", r.Observed, want)
		}
	}
	if _, ok := r.Values["change_pct"]; ok {
		t.Errorf("judge(zero baseline).Values has change_pct = %v; want it left out (unbounded)", r.Values["change_pct"])
	}
	assertResultFinite(t, r)
}

// assertFinite fails when any number of an outcome is NaN or ±Inf.
func assertFinite(t *testing.T, o outcome) {
	t.Helper()
	for name, x := range map[string]float64{
		"Change": o.Change, "U": o.U, "P": o.P,
		"Baseline.Median": o.Baseline.Median, "Baseline.Mean": o.Baseline.Mean,
		"Canary.Median": o.Canary.Median, "Canary.Mean": o.Canary.Mean,
	} {
		if !finite(x) {
			t.Errorf("outcome.%s = %v; want a finite number", name, x)
		}
	}
}

// assertResultFinite fails when a result's values or messages hold NaN
// or Inf.
func assertResultFinite(t *testing.T, r verdict.Result) {
	t.Helper()
	for k, v := range r.Values {
		if !finite(v) {
			t.Errorf("Values[%q] = %v; want a finite number", k, v)
		}
	}
	for _, s := range []string{r.Observed, r.Expected, r.Target} {
		if strings.Contains(s, "NaN") || strings.Contains(s, "Inf") || strings.Contains(s, "n/a") {
			t.Errorf("message %q holds NaN, Inf or n/a", s)
		}
	}
}
