package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

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
				out[i] = s.checks[i].judge(ctx, got[s.checks[i].id], notes, err, end)
			}
			continue
		}
		for _, i := range batch {
			out[i] = s.checks[i].judge(ctx, got[s.checks[i].id], notes, err, end)
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
