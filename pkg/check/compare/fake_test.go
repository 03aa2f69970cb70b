package compare

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// fake is a CloudWatch that answers GetMetricData from generator
// functions, one per metric (keyed by its dimensions), with a point at
// StartTime + k×Period for every period in [StartTime, EndTime) where the
// generator has a value. It pages its answer pageSize points at a time
// when pageSize > 0, and records every input.
type fake struct {
	mu       sync.Mutex
	series   map[string]func(t time.Time) (float64, bool)
	err      error
	pageSize int
	status   map[string]types.StatusCode // per query id, default Complete
	// mangle, when set, edits each output before it is returned.
	mangle func(*cloudwatch.GetMetricDataOutput)
	calls  []cloudwatch.GetMetricDataInput
}

var _ API = (*fake)(nil)

// dimsKey names a metric by its dimensions: "TargetGroup=blue".
func dimsKey(dims map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		parts = append(parts, k+"="+dims[k])
	}
	return strings.Join(parts, ",")
}

func (f *fake) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, *in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	type entry struct {
		q int
		t time.Time
		v float64
	}
	var all []entry
	for qi, q := range in.MetricDataQueries {
		dims := map[string]string{}
		for _, d := range q.MetricStat.Metric.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		gen := f.series[dimsKey(dims)]
		if gen == nil {
			continue
		}
		p := time.Duration(aws.ToInt32(q.MetricStat.Period)) * time.Second
		for t := aws.ToTime(in.StartTime); t.Before(aws.ToTime(in.EndTime)); t = t.Add(p) {
			if v, ok := gen(t); ok {
				all = append(all, entry{qi, t, v})
			}
		}
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := len(all)
	if f.pageSize > 0 && start+f.pageSize < end {
		end = start + f.pageSize
	}
	out := &cloudwatch.GetMetricDataOutput{}
	results := make([]types.MetricDataResult, len(in.MetricDataQueries))
	for qi, q := range in.MetricDataQueries {
		st := types.StatusCodeComplete
		if s, ok := f.status[aws.ToString(q.Id)]; ok {
			st = s
		}
		results[qi] = types.MetricDataResult{Id: q.Id, Label: q.Id, StatusCode: st}
	}
	for _, e := range all[start:end] {
		results[e.q].Timestamps = append(results[e.q].Timestamps, e.t)
		results[e.q].Values = append(results[e.q].Values, e.v)
	}
	out.MetricDataResults = results
	if end < len(all) {
		out.NextToken = aws.String(strconv.Itoa(end))
		for i := range out.MetricDataResults {
			if out.MetricDataResults[i].StatusCode == types.StatusCodeComplete {
				out.MetricDataResults[i].StatusCode = types.StatusCodePartialData
			}
		}
	}
	if f.mangle != nil {
		f.mangle(out)
	}
	return out, nil
}

// noisy returns a generator of values around level with relative noise
// sd (normal), the same value for the same seed and time.
func noisy(seed uint64, level, sd float64) func(time.Time) (float64, bool) {
	return func(t time.Time) (float64, bool) {
		r := rand.New(rand.NewPCG(seed, uint64(t.Unix())))
		return level * (1 + sd*r.NormFloat64()), true
	}
}
