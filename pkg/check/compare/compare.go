package compare

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// API is the part of *cloudwatch.Client a compare check uses.
type API interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Options are what New builds a sampler from.
type Options struct {
	// API reads the metrics (a *cloudwatch.Client in production).
	API API
	// Now is the clock, used when a check.Sample carries no time
	// (default time.Now).
	Now func() time.Time
}

// Defaults and limits of a compare check's timing.
const (
	DefaultPeriod = 60 * time.Second
	maxPeriod     = 24 * time.Hour
)

// CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 days
// and 1-hour data for 455 days; a series offset further back than its
// period's retention reads nothing.
var retention = []struct {
	minPeriod time.Duration
	keep      time.Duration
}{
	{time.Minute, 15 * 24 * time.Hour},
	{5 * time.Minute, 63 * 24 * time.Hour},
	{time.Hour, 455 * 24 * time.Hour},
}

// compiled is one compare check, validated, with defaults applied.
type compiled struct {
	item     check.Item
	cmp      spec.Compare
	params   params
	period   time.Duration
	window   time.Duration // 0: the bake so far
	target   string
	expected string
}

// New validates the compare checks of a spec and builds their sampler.
// Every problem is reported with its path, e.g.
// "checks[3].compare.direction"; the sampler is nil when there are any.
func New(o Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	if o.API == nil {
		errs.Add("", "internal error: compare checks need a CloudWatch client")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cs := make([]compiled, 0, len(items))
	for _, it := range items {
		c, es := compile(it)
		errs = append(errs, es...)
		cs = append(cs, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &sampler{api: o.API, now: o.Now, checks: cs}, nil
}

func compile(it check.Item) (compiled, spec.Errors) {
	var errs spec.Errors
	path := it.Path()
	c := compiled{item: it}
	if it.Check.Compare == nil {
		errs.Add(spec.Field(path, "compare"), "required: a compare check needs a compare section")
		return c, errs
	}
	cmp := *it.Check.Compare
	cp := spec.Field(path, "compare")

	errs = append(errs, check.Unused(it, "it judges by compare.direction, compare.tolerance and compare.confidence", "expect")...)
	switch it.Check.NoData {
	case "", spec.PolicyInconclusive, spec.PolicyFail, spec.PolicyPass:
	default:
		errs.Add(spec.Field(path, "noData"), "must be %q, %q or %q, got %q", spec.PolicyInconclusive, spec.PolicyFail, spec.PolicyPass, it.Check.NoData)
	}
	minSamples := it.Check.MinSamples
	switch {
	case minSamples < 0:
		errs.Add(spec.Field(path, "minSamples"), "must not be negative, got %d (leave it out for the default, %d points per series)", minSamples, DefaultMinSamples)
	case minSamples == 0:
		minSamples = DefaultMinSamples
	}

	switch cmp.Test {
	case "":
		cmp.Test = TestMannWhitney
	case TestMannWhitney:
	default:
		errs.Add(spec.Field(cp, "test"), "unknown test %q (available: %s)", cmp.Test, TestMannWhitney)
	}
	switch cmp.Direction {
	case "":
		cmp.Direction = DirectionIncrease
	case DirectionIncrease, DirectionDecrease, DirectionEither:
	default:
		errs.Add(spec.Field(cp, "direction"), "must be %q, %q or %q (the change that is bad), got %q", DirectionIncrease, DirectionDecrease, DirectionEither, cmp.Direction)
	}
	tol := float64(cmp.Tolerance)
	if !(tol >= 0) || !finite(tol) {
		errs.Add(spec.Field(cp, "tolerance"), "must be a percentage of at least 0%%, e.g. \"20%%\", got %v%%", tol*100)
	}
	switch {
	case cmp.Confidence == 0:
		cmp.Confidence = DefaultConfidence
	case !(cmp.Confidence > 0 && cmp.Confidence < 1):
		errs.Add(spec.Field(cp, "confidence"), "must be between 0 and 1 exclusive, e.g. 0.95, got %v", cmp.Confidence)
	}

	period := cmp.Period.D()
	switch {
	case period == 0:
		period = DefaultPeriod
	case period < 0 || period%time.Minute != 0 || period > maxPeriod:
		errs.Add(spec.Field(cp, "period"), "must be a multiple of 60s up to 24h, e.g. \"60s\" or \"5m\", got %s", period)
	}
	window := cmp.Window.D()
	if window != 0 && period > 0 {
		if window < period {
			errs.Add(spec.Field(cp, "window"), "must be at least one period (%s), got %s", period, window)
		} else if n := int(window / period); n < minSamples && minSamples > 0 {
			errs.Add(spec.Field(cp, "window"), "%s holds at most %d points of %s but minSamples is %d: lengthen the window or lower minSamples", window, n, period, minSamples)
		}
	}

	errs = append(errs, validateSeries(spec.Field(cp, "baseline"), cmp.Baseline, period)...)
	errs = append(errs, validateSeries(spec.Field(cp, "canary"), cmp.Canary, period)...)
	if sameData(cmp.Baseline, cmp.Canary) {
		errs.Add(cp, "baseline and canary read the same data, so they can never differ: give them different dimensions, or set baseline.beforeBake or baseline.offset")
	}

	c.cmp = cmp
	c.params = params{
		direction:  cmp.Direction,
		tolerance:  tol,
		confidence: cmp.Confidence,
		minSamples: minSamples,
		noData:     it.Check.NoData,
	}
	c.period, c.window = period, window
	c.target = target(cmp)
	c.expected = expected(c.params)
	return c, errs
}

func validateSeries(path string, s spec.Series, period time.Duration) spec.Errors {
	var errs spec.Errors
	if strings.TrimSpace(s.Namespace) == "" {
		errs.Add(spec.Field(path, "namespace"), "required: the metric's namespace, e.g. \"AWS/Lambda\"")
	}
	if strings.TrimSpace(s.Name) == "" {
		errs.Add(spec.Field(path, "name"), "required: the metric's name, e.g. \"Duration\"")
	}
	switch {
	case s.Stat == "":
		errs.Add(spec.Field(path, "stat"), "required: the statistic to compare, e.g. \"p95\" or \"Average\"")
	case !check.ValidStatistic(s.Stat):
		errs.Add(spec.Field(path, "stat"), "unknown statistic %q: use one of Average, Sum, Minimum, Maximum, SampleCount, IQM, or a percentile such as p95 or p99.9", s.Stat)
	}
	if s.Unit != "" && !slices.Contains(types.StandardUnit("").Values(), types.StandardUnit(s.Unit)) {
		errs.Add(spec.Field(path, "unit"), "unknown unit %q: use a CloudWatch unit such as Milliseconds, Seconds, Count or Percent, or leave it out", s.Unit)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Dimensions)) {
		if k == "" || s.Dimensions[k] == "" {
			errs.Add(spec.Field(path, "dimensions"), "dimension %q=%q: names and values must not be empty", k, s.Dimensions[k])
		}
	}
	if len(s.Dimensions) > 30 {
		errs.Add(spec.Field(path, "dimensions"), "CloudWatch allows at most 30 dimensions per metric, got %d", len(s.Dimensions))
	}
	if s.Offset < 0 {
		errs.Add(spec.Field(path, "offset"), "must not be negative, got %s (an offset shifts the series back in time)", s.Offset)
	}
	if off := s.Offset.D(); off > 0 && period > 0 {
		if last := retention[len(retention)-1]; off > last.keep {
			errs.Add(spec.Field(path, "offset"), "CloudWatch keeps metrics for 455 days; %s is further back", off)
		}
		for _, r := range retention {
			if off <= r.keep {
				if period < r.minPeriod {
					errs.Add(spec.Field(path, "offset"), "CloudWatch keeps data of period %s for less than %s: set compare.period to %s or more", period, off, r.minPeriod)
				}
				break
			}
		}
	}
	return errs
}

// sameData reports whether two series would read the same points.
func sameData(a, b spec.Series) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name && a.Stat == b.Stat &&
		a.Unit == b.Unit && maps.Equal(a.Dimensions, b.Dimensions) &&
		a.BeforeBake == b.BeforeBake && a.Offset == b.Offset
}

// target names what a check compares, e.g. "p95 AWS/Lambda Duration:
// canary (FunctionName=api, Resource=api:live) vs baseline (…)".
func target(c spec.Compare) string {
	b, k := c.Baseline, c.Canary
	head := fmt.Sprintf("%s %s %s", k.Stat, k.Namespace, k.Name)
	if b.Stat != k.Stat || b.Namespace != k.Namespace || b.Name != k.Name {
		return fmt.Sprintf("canary %s %s %s%s vs baseline %s %s %s%s",
			k.Stat, k.Namespace, k.Name, seriesDetail(k, false), b.Stat, b.Namespace, b.Name, seriesDetail(b, false))
	}
	same := maps.Equal(b.Dimensions, k.Dimensions)
	return fmt.Sprintf("%s: canary%s vs baseline%s", head, seriesDetail(k, same), seriesDetail(b, same))
}

func seriesDetail(s spec.Series, sameDims bool) string {
	var parts []string
	if !sameDims && len(s.Dimensions) > 0 {
		var ds []string
		for _, k := range slices.Sorted(maps.Keys(s.Dimensions)) {
			ds = append(ds, k+"="+s.Dimensions[k])
		}
		parts = append(parts, strings.Join(ds, ", "))
	}
	if s.BeforeBake {
		parts = append(parts, "before the bake")
	}
	if s.Offset > 0 {
		parts = append(parts, s.Offset.String()+" earlier")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// expected says what passes, e.g. "no increase above 20% at 95%
// confidence (one-sided Mann-Whitney p < 0.05), at least 10 points per
// series".
func expected(p params) string {
	var change string
	switch p.direction {
	case DirectionIncrease:
		change = "no increase"
	case DirectionDecrease:
		change = "no decrease"
	default:
		change = "no change"
	}
	if p.tolerance > 0 {
		if p.direction == DirectionEither {
			change += " beyond ±" + pct(p.tolerance)
		} else {
			change += " above " + pct(p.tolerance)
		}
	}
	sided := "one-sided"
	if p.direction == DirectionEither {
		sided = "two-sided"
	}
	return fmt.Sprintf("%s at %s confidence (%s Mann-Whitney p < %s), at least %d points per series",
		change, pct(p.confidence), sided, num(p.alpha()), max(p.minSamples, 1))
}
