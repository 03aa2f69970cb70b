package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Property tests: every case is drawn from a PCG generator with a fixed
// seed, so a failure names the seed that reproduces it.

const propertySeeds = 400

// randomSeries draws n values of one of several shapes CloudWatch
// series take: noisy latency, heavy-tailed latency, integer counts with
// many ties, sparse error counts, constants, negative values, and series
// with NaN mixed in.
func randomSeries(r *rand.Rand, n int) []float64 {
	xs := make([]float64, n)
	level := math.Exp(r.Float64()*20 - 10) // 4.5e-5 .. 2.2e4
	shape := r.IntN(7)
	for i := range xs {
		switch shape {
		case 0:
			xs[i] = level * (1 + 0.2*r.NormFloat64())
		case 1:
			xs[i] = level * math.Exp(0.8*r.NormFloat64())
		case 2:
			xs[i] = float64(r.IntN(5))
		case 3:
			if r.IntN(10) == 0 {
				xs[i] = float64(1 + r.IntN(3))
			}
		case 4:
			xs[i] = level
		case 5:
			xs[i] = -level * (1 + 0.3*r.NormFloat64())
		case 6:
			xs[i] = level * r.Float64()
			if r.IntN(8) == 0 {
				xs[i] = math.NaN()
			}
		}
	}
	return xs
}

func randomParams(r *rand.Rand) params {
	return params{
		direction:  []string{DirectionIncrease, DirectionDecrease, DirectionEither}[r.IntN(3)],
		tolerance:  []float64{0, 0.01, 0.1, 0.2, 0.5, 2}[r.IntN(6)],
		confidence: []float64{0.5, 0.8, 0.9, 0.95, 0.99, 0.999}[r.IntN(6)],
		minSamples: r.IntN(20),
	}
}

// Identical series — the same values, in the same or another order — never
// fail, whatever the shape, size and parameters.
func TestPropertyIdenticalSeriesNeverFail(t *testing.T) {
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		xs := randomSeries(r, 1+r.IntN(300))
		p := randomParams(r)
		shuffled := slices.Clone(xs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, canary := range [][]float64{xs, shuffled} {
			o := analyze(xs, canary, p)
			if o.Verdict == verdict.Failed || o.Verdict == verdict.Error {
				t.Fatalf("seed %d: analyze(x, x) with %+v = %v (reason %d, change %v, p %v); want not Failed", seed, p, o.Verdict, o.Reason, o.Change, o.P)
			}
			if o.Reason != reasonTooFew && (o.Change != 0 || o.P < 0.5) {
				t.Fatalf("seed %d: analyze(x, x) change, p = %v, %v; want 0 and ≥ 0.5", seed, o.Change, o.P)
			}
			assertFinite(t, o)
		}
	}
}

// A large shift in the bad direction always fails once there are enough
// samples: the canary is the baseline's distribution scaled by 3 (or by
// 1/3 for decrease), with 30 to 330 points a side, any tolerance up to
// 60% and any confidence up to 99.9%.
func TestPropertyLargeShiftAlwaysFails(t *testing.T) {
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		level := math.Exp(r.Float64()*20 - 10)
		heavy := r.IntN(2) == 0
		draw := func() float64 {
			if heavy {
				return level * math.Exp(0.3*r.NormFloat64())
			}
			return level * (1 + 0.5*r.Float64())
		}
		p := params{
			direction:  []string{DirectionIncrease, DirectionDecrease, DirectionEither}[r.IntN(3)],
			tolerance:  0.6 * r.Float64(), // ×1/3 is −67%: a decrease can never pass −100%
			confidence: 0.5 + 0.499*r.Float64(),
			minSamples: 10,
		}
		factor := 3.0
		if p.direction == DirectionDecrease || p.direction == DirectionEither && r.IntN(2) == 0 {
			factor = 1.0 / 3
		}
		nb, nc := 30+r.IntN(300), 30+r.IntN(300)
		b, c := make([]float64, nb), make([]float64, nc)
		for i := range b {
			b[i] = draw()
		}
		for i := range c {
			c[i] = factor * draw()
		}
		o := analyze(b, c, p)
		if o.Verdict != verdict.Failed {
			t.Fatalf("seed %d: analyze(%d baseline, %d canary ×%.3g) with %+v = %v (reason %d, change %v, p %v); want Failed",
				seed, nb, nc, factor, p, o.Verdict, o.Reason, o.Change, o.P)
		}
		// The same shift in the good direction never fails.
		good := p
		good.direction = DirectionIncrease
		if factor > 1 {
			good.direction = DirectionDecrease
		}
		if o := analyze(b, c, good); o.Verdict != verdict.Succeeded || o.Reason != reasonGoodDirection {
			t.Fatalf("seed %d: analyze(shift ×%.3g, bad direction %s) = %v (reason %d); want Succeeded, good direction", seed, factor, good.direction, o.Verdict, o.Reason)
		}
	}
}

// Scaling both series by a power of two (exact in floating point) changes
// neither the verdict nor the relative change nor the p-value: the test is
// on ranks and the effect is a ratio.
func TestPropertyScaleInvariant(t *testing.T) {
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		b, c := randomSeries(r, 1+r.IntN(100)), randomSeries(r, 1+r.IntN(100))
		p := randomParams(r)
		k := math.Ldexp(1, r.IntN(41)-20)
		scale := func(xs []float64) []float64 {
			out := make([]float64, len(xs))
			for i, x := range xs {
				out[i] = x * k
			}
			return out
		}
		o1, o2 := analyze(b, c, p), analyze(scale(b), scale(c), p)
		if o1.Verdict != o2.Verdict || o1.Reason != o2.Reason || o1.Change != o2.Change || o1.P != o2.P || o1.Unbounded != o2.Unbounded {
			t.Fatalf("seed %d: analyze scaled by %g = %v/%d change %v p %v; unscaled %v/%d change %v p %v",
				seed, k, o2.Verdict, o2.Reason, o2.Change, o2.P, o1.Verdict, o1.Reason, o1.Change, o1.P)
		}
	}
}

// With direction either and no ties, swapping baseline and canary gives
// the same two-sided p-value. (With ties the exact null distribution of U
// need not be symmetric, and go-moremath doubles the tail of the smaller
// U, so the p-value may depend on which side is which.)
func TestPropertyTwoSidedSymmetric(t *testing.T) {
	checked := 0
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		r := rand.New(rand.NewPCG(seed, 4))
		b, c := randomSeries(r, 1+r.IntN(100)), randomSeries(r, 1+r.IntN(100))
		pooled, _ := clean(append(slices.Clone(b), c...))
		if len(slices.Compact(slices.Clone(pooled))) != len(pooled) {
			continue // ties
		}
		checked++
		p := randomParams(r)
		p.direction = DirectionEither
		o1, o2 := analyze(b, c, p), analyze(c, b, p)
		if math.Abs(o1.P-o2.P) > 1e-12 {
			t.Fatalf("seed %d: two-sided p = %v one way, %v swapped; want equal", seed, o1.P, o2.P)
		}
	}
	if checked < propertySeeds/4 {
		t.Fatalf("only %d of %d seeds drew series without ties; want at least a quarter", checked, propertySeeds)
	}
}
