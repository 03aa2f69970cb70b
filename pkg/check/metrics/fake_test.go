package metrics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

type point struct {
	t time.Time
	v float64
}

// fakeSeries is one time series a query returns.
type fakeSeries struct {
	label  string
	points []point
}

// fakeCW answers GetMetricData from canned series keyed by query Id. It
// enforces the request rules the sampler must respect (at most 500
// queries; unique Ids matching CloudWatch's pattern; expressions naming
// only Ids of the same request; ScanBy TimestampAscending) and paginates
// pageSize data points at a time with NextToken.
type fakeCW struct {
	series   map[string][]fakeSeries
	status   map[string]types.StatusCode
	messages []types.MessageData // top-level, on the first page
	pageSize int                 // data points per page; 0: all
	// fail, when set, may fail a call before it is answered.
	fail   func(in *cloudwatch.GetMetricDataInput) error
	calls  int
	inputs []cloudwatch.GetMetricDataInput
}

var _ API = (*fakeCW)(nil)

func validation(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: msg, Fault: smithy.FaultClient}
}

func (f *fakeCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.calls++
	f.inputs = append(f.inputs, *in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.fail != nil {
		if err := f.fail(in); err != nil {
			return nil, err
		}
	}
	if n := len(in.MetricDataQueries); n == 0 || n > 500 {
		return nil, validation(fmt.Sprintf("%d MetricDataQueries; 1-500 allowed", n))
	}
	if in.ScanBy != types.ScanByTimestampAscending {
		return nil, validation("this fake wants ScanBy TimestampAscending")
	}
	start, end := aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)
	if !start.Before(end) {
		return nil, validation("StartTime must be before EndTime")
	}
	var ids []string
	for _, q := range in.MetricDataQueries {
		id := aws.ToString(q.Id)
		if !idPattern.MatchString(id) || slices.Contains(ids, id) {
			return nil, validation(fmt.Sprintf("bad or duplicate Id %q", id))
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, q := range in.MetricDataQueries {
		if q.Expression != nil {
			if _, err := rewriteExpression(*q.Expression, ids, func(s string) string { return s }, ""); err != nil {
				return nil, validation("expression " + *q.Expression + ": " + err.Error())
			}
		}
	}
	// Every returned point, in request order, then paginated.
	type flat struct {
		id, label string
		p         point
	}
	var all []flat
	var empty []string
	for _, q := range in.MetricDataQueries {
		if !aws.ToBool(q.ReturnData) && q.ReturnData != nil {
			continue
		}
		id := aws.ToString(q.Id)
		n := 0
		for _, s := range f.series[id] {
			for _, p := range s.points {
				if !p.t.Before(start) && p.t.Before(end) {
					all = append(all, flat{id, s.label, p})
					n++
				}
			}
		}
		if n == 0 {
			empty = append(empty, id)
		}
	}
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	to := len(all)
	out := &cloudwatch.GetMetricDataOutput{}
	if f.pageSize > 0 && from+f.pageSize < len(all) {
		to = from + f.pageSize
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	if from == 0 {
		out.Messages = f.messages
		for _, id := range empty {
			out.MetricDataResults = append(out.MetricDataResults, types.MetricDataResult{Id: aws.String(id), Label: aws.String(id), StatusCode: f.statusOf(id)})
		}
	}
	for _, p := range all[from:to] {
		k := slices.IndexFunc(out.MetricDataResults, func(r types.MetricDataResult) bool {
			return aws.ToString(r.Id) == p.id && aws.ToString(r.Label) == p.label
		})
		if k < 0 {
			out.MetricDataResults = append(out.MetricDataResults, types.MetricDataResult{Id: aws.String(p.id), Label: aws.String(p.label), StatusCode: f.statusOf(p.id)})
			k = len(out.MetricDataResults) - 1
		}
		r := &out.MetricDataResults[k]
		r.Timestamps = append(r.Timestamps, p.p.t)
		r.Values = append(r.Values, p.p.v)
		if out.NextToken != nil {
			r.StatusCode = types.StatusCodePartialData
		}
	}
	return out, nil
}

func (f *fakeCW) statusOf(id string) types.StatusCode {
	if s, ok := f.status[id]; ok {
		return s
	}
	return types.StatusCodeComplete
}

var (
	now = time.Date(2026, 11, 22, 8, 10, 30, 0, time.UTC)
	end = now.Truncate(time.Minute)
	at  = check.Sample{BakeStart: now.Add(-10 * time.Minute), Now: now, Number: 20}
)

// last returns vs as one-minute points ending at the sample's end,
// oldest first.
func last(vs ...float64) []fakeSeries {
	ps := make([]point, len(vs))
	for i, v := range vs {
		ps[i] = point{end.Add(-time.Duration(len(vs)-i) * time.Minute), v}
	}
	return []fakeSeries{{label: "s", points: ps}}
}

var errorsMetric = spec.MetricStat{Namespace: "AWS/ApplicationELB", Name: "HTTPCode_Target_5XX_Count", Dimensions: map[string]string{"LoadBalancer": "app/prod/1"}, Stat: "Sum"}

func single(expect string) spec.Check {
	return spec.Check{Name: "errors", Expect: expect, Metric: &spec.Metric{MetricStat: errorsMetric}}
}

func ratio(expect string) spec.Check {
	return spec.Check{Name: "error-rate", Expect: expect, Metric: &spec.Metric{
		Expression: "100*errors/requests",
		Metrics: map[string]spec.MetricStat{
			"errors":   errorsMetric,
			"requests": {Namespace: "AWS/ApplicationELB", Name: "RequestCount", Stat: "Sum"},
		},
	}}
}

func itemsOf(cs ...spec.Check) []check.Item {
	its := make([]check.Item, len(cs))
	for i, c := range cs {
		its[i] = check.Item{Index: i, Check: c}
	}
	return its
}

func newSampler(t testing.TB, f *fakeCW, cs ...spec.Check) check.Sampler {
	t.Helper()
	s, errs := New(Options{API: f}, itemsOf(cs...))
	if len(errs) > 0 {
		t.Fatalf("New errors: %v", errs)
	}
	return s
}
