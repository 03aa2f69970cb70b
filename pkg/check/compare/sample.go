package compare

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// maxPages bounds the pages one sample reads, so a misbehaving endpoint
// that always returns a NextToken cannot keep the function busy until
// its deadline. 100 pages of 100,800 points is far beyond any window a
// compare check reads.
const maxPages = 100

type sampler struct {
	api    API
	now    func() time.Time
	checks []compiled
}

// span is a half-open time window [start, end).
type span struct{ start, end time.Time }

// plan is what one check reads in one sample.
type plan struct {
	baseline, canary span
	// skip, when set, is the check's result without reading anything.
	skip *verdict.Result
}

// Sample reads every compare check's two series in one GetMetricData
// call (paginated) and returns one result per check, in order.
func (s *sampler) Sample(ctx context.Context, at check.Sample) []verdict.Result {
	began := time.Now()
	now := at.Now
	if now.IsZero() {
		now = s.now()
	}
	results := make([]verdict.Result, len(s.checks))
	plans := make([]plan, len(s.checks))
	var queries []types.MetricDataQuery
	var union span
	for i, c := range s.checks {
		p := c.plan(at.BakeStart, now)
		plans[i] = p
		if p.skip != nil {
			continue
		}
		queries = append(queries, c.query("b", c.cmp.Baseline.MetricStat), c.query("c", c.cmp.Canary.MetricStat))
		for _, w := range []span{p.baseline, p.canary} {
			if union.start.IsZero() || w.start.Before(union.start) {
				union.start = w.start
			}
			if w.end.After(union.end) {
				union.end = w.end
			}
		}
	}

	var points map[string][]point
	var fetchErr error
	if len(queries) > 0 {
		union.start = union.start.Truncate(alignment(s.checks))
		points, fetchErr = s.fetch(ctx, queries, union)
	}
	for i, c := range s.checks {
		var r verdict.Result
		switch p := plans[i]; {
		case p.skip != nil:
			r = *p.skip
		case fetchErr != nil:
			r = c.result()
			r.Verdict = verdict.Error
			if errors.Is(fetchErr, context.DeadlineExceeded) || errors.Is(fetchErr, context.Canceled) {
				r.Observed = fmt.Sprintf("ran out of time reading the metrics: %v; the next sample tries again (if this repeats, raise the function's timeout)", fetchErr)
			} else {
				r.Observed = fmt.Sprintf("could not read the metrics: %v; check that the function may call cloudwatch:GetMetricData and that CloudWatch is reachable", fetchErr)
			}
		default:
			b := p.baseline.values(points[c.id("b")], c.period)
			k := p.canary.values(points[c.id("c")], c.period)
			r = c.judge(analyze(b, k, c.params), p)
		}
		r.Duration = time.Since(began)
		results[i] = r
	}
	return results
}

// plan works out the windows of a check's two series at time now.
//
// The canary window ends at the start of the current period (only
// complete periods are read) and reaches back to the first complete
// period of the bake, or compare.window if that is shorter: a canary
// never reads data from before the deployment as its own. The baseline
// window has the same length; beforeBake moves its end to the bake's
// start (floored to a period boundary, so no canary data leaks in), and
// offset then shifts either series further back.
func (c compiled) plan(bakeStart, now time.Time) plan {
	end := now.Truncate(c.period)
	length := c.window
	needsBakeStart := length == 0 || c.cmp.Baseline.BeforeBake || c.cmp.Canary.BeforeBake
	switch {
	case bakeStart.IsZero() && needsBakeStart:
		r := c.result()
		r.Verdict = verdict.Error
		r.Observed = "internal error: the sample has no bake start time, which a compare check needs without a window or with beforeBake; report this as a bug"
		return plan{skip: &r}
	case !bakeStart.IsZero():
		first := bakeStart.Truncate(c.period)
		if first.Before(bakeStart) {
			first = first.Add(c.period)
		}
		if sinceBake := end.Sub(first); length == 0 || sinceBake < length {
			length = sinceBake
		}
	}
	if length < c.period {
		r := c.result()
		r.Verdict = noDataVerdict(c.params.noData)
		r.Observed = fmt.Sprintf("no complete %s period since the bake started at %s: nothing to compare yet",
			c.period, bakeStart.UTC().Format(time.RFC3339))
		r.Values = map[string]float64{"n_baseline": 0, "n_canary": 0}
		return plan{skip: &r}
	}
	window := func(sr seriesTiming) span {
		e := end
		if sr.beforeBake {
			e = bakeStart.Truncate(c.period)
		}
		e = e.Add(-sr.offset)
		return span{e.Add(-length), e}
	}
	return plan{
		baseline: window(seriesTiming{c.cmp.Baseline.BeforeBake, c.cmp.Baseline.Offset.D()}),
		canary:   window(seriesTiming{c.cmp.Canary.BeforeBake, c.cmp.Canary.Offset.D()}),
	}
}

