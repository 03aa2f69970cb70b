package metrics

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// defaultStat is used when a metric names none. Which statistics are
// valid is check.ValidStatistic's to say, shared with the compare kind.
const defaultStat = "Average"

func validUnit(u string) bool {
	return slices.Contains(types.StandardUnit("").Values(), types.StandardUnit(u))
}
