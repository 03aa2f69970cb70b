// Package metrics is the "metric" check kind: it reads CloudWatch with
// GetMetricData — one metric, or a metric math expression over several —
// and judges the data points of a recent window with an expect expression.
//
// # Spec
//
//	checks:
//	  - name: target-5xx
//	    metric:
//	      namespace: AWS/ApplicationELB
//	      name: HTTPCode_Target_5XX_Count
//	      dimensions: {LoadBalancer: app/prod/0123456789abcdef}
//	      stat: Sum                 # default Average
//	      unit: Count               # optional
//	      period: 1m                # default 1m; a multiple of 60s
//	      window: 5m                # default 5m; a whole number of periods
//	    expect: "max < 5"
//	  - name: error-rate
//	    metric:
//	      expression: "100*errors/requests"
//	      metrics:
//	        errors:   {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, stat: Sum, dimensions: {LoadBalancer: app/prod/0123456789abcdef}}
//	        requests: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum, dimensions: {LoadBalancer: app/prod/0123456789abcdef}}
//	    expect: "value < 5"
//	    noData: inconclusive        # fail | pass | inconclusive (default)
//	    minSamples: 3               # default 1
//
// A metric is namespace, name, optional dimensions, stat and unit. stat is
// a CloudWatch statistic: SampleCount, Average, Sum, Minimum, Maximum, IQM,
// a percentile (p99, p99.9), a trimmed or winsorized statistic (tm90,
// wm90, tc90, ts90, TM(10%:90%), TM(150:1000)) or a percentile rank
// (PR(:300)). unit is a CloudWatch unit name (Count, Milliseconds, …).
//
// expression is CloudWatch metric math. It refers to the metrics by their
// ids in metrics, which start with a lower-case letter and hold letters,
// digits and "_". Functions (SUM, FILL, IF, …) and keywords (REPEAT,
// LINEAR, DESC) are written in capitals as CloudWatch documents them.
// METRICS() means this check's metrics and METRICS('s') those whose id
// contains s. Metrics Insights queries (SELECT …) are not supported.
//
// # expect
//
// expect is an expr-lang (github.com/expr-lang/expr) expression that must
// be true for the sample to pass. It sees the data points of the window,
// one per period, oldest first:
//
//	value   float64    the newest data point
//	values  []float64  every data point, oldest first
//	min     float64    the smallest
//	max     float64    the largest
//	avg     float64    their mean
//	sum     float64    their sum
//	count   int        how many there are
//
// Examples: "value < 5", "max < 500", "avg < 200 && count >= 3",
// "all(values, # < 1)". The names min, max and sum are these variables,
// not expr's functions of the same names.
//
// # Verdicts
//
//   - Succeeded / Failed: expect is true / false.
//   - noData: a window with fewer than minSamples data points (CloudWatch
//     returns no point for a period without data) is judged by the noData
//     policy: fail → Failed, pass → Succeeded, inconclusive → Inconclusive.
//   - Error: GetMetricData failed (throttled, 5xx, no permission), CloudWatch
//     answered InternalError or Forbidden for the check's query, or expect
//     failed at run time (values[9] of five points).
//   - Partial data: NextToken is followed to the end, so PartialData on a
//     page that more pages followed is not partial. If the last page still
//     says PartialData, a failing expect is Failed (those points exist), but
//     a passing one is Inconclusive: passing on part of the data would be a
//     guess. CloudWatch's messages (ArithmeticError, MaxQueryTimeRangeExceed,
//     …) are added to the evidence.
//   - An expression returning several series (SEARCH) has each judged; the
//     worst verdict is the check's and the evidence names each series.
//
// The evidence says what was read (the metric, or the expression and its
// metrics), the newest value and when, the window's values (the newest ten)
// with min, max, avg and sum, the expect expression, the window and the
// period. Values carries value, min, max, avg, sum and count.
//
// # Cost and timing
//
// One sample sends every metric check of the spec in one GetMetricData
// call, more only when their queries pass 500 (a check is never split;
// one check may have at most 499 metrics). Query ids are made unique per
// check: checks[3]'s result is m3 and its metric errors is m3_errors, and
// its expression is rewritten to match; only m3 has ReturnData. The call
// ends at the sample time rounded down to the minute, so every point is a
// finished period, and starts the longest window earlier, rounded up to a
// whole number of every check's period (CloudWatch aligns periods with
// StartTime); each check judges only its own window. NextToken is followed
// with ScanBy TimestampAscending. If CloudWatch rejects the whole request
// as invalid (a ValidationError: one check's expression, say), the checks
// are asked again one by one so only the faulty one ends in Error; a
// throttled request is not retried here. The function needs
// cloudwatch:GetMetricData.
package metrics
