package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// API is the part of *cloudwatch.Client a metric check uses.
type API interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Options are what the metric kind is built from.
type Options struct {
	// API is the CloudWatch client (required).
	API API
	// Now is the clock, used when a sample carries no time and to time
	// samples (default time.Now).
	Now func() time.Time
}

// Defaults and limits.
const (
	DefaultPeriod = time.Minute
	DefaultWindow = 5 * time.Minute
	// MaxQueriesPerCall is GetMetricData's limit on MetricDataQuery
	// structures in one call.
	MaxQueriesPerCall = 500
	// maxWindow is how long CloudWatch keeps 1-minute data points.
	maxWindow = 15 * 24 * time.Hour
	// maxExpression is CloudWatch's limit on an Expression's length.
	maxExpression = 2048
	// maxIDLen is CloudWatch's limit on a query Id's length.
	maxIDLen = 255
	// maxShown is how many values or series the evidence lists.
	maxShown = 10
)

// env is what an expect expression sees.
type env struct {
	// Value is the newest data point in the window.
	Value float64 `expr:"value"`
	// Values are the window's data points, oldest first.
	Values []float64 `expr:"values"`
	Min    float64   `expr:"min"`
	Max    float64   `expr:"max"`
	Avg    float64   `expr:"avg"`
	Sum    float64   `expr:"sum"`
	Count  int       `expr:"count"`
}

// metricCheck is one metric check, ready to query and judge.
type metricCheck struct {
	id         string // the Id of the query whose data is judged
	queries    []types.MetricDataQuery
	expect     *vm.Program
	expectSrc  string
	noData     string
	minSamples int
	period     time.Duration
	window     time.Duration
	target     string
}

type sampler struct {
	api    API
	now    func() time.Time
	checks []metricCheck
	// batches are the checks (indexes) of each GetMetricData call: one
	// call unless the checks' queries together pass 500.
	batches [][]int
}

