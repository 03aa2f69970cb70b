package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func TestSample(t *testing.T) {
	with := func(c spec.Check, mod func(*spec.Check)) spec.Check { mod(&c); return c }
	tests := []struct {
		name       string
		check      spec.Check
		series     []fakeSeries // for query Id m0
		status     types.StatusCode
		want       verdict.Verdict
		contains   []string
		wantValues map[string]float64
	}{
		{
			name:       "passes",
			check:      single("value < 5"),
			series:     last(1, 2, 3),
			want:       verdict.Succeeded,
			contains:   []string{"value 3 at 08:09Z", "3 points in the last 5m, oldest first: 1, 2, 3", "min 1, max 3, avg 2, sum 6"},
			wantValues: map[string]float64{"value": 3, "min": 1, "max": 3, "avg": 2, "sum": 6, "count": 3},
		},
		{
			name:     "fails on the newest value",
			check:    single("value < 5"),
			series:   last(1, 2, 9),
			want:     verdict.Failed,
			contains: []string{"value 9 at 08:09Z"},
		},
		{
			name:   "expr builtins work on values",
			check:  single("all(values, # < 5) && len(filter(values, # > 1)) == 2"),
			series: last(1, 2, 3),
			want:   verdict.Succeeded,
		},
		{
			name:   "values are oldest first",
			check:  single("values[0] < values[count-1] && len(values) == count"),
			series: last(1, 2, 9),
			want:   verdict.Succeeded,
		},
		{
			name:     "points outside the window are ignored",
			check:    single("max < 5"),
			series:   []fakeSeries{{points: []point{{end.Add(-9 * time.Minute), 100}, {end.Add(-time.Minute), 1}}}},
			want:     verdict.Succeeded,
			contains: []string{"1 points in the last 5m"},
		},
		{
			name:     "no data is inconclusive by default",
			check:    single("value < 5"),
			want:     verdict.Inconclusive,
			contains: []string{"0 data points in the last 5m; at least 1 needed (minSamples) — noData: inconclusive"},
		},
		{
			name:     "no data fails with noData fail",
			check:    with(single("value < 5"), func(c *spec.Check) { c.NoData = spec.PolicyFail }),
			want:     verdict.Failed,
			contains: []string{"noData: fail", "is the metric still published?"},
		},
		{
			name:  "no data passes with noData pass",
			check: with(single("value < 5"), func(c *spec.Check) { c.NoData = spec.PolicyPass }),
			want:  verdict.Succeeded,
		},
		{
			name:       "fewer than minSamples",
			check:      with(single("value < 5"), func(c *spec.Check) { c.MinSamples = 3 }),
			series:     last(1, 2),
			want:       verdict.Inconclusive,
			contains:   []string{"2 data points in the last 5m; at least 3 needed"},
			wantValues: map[string]float64{"count": 2},
		},
		{
			name:   "exactly minSamples",
			check:  with(single("value < 5"), func(c *spec.Check) { c.MinSamples = 3 }),
			series: last(1, 2, 3),
			want:   verdict.Succeeded,
		},
		{
			name:     "expect fails at run time",
			check:    single("values[7] < 5"),
			series:   last(1),
			want:     verdict.Error,
			contains: []string{`expect "values[7] < 5" failed to evaluate: index out of range`},
		},
		{
			name:     "partial data does not pass",
			check:    single("value < 5"),
			series:   last(1, 2),
			status:   types.StatusCodePartialData,
			want:     verdict.Inconclusive,
			contains: []string{"CloudWatch returned partial data"},
		},
		{
			name:   "partial data still fails",
			check:  single("value < 5"),
			series: last(1, 9),
			status: types.StatusCodePartialData,
			want:   verdict.Failed,
		},
		{
			name:     "forbidden query is an error",
			check:    single("value < 5"),
			series:   last(1),
			status:   types.StatusCodeForbidden,
			want:     verdict.Error,
			contains: []string{"CloudWatch answered Forbidden"},
		},
		{
			name:  "several series: the worst decides",
			check: single("value < 5"),
			series: []fakeSeries{
				{label: "i-1", points: last(1)[0].points},
				{label: "i-2", points: last(7)[0].points},
				{label: "i-3", points: last(2)[0].points},
			},
			want:       verdict.Failed,
			contains:   []string{"3 series, worst i-2: value 7", "i-1: value 1", "i-3: value 2"},
			wantValues: map[string]float64{"value": 7, "min": 7, "max": 7, "avg": 7, "sum": 7, "count": 1},
		},
		{
			name:     "a long window lists the newest values",
			check:    with(single("value < 5"), func(c *spec.Check) { c.Metric.Window = spec.Duration(time.Hour) }),
			series:   last(make([]float64, 30)...),
			want:     verdict.Succeeded,
			contains: []string{"30 points in the last 1h, oldest first: …20 earlier, 0, 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{series: map[string][]fakeSeries{"m0": tt.series}}
			if tt.status != "" {
				f.status = map[string]types.StatusCode{"m0": tt.status}
			}
			rs := newSampler(t, f, tt.check).Sample(context.Background(), at)
			if len(rs) != 1 {
				t.Fatalf("Sample returned %d results; want 1", len(rs))
			}
			r := rs[0]
			if r.Verdict != tt.want {
				t.Errorf("Sample(%s).Verdict = %v; want %v (observed %q)", tt.name, r.Verdict, tt.want, r.Observed)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Observed, s) {
					t.Errorf("Sample(%s).Observed = %q; want it to contain %q", tt.name, r.Observed, s)
				}
			}
			if tt.wantValues != nil {
				if d := cmp.Diff(tt.wantValues, r.Values); d != "" {
					t.Errorf("Sample(%s).Values mismatch (-want +got):\n%s", tt.name, d)
				}
			}
			if !strings.Contains(r.Expected, tt.check.Expect) || !strings.Contains(r.Target, "HTTPCode_Target_5XX_Count{LoadBalancer=app/prod/1} Sum") {
				t.Errorf("Sample(%s) Expected = %q, Target = %q; want the expect expression and the metric", tt.name, r.Expected, r.Target)
			}
		})
	}
}

// TestSampleExpectDidNotFinish: a metric check's expect expression is
// bounded by the sample's deadline; one that runs past it is that
// sample's Error, named as such (issue 12).
func TestSampleExpectDidNotFinish(t *testing.T) {
	f := &fakeCW{series: map[string][]fakeSeries{"m0": last(1, 2, 3)}}
	c := single(`let r = 1..999999; all(r, none(r, value < 0))`)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rs := newSampler(t, f, c).Sample(ctx, at)
	if len(rs) != 1 {
		t.Fatalf("Sample returned %d results; want 1", len(rs))
	}
	if want := "expect expression did not finish within"; rs[0].Verdict != verdict.Error || !strings.Contains(rs[0].Observed, want) {
		t.Errorf("Sample = %v, %q; want Error containing %q", rs[0].Verdict, rs[0].Observed, want)
	}
}
