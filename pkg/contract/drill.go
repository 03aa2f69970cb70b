package contract

import "strings"

// DrillReason is the state reason the alert drill (pkg/drill) sets an
// alarm to ALARM with, through CloudWatch's SetAlarmState. Remediate
// reads an alarm's state reason back from CloudWatch (DescribeAlarms,
// never from the message) and decides on a drill alarm in dry run. Only
// a principal allowed cloudwatch:SetAlarmState on the alarm can set it.
const DrillReason = "postdeploy drill"

// DrillRestoreReason is the reason the drill restores an alarm's state
// with afterwards.
const DrillRestoreReason = DrillReason + ": restored to the state before the drill"

// IsDrill reports whether an alarm state reason, as CloudWatch reports
// it, is the drill's: DrillReason itself or DrillReason followed by ":".
func IsDrill(reason string) bool {
	return reason == DrillReason || strings.HasPrefix(reason, DrillReason+":")
}