// New validates the metric checks of a spec, compiles their expect
// expressions and metric math, and returns the sampler that answers all
// of them with one GetMetricData call per sample (more only when their
// queries pass 500 together).
func New(o Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	if o.API == nil {
		errs.Add("", "internal error: the metric check kind was built without a CloudWatch client (metrics.Options.API is nil)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &sampler{api: o.API, now: o.Now}
	// Every query Id of the request, so a check can tell whether
	// METRICS('m3_') would pick only its own metrics.
	var allIDs []string
	for _, it := range items {
		if m := it.Check.Metric; m != nil {
			for id := range m.Metrics {
				allIDs = append(allIDs, checkID(it)+"_"+id)
			}
		}
	}
	for _, it := range items {
		c, cerrs := build(it, allIDs)
		errs = append(errs, cerrs...)
		s.checks = append(s.checks, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var cur []int
	n := 0
	for i, c := range s.checks {
		if n+len(c.queries) > MaxQueriesPerCall && len(cur) > 0 {
			s.batches = append(s.batches, cur)
			cur, n = nil, 0
		}
		cur = append(cur, i)
		n += len(c.queries)
	}
	if len(cur) > 0 {
		s.batches = append(s.batches, cur)
	}
	return s, nil
}

// build validates one check and turns it into queries.
func build(it check.Item, allIDs []string) (metricCheck, spec.Errors) {
	var errs spec.Errors
	p := it.Path()
	mp := spec.Field(p, spec.KindMetric)
	m := it.Check.Metric
	if m == nil {
		errs.Add(mp, "required for a metric check")
		return metricCheck{}, errs
	}
	c := metricCheck{
		id:         checkID(it),
		expectSrc:  it.Check.Expect,
		noData:     it.Check.NoData,
		minSamples: it.Check.MinSamples,
		period:     m.Period.D(),
		window:     m.Window.D(),
	}
	if c.noData == "" {
		c.noData = spec.PolicyInconclusive
	}
	if c.noData != spec.PolicyFail && c.noData != spec.PolicyPass && c.noData != spec.PolicyInconclusive {
		errs.Add(spec.Field(p, "noData"), "must be fail, pass or inconclusive, got %q", c.noData)
	}
	switch {
	case c.minSamples < 0:
		errs.Add(spec.Field(p, "minSamples"), "must be 0 or more, got %d", c.minSamples)
	case c.minSamples == 0:
		c.minSamples = 1
	}
	if c.period == 0 {
		c.period = DefaultPeriod
	}
	if c.window == 0 {
		c.window = DefaultWindow
	}
	if c.period%time.Minute != 0 {
		errs.Add(spec.Field(mp, "period"), "must be a multiple of 60s (e.g. 60s, 5m), got %s", c.period)
	}
	switch {
	case c.window < c.period:
		errs.Add(spec.Field(mp, "window"), "must be at least one period (%s), got %s; widen the window or shorten the period", c.period, c.window)
	case c.period%time.Minute == 0 && c.window%c.period != 0:
		errs.Add(spec.Field(mp, "window"), "must be a whole number of periods (%s), got %s; e.g. %s", c.period, c.window, c.window.Truncate(c.period)+c.period)
	case c.window > maxWindow:
		errs.Add(spec.Field(mp, "window"), "must be at most 360h (CloudWatch keeps 1-minute data for 15 days), got %s", c.window)
	}

	if strings.TrimSpace(c.expectSrc) == "" {
		errs.Add(spec.Field(p, "expect"), `is required for a metric check: a condition that must hold, e.g. "value < 5" or "max < 500 && count >= 3" (variables: value, values, min, max, avg, sum, count)`)
	} else if prog, err := expr.Compile(c.expectSrc, expr.Env(env{}), expr.AsBool()); err != nil {
		errs.Add(spec.Field(p, "expect"), "does not compile: %v (variables: value, values, min, max, avg, sum, count; it must be true or false)", err)
	} else {
		c.expect = prog
	}

	// The window check above bounds a valid period to 15 days; clamp so an
	// invalid one (reported) cannot overflow.
	period := aws.Int32(int32(min(c.period, maxWindow) / time.Second)) //nolint:gosec // bounded by maxWindow
	single := m.Namespace != "" || m.Name != ""
	switch {
	case single && (m.Expression != "" || len(m.Metrics) > 0):
		errs.Add(mp, "set either one metric (namespace, name, stat) or expression with metrics, not both")
	case single:
		q, qerrs := statQuery(c.id, mp, m.MetricStat, period)
		errs = append(errs, qerrs...)
		q.ReturnData = aws.Bool(true)
		c.queries = []types.MetricDataQuery{q}
		c.target = describe(m.MetricStat)
	case m.Expression != "":
		ep := spec.Field(mp, "expression")
		if fields := strings.Fields(m.Expression); len(fields) > 0 && strings.EqualFold(fields[0], "SELECT") {
			errs.Add(ep, "Metrics Insights queries are not supported by the metric check; write metric math over metrics, e.g. \"100*errors/requests\"")
			break
		}
		ids := slices.Sorted(maps.Keys(m.Metrics))
		if len(m.Metrics) == 0 {
			errs.Add(spec.Field(mp, "metrics"), "expression %q needs the metrics it refers to, by id", m.Expression)
		}
		if n := 1 + len(ids); n > MaxQueriesPerCall {
			errs.Add(spec.Field(mp, "metrics"), "%d metrics and the expression make %d queries; one GetMetricData call takes at most %d: split the check", len(ids), n, MaxQueriesPerCall)
		}
		rename := func(id string) string { return c.id + "_" + id }
		var targets []string
		for _, id := range ids {
			ip := spec.Field(spec.Field(mp, "metrics"), id)
			switch {
			case !idPattern.MatchString(id):
				errs.Add(ip, "metric id %q must start with a lower-case letter and contain only letters, digits and '_' (CloudWatch's rule), e.g. errors or m1", id)
				continue
			case len(rename(id)) > maxIDLen:
				errs.Add(ip, "metric id is %d characters; keep ids under %d", len(id), maxIDLen-len(c.id)-1)
				continue
			}
			q, qerrs := statQuery(rename(id), ip, m.Metrics[id], period)
			errs = append(errs, qerrs...)
			q.ReturnData = aws.Bool(false)
			c.queries = append(c.queries, q)
			targets = append(targets, id+" = "+describe(m.Metrics[id]))
		}
		all := "METRICS('" + c.id + "_')"
		for _, id := range allIDs {
			if strings.Contains(id, c.id+"_") && !strings.HasPrefix(id, c.id+"_") {
				all = "" // another check's id contains ours: list ours instead
			}
		}
		rewritten, err := rewriteExpression(m.Expression, ids, rename, all)
		switch {
		case err != nil:
			errs.Add(ep, "%v", err)
		case len(rewritten) > maxExpression:
			errs.Add(ep, "is %d characters once its ids are made unique; CloudWatch takes at most %d: shorten the expression or its metric ids", len(rewritten), maxExpression)
		}
		c.queries = append(c.queries, types.MetricDataQuery{Id: aws.String(c.id), Expression: aws.String(rewritten), ReturnData: aws.Bool(true)})
		c.target = m.Expression
		if len(targets) > 0 {
			c.target += " where " + strings.Join(targets, ", ")
		}
	default:
		errs.Add(mp, "set one metric (namespace, name, stat) or an expression over metrics")
	}
	return c, errs
}

// checkID is the Id of the query a check judges: "m3" for checks[3]. Its
// metrics are "m3_<id>": unique across checks, since the digits end at
// the "_" and the spec's ids start with a letter.
func checkID(it check.Item) string { return "m" + strconv.Itoa(it.Index) }

// statQuery validates one MetricStat and returns its query.
func statQuery(id, path string, ms spec.MetricStat, period *int32) (types.MetricDataQuery, spec.Errors) {
	var errs spec.Errors
	if ms.Namespace == "" {
		errs.Add(spec.Field(path, "namespace"), "is required, e.g. AWS/ApplicationELB")
	}
	if ms.Name == "" {
		errs.Add(spec.Field(path, "name"), "is required (the metric name), e.g. HTTPCode_Target_5XX_Count")
	}
	stat := ms.Stat
	if stat == "" {
		stat = defaultStat
	}
	if !validStat(stat) {
		errs.Add(spec.Field(path, "stat"), "%q is not a CloudWatch statistic: %s", ms.Stat, statHelp)
	}
	if ms.Unit != "" && !validUnit(ms.Unit) {
		errs.Add(spec.Field(path, "unit"), "%q is not a CloudWatch unit (e.g. Count, Seconds, Milliseconds, Percent, Bytes)", ms.Unit)
	}
	dims := make([]types.Dimension, 0, len(ms.Dimensions))
	for _, k := range slices.Sorted(maps.Keys(ms.Dimensions)) {
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(ms.Dimensions[k])})
	}
	return types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(ms.Namespace), MetricName: aws.String(ms.Name), Dimensions: dims},
			Period: period,
			Stat:   aws.String(stat),
			Unit:   types.StandardUnit(ms.Unit),
		},
	}, errs
}

