package runbook

import (
	"strings"
	"testing"
)

// TestSuiteAlarmResponseColumn: the runbook's response column says respond
// does not notify the suite's own alarms (named <stack>-…, notifying the
// escalation topic), as respond behaves; an alarm of a similar name
// without the prefix, or with it but notifying another topic, keeps the
// runbook respond attaches to it.
func TestSuiteAlarmResponseColumn(t *testing.T) {
	lambdaErrors := []MetricName{{Namespace: "AWS/Lambda", Name: "Errors"}}
	tests := []struct {
		name  string
		alarm Alarm
		want  string
	}{
		{"suite alarm", Alarm{Name: "Postdeploy-respond-errors", Metrics: lambdaErrors, AlarmTopics: []string{"postdeploy Escalations"}}, SuiteAlarmResponse},
		{"similar name without the prefix", Alarm{Name: "Postdeployment-respond-errors", Metrics: lambdaErrors, AlarmTopics: []string{"postdeploy Escalations"}}, "`application-errors`"},
		{"the prefix, but notifying the application topic", Alarm{Name: "Postdeploy-checkout-errors", Metrics: lambdaErrors, AlarmTopics: []string{"postdeploy Application Alerts"}}, "`application-errors`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := procedure("Postdeploy", tt.alarm); !strings.Contains(got, tt.want) {
				t.Errorf("procedure(Postdeploy, %s → %v) = %q; want it to say %q", tt.alarm.Name, tt.alarm.AlarmTopics, got, tt.want)
			}
		})
	}
}
