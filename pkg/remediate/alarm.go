package remediate

import (
	"sort"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// Alarm is the alarm state change the engine decides on, decoded by
// package contract from SNS (contract.DecodeSNSMessage) or EventBridge
// (contract.AlarmFromEventBridge).
type Alarm = contract.Alarm

// Metric is one metric or expression an Alarm evaluates.
type Metric = contract.Metric

// dimensionNames lists an alarm's dimension names, sorted (for messages).
func dimensionNames(d map[string]string) []string {
	names := make([]string, 0, len(d))
	for k := range d {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