// describe renders a metric for evidence:
// "AWS/ApplicationELB HTTPCode_Target_5XX_Count{LoadBalancer=app/x} Sum".
func describe(ms spec.MetricStat) string {
	var b strings.Builder
	b.WriteString(ms.Namespace + " " + ms.Name)
	if len(ms.Dimensions) > 0 {
		b.WriteString("{")
		for i, k := range slices.Sorted(maps.Keys(ms.Dimensions)) {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(k + "=" + ms.Dimensions[k])
		}
		b.WriteString("}")
	}
	stat := ms.Stat
	if stat == "" {
		stat = defaultStat
	}
	b.WriteString(" " + stat)
	if ms.Unit != "" {
		b.WriteString(" (" + ms.Unit + ")")
	}
	return b.String()
}

// series is one time series of one query, merged across pages.
type series struct {
	label  string
	ts     []time.Time
	vals   []float64
	status types.StatusCode
	msgs   []string
	page   int // the last page the series was in
}

// Sample reads every metric check with one GetMetricData call per batch
// and judges each.
func (s *sampler) Sample(ctx context.Context, at check.Sample) []verdict.Result {
	start := s.now()
	now := at.Now
	if now.IsZero() {
		now = start
	}
	// Whole minutes: every point in the window is a finished period.
	end := now.UTC().Truncate(time.Minute)
	out := make([]verdict.Result, len(s.checks))
	for _, batch := range s.batches {
		got, notes, err := s.fetch(ctx, batch, end)
		if err != nil && len(batch) > 1 && rejected(err) {
			// CloudWatch refused the request itself (one check's
			// expression, say): ask again per check, so the one at fault
			// gets the error and the others their verdicts.
			for _, i := range batch {
				got, notes, err := s.fetch(ctx, []int{i}, end)
				out[i] = s.checks[i].judge(got[s.checks[i].id], notes, err, end)
			}
			continue
		}
		for _, i := range batch {
			out[i] = s.checks[i].judge(got[s.checks[i].id], notes, err, end)
		}
	}
	d := s.now().Sub(start)
	for i := range out {
		out[i].Duration = d
	}
	return out
}

