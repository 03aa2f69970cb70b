package metrics

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/postdeploy/postdeploy/pkg/check/expect"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

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
	} else if prog, err := expect.Compile(c.expectSrc, env{}); err != nil {
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
	if !check.ValidStatistic(stat) {
		errs.Add(spec.Field(path, "stat"), "%q is not a CloudWatch statistic: %s", ms.Stat, check.StatisticHelp)
	}
	if ms.Unit != "" && !validUnit(ms.Unit) {
		errs.Add(spec.Field(path, "unit"), "%q is not a CloudWatch unit (e.g. Count, Seconds, Milliseconds, Percent, Bytes)", ms.Unit)
	}
	dims := make([]types.Dimension, 0, len(ms.Dimensions))
	for _, k := range slices.Sorted(maps.Keys(ms.Dimensions)) {
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(ms.Dimensions[k])})
	}
	return types.MetricDataQuery{
		Id:        aws.String(id),
		AccountId: check.AccountID(ms.AccountID),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(ms.Namespace), MetricName: aws.String(ms.Name), Dimensions: dims},
			Period: period,
			Stat:   aws.String(stat),
			Unit:   types.StandardUnit(ms.Unit),
		},
	}, errs
}