type seriesTiming struct {
	beforeBake bool
	offset     time.Duration
}

// alignment is the boundary the shared start time is floored to: the
// least common multiple of the checks' periods, so every query's buckets
// line up with its own period, or a minute when that would exceed an
// hour.
func alignment(cs []compiled) time.Duration {
	l := int64(1)
	for _, c := range cs {
		p := int64(c.period / time.Minute)
		l = l / gcd(l, p) * p
		if l > 60 {
			return time.Minute
		}
	}
	return time.Duration(l) * time.Minute
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// id is a query id: "b3" or "c3" for the baseline and canary of
// checks[3]. Ids must start with a lower-case letter.
func (c compiled) id(side string) string { return side + strconv.Itoa(c.item.Index) }

func (c compiled) query(side string, m spec.MetricStat) types.MetricDataQuery {
	dims := make([]types.Dimension, 0, len(m.Dimensions))
	for _, k := range slices.Sorted(maps.Keys(m.Dimensions)) {
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
	}
	return types.MetricDataQuery{
		Id:        aws.String(c.id(side)),
		AccountId: check.AccountID(m.AccountID),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{
				Namespace:  aws.String(m.Namespace),
				MetricName: aws.String(m.Name),
				Dimensions: dims,
			},
			Period: aws.Int32(int32(min(c.period, maxPeriod) / time.Second)), //nolint:gosec // G115: at most 86,400 s (maxPeriod)
			Stat:   aws.String(m.Stat),
			Unit:   types.StandardUnit(m.Unit),
		},
		ReturnData: aws.Bool(true),
	}
}

// point is one data point of a series: the start of its period and its
// value.
type point struct {
	t time.Time
	v float64
}

// values returns the values of the points whose whole period lies in w.
func (w span) values(ps []point, period time.Duration) []float64 {
	vs := make([]float64, 0, len(ps))
	for _, p := range ps {
		if !p.t.Before(w.start) && !p.t.Add(period).After(w.end) {
			vs = append(vs, p.v)
		}
	}
	return vs
}

// fetch runs the queries over w, following NextToken, and returns the
// points of each query id.
func (s *sampler) fetch(ctx context.Context, queries []types.MetricDataQuery, w span) (map[string][]point, error) {
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(w.start),
		EndTime:           aws.Time(w.end),
		ScanBy:            types.ScanByTimestampAscending,
	}
	points := make(map[string][]point, len(queries))
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		out, err := s.api.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get metric data (%d queries, %s to %s): %w",
				len(queries), w.start.UTC().Format(time.RFC3339), w.end.UTC().Format(time.RFC3339), err)
		}
		if out == nil {
			return nil, fmt.Errorf("get metric data: empty response")
		}
		for _, r := range out.MetricDataResults {
			id := aws.ToString(r.Id)
			switch r.StatusCode {
			case types.StatusCodeForbidden, types.StatusCodeInternalError:
				return nil, fmt.Errorf("get metric data: query %s: status %s%s", id, r.StatusCode, messages(r.Messages))
			}
			if len(r.Timestamps) != len(r.Values) {
				return nil, fmt.Errorf("get metric data: query %s: %d timestamps for %d values", id, len(r.Timestamps), len(r.Values))
			}
			points[id] = slices.Grow(points[id], len(r.Timestamps))
			for j, t := range r.Timestamps {
				points[id] = append(points[id], point{t, r.Values[j]})
			}
		}
		next := aws.ToString(out.NextToken)
		if next == "" {
			return points, nil
		}
		if page == maxPages {
			return nil, fmt.Errorf("get metric data: still more data after %d pages; shorten compare.window", maxPages)
		}
		cp := *in
		cp.NextToken = aws.String(next)
		in = &cp
	}
}

func messages(ms []types.MessageData) string {
	var s string
	for _, m := range ms {
		s += fmt.Sprintf("; %s: %s", aws.ToString(m.Code), aws.ToString(m.Value))
	}
	return s
}