// fetch runs one batch's GetMetricData, following NextToken, and returns
// the series by query Id and the call's own messages.
func (s *sampler) fetch(ctx context.Context, batch []int, end time.Time) (map[string][]*series, []string, error) {
	// The call reads the longest window of the batch; each check keeps
	// its own. CloudWatch aligns periods with StartTime, so the span is a
	// whole number of every check's period: then each check's last point
	// is a whole period ending at end, and its window starts on a boundary.
	var window time.Duration
	step := time.Minute
	var queries []types.MetricDataQuery
	for _, i := range batch {
		window = max(window, s.checks[i].window)
		step = lcm(step, s.checks[i].period)
		queries = append(queries, s.checks[i].queries...)
	}
	window = (window + step - 1).Truncate(step) // round up to a whole step
	in := &cloudwatch.GetMetricDataInput{
		StartTime:         aws.Time(end.Add(-window)),
		EndTime:           aws.Time(end),
		MetricDataQueries: queries,
		ScanBy:            types.ScanByTimestampAscending,
	}
	got := map[string][]*series{}
	var notes []string
	p := cloudwatch.NewGetMetricDataPaginator(s.api, in, func(o *cloudwatch.GetMetricDataPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	pages := 0
	for p.HasMorePages() {
		pages++
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("get metric data (%d queries, %s to %s): %w", len(queries), in.StartTime.Format(time.RFC3339), end.Format(time.RFC3339), err)
		}
		for _, m := range page.Messages {
			notes = append(notes, message(m))
		}
		for _, r := range page.MetricDataResults {
			id, label := aws.ToString(r.Id), aws.ToString(r.Label)
			var ser *series
			for _, have := range got[id] {
				if have.label == label {
					ser = have
				}
			}
			if ser == nil {
				ser = &series{label: label}
				got[id] = append(got[id], ser)
			}
			n := min(len(r.Timestamps), len(r.Values))
			ser.ts = append(ser.ts, r.Timestamps[:n]...)
			ser.vals = append(ser.vals, r.Values[:n]...)
			ser.status, ser.page = r.StatusCode, pages
			for _, m := range r.Messages {
				ser.msgs = append(ser.msgs, message(m))
			}
		}
	}
	// PartialData on a page that more pages followed means "read on",
	// and we did; it only stands when the last page says so.
	for _, ss := range got {
		for _, ser := range ss {
			if ser.status == types.StatusCodePartialData && ser.page < pages {
				ser.status = types.StatusCodeComplete
			}
		}
	}
	return got, notes, nil
}

// rejected reports whether err is CloudWatch refusing the request as
// invalid — a client fault that is not throttling — rather than failing
// to answer it.
func rejected(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ValidationError", "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter":
	default:
		if ae.ErrorFault() != smithy.FaultClient {
			return false
		}
	}
	return retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}.IsErrorThrottle(err) != aws.TrueTernary
}

// lcm is the least common multiple of two positive durations.
func lcm(a, b time.Duration) time.Duration {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return time.Duration(int64(a/x) * int64(b)) // a/x is a count, not a duration
}

func message(m types.MessageData) string {
	code, val := aws.ToString(m.Code), aws.ToString(m.Value)
	switch {
	case code == "":
		return val
	case val == "":
		return code
	}
	return code + ": " + val
}

// judgement is the verdict on one series.
type judgement struct {
	verdict  verdict.Verdict
	observed string
	values   map[string]float64
}

// judge turns a check's series into its result. Several series (a SEARCH
// expression) are each judged; the worst verdict is the check's.
func (c metricCheck) judge(ss []*series, notes []string, callErr error, end time.Time) verdict.Result {
	r := verdict.Result{Target: c.target, Expected: c.expected()}
	if callErr != nil {
		r.Verdict = verdict.Error
		r.Observed = fmt.Sprintf("CloudWatch failed: %v; retry, or check the function's cloudwatch:GetMetricData permission", callErr)
		return r
	}
	if len(ss) == 0 {
		ss = []*series{{}}
	}
	from := end.Add(-c.window)
	var js []judgement
	worst := 0
	for k, ser := range ss {
		j := c.judgeSeries(ser, from, end)
		if len(ss) > 1 {
			name := ser.label
			if name == "" {
				name = "series " + strconv.Itoa(k+1)
			}
			j.observed = name + ": " + j.observed
		}
		js = append(js, j)
		if verdict.Worst(js[worst].verdict, j.verdict) != js[worst].verdict {
			worst = k
		}
	}
	r.Verdict = js[worst].verdict
	r.Values = js[worst].values
	var parts []string
	if len(js) > 1 {
		parts = append(parts, fmt.Sprintf("%d series, worst %s", len(js), js[worst].observed))
		shown := 0
		for k, j := range js {
			if k == worst {
				continue
			}
			if shown == maxShown {
				parts = append(parts, fmt.Sprintf("…and %d more series", len(js)-1-shown))
				break
			}
			parts = append(parts, j.observed)
			shown++
		}
	} else {
		parts = append(parts, js[0].observed)
	}
	parts = append(parts, notes...)
	r.Observed = strings.Join(parts, "; ")
	return r
}

