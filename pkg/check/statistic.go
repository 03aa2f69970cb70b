package check

import (
	"regexp"
	"slices"
)

// The statistics CloudWatch documents for a MetricStat
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html):
// the five basic ones and IQM; percentiles p0–p100 and the short trimmed
// forms tm90, wm90, tc90, ts90, up to 10 decimal places; the range forms
// TM(10%:90%), TM(150:1000), TM(:95%) (likewise WM, TC, TS), with
// percentages or absolute values and at least one bound; and the
// percentile rank PR(:300), PR(100:2000), with absolute values only.
var (
	basicStatistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"}
	shortStatistic  = regexp.MustCompile(`^(p|tm|wm|tc|ts)(100|[0-9]{1,2}(\.[0-9]{1,10})?)$`)
	rangeStatistic  = regexp.MustCompile(`^(TM|WM|TC|TS)\(([0-9]+(\.[0-9]+)?%?)?:([0-9]+(\.[0-9]+)?%?)?\)$`)
	rankStatistic   = regexp.MustCompile(`^PR\(([0-9]+(\.[0-9]+)?)?:([0-9]+(\.[0-9]+)?)?\)$`)
)

// StatisticHelp is the fix a person reads after a statistic
// ValidStatistic refuses.
const StatisticHelp = "use SampleCount, Average, Sum, Minimum, Maximum, IQM, a percentile such as p99 or p99.9, a trimmed or winsorized statistic such as tm90, wm90, tc90, ts90 or TM(10%:90%), or a percentile rank such as PR(:300)"

// ValidStatistic reports whether s is a statistic CloudWatch accepts in a
// MetricStat, e.g. "Sum", "p99.9", "tm90" or "TM(10%:90%)". The metric and
// compare check kinds both validate their stat with it.
func ValidStatistic(s string) bool {
	if slices.Contains(basicStatistics, s) || shortStatistic.MatchString(s) {
		return true
	}
	if m := rangeStatistic.FindStringSubmatch(s); m != nil {
		return m[2] != "" || m[4] != ""
	}
	if m := rankStatistic.FindStringSubmatch(s); m != nil {
		return m[1] != "" || m[3] != ""
	}
	return false
}
