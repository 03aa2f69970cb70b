package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/postdeploy/postdeploy/pkg/check/expect"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// env is what an expect expression sees.
type env struct {
	// Context carries the evaluation's deadline; expressions cannot name
	// it.
	expect.Context
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

// judgement is the verdict on one series.
type judgement struct {
	verdict  verdict.Verdict
	observed string
	values   map[string]float64
}

// judge turns a check's series into its result. Several series (a SEARCH
// expression) are each judged; the worst verdict is the check's. ctx
// bounds the expect expressions (expect.DefaultTimeout each).
func (c metricCheck) judge(ctx context.Context, ss []*series, notes []string, callErr error, end time.Time) verdict.Result {
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
		j := c.judgeSeries(ctx, ser, from, end)
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
func (c metricCheck) judgeSeries(ctx context.Context, ser *series, from, end time.Time) judgement {
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
	out, err := c.expect.Run(ctx, expect.DefaultTimeout, e)
	var (
		te *expect.TimeoutError
		be *expect.BudgetError
	)
	switch b, ok := out.(bool); {
	case errors.As(err, &te), errors.As(err, &be):
		j.verdict = verdict.Error
		j.observed += "; " + err.Error()
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
