package metrics

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/expect"
	"github.com/postdeploy/postdeploy/pkg/spec"
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

// metricCheck is one metric check, ready to query and judge.
type metricCheck struct {
	id         string // the Id of the query whose data is judged
	queries    []types.MetricDataQuery
	expect     *expect.Program
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
