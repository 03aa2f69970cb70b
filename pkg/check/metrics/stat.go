package metrics

import (
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// The statistics CloudWatch accepts in a MetricStat: the five basic ones,
// IQM, and the extended ones — p99, p99.9; tm90, wm90, tc90, ts90; their
// range forms TM(10%:90%), TM(150:1000), TM(:95%); and PR(100:2000).
var (
	basicStats = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"}
	shortStat  = regexp.MustCompile(`^(p|tm|wm|tc|ts)(100|[0-9]{1,2}(\.[0-9]{1,10})?)$`)
	rangeStat  = regexp.MustCompile(`^(TM|WM|TC|TS)\(([0-9]+(\.[0-9]+)?%?)?:([0-9]+(\.[0-9]+)?%?)?\)$`)
	rankStat   = regexp.MustCompile(`^PR\(([0-9]+(\.[0-9]+)?)?:([0-9]+(\.[0-9]+)?)?\)$`)
)

// defaultStat is used when a metric names none.
const defaultStat = "Average"

// statHelp is the fix a person reads after an unknown statistic.
const statHelp = "use SampleCount, Average, Sum, Minimum, Maximum, IQM, a percentile such as p99 or p99.9, a trimmed or winsorized statistic such as tm90, wm90, tc90, ts90 or TM(10%:90%), or a percentile rank such as PR(:300)"

func validStat(s string) bool {
	if slices.Contains(basicStats, s) || shortStat.MatchString(s) {
		return true
	}
	if m := rangeStat.FindStringSubmatch(s); m != nil {
		return m[2] != "" || m[4] != ""
	}
	if m := rankStat.FindStringSubmatch(s); m != nil {
		return m[1] != "" || m[3] != ""
	}
	return false
}

func validUnit(u string) bool {
	return slices.Contains(types.StandardUnit("").Values(), types.StandardUnit(u))
}