// judgeSeries judges one series' points within [from, end).
func (c metricCheck) judgeSeries(ser *series, from, end time.Time) judgement {
	type point struct {
		t time.Time
		v float64
	}
	var pts []point
	for k, t := range ser.ts {
		if !t.Before(from) && t.Before(end) {
			pts = append(pts, point{t, ser.vals[k]})
		}
	}
	slices.SortStableFunc(pts, func(a, b point) int { return a.t.Compare(b.t) })
	e := env{Count: len(pts), Values: make([]float64, len(pts))}
	for k, p := range pts {
		e.Values[k] = p.v
	}
	var extra []string
	switch ser.status {
	case types.StatusCodeInternalError, types.StatusCodeForbidden:
		return judgement{
			verdict:  verdict.Error,
			observed: fmt.Sprintf("CloudWatch answered %s for this query%s; for Forbidden check cross-account access and cloudwatch:GetMetricData, otherwise retry", ser.status, msgSuffix(ser.msgs)),
		}
	case types.StatusCodePartialData:
		extra = append(extra, "CloudWatch returned partial data")
	}
	extra = append(extra, ser.msgs...)

	if e.Count < c.minSamples {
		j := judgement{
			observed: fmt.Sprintf("%d data points in the last %s; at least %d needed (minSamples) — noData: %s", e.Count, human(c.window), c.minSamples, c.noData),
			values:   map[string]float64{"count": float64(e.Count)},
		}
		switch c.noData {
		case spec.PolicyFail:
			j.verdict = verdict.Failed
			j.observed += "; is the metric still published? check the namespace, name and dimensions"
		case spec.PolicyPass:
			j.verdict = verdict.Succeeded
		default:
			j.verdict = verdict.Inconclusive
			j.observed += "; check the namespace, name and dimensions, or lower minSamples"
		}
		j.observed += noteSuffix(extra)
		return j
	}
	e.Value = e.Values[len(e.Values)-1]
	e.Min, e.Max = math.Inf(1), math.Inf(-1)
	for _, v := range e.Values {
		e.Min, e.Max, e.Sum = math.Min(e.Min, v), math.Max(e.Max, v), e.Sum+v
	}
	e.Avg = e.Sum / float64(e.Count)
	j := judgement{values: map[string]float64{"value": e.Value, "min": e.Min, "max": e.Max, "avg": e.Avg, "sum": e.Sum, "count": float64(e.Count)}}
	j.observed = fmt.Sprintf("value %s at %s; %d points in the last %s, oldest first: %s; min %s, max %s, avg %s, sum %s",
		num(e.Value), pts[len(pts)-1].t.UTC().Format("15:04Z"), e.Count, human(c.window), numList(e.Values), num(e.Min), num(e.Max), num(e.Avg), num(e.Sum))
	out, err := expr.Run(c.expect, e)
	switch b, ok := out.(bool); {
	case err != nil:
		j.verdict = verdict.Error
		j.observed += fmt.Sprintf("; expect %q failed to evaluate: %v", c.expectSrc, err)
	case !ok:
		j.verdict = verdict.Error
		j.observed += fmt.Sprintf("; expect %q returned %T, not true or false", c.expectSrc, out)
	case b && ser.status == types.StatusCodePartialData:
		// Passing on part of the data would be a guess.
		j.verdict = verdict.Inconclusive
	case b:
		j.verdict = verdict.Succeeded
	default:
		j.verdict = verdict.Failed
	}
	j.observed += noteSuffix(extra)
	return j
}

func (c metricCheck) expected() string {
	return fmt.Sprintf("%s over the last %s (period %s, at least %d data point(s), else noData: %s)", c.expectSrc, human(c.window), human(c.period), c.minSamples, c.noData)
}

func msgSuffix(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return " (" + strings.Join(msgs, "; ") + ")"
}

func noteSuffix(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

// human renders a duration as a person writes it: "5m", "1h", "1m30s".
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// numList renders values, the newest maxShown when there are more.
func numList(vs []float64) string {
	var parts []string
	if len(vs) > maxShown {
		parts = append(parts, fmt.Sprintf("…%d earlier", len(vs)-maxShown))
		vs = vs[len(vs)-maxShown:]
	}
	for _, v := range vs {
		parts = append(parts, num(v))
	}
	return strings.Join(parts, ", ")
}
