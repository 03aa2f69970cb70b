package metrics

import (
	"testing"

	"github.com/postdeploy/postdeploy/pkg/check"
)

func TestValidStat(t *testing.T) {
	good := []string{"Average", "Sum", "SampleCount", "Minimum", "Maximum", "IQM", "p99", "p99.9", "p0", "p100", "tm90", "wm99.5", "tc10", "ts50", "TM(10%:90%)", "TM(150:1000)", "TM(:95%)", "WM(5%:)", "TC(1:2)", "TS(10%:90%)", "PR(:300)", "PR(100:2000)"}
	bad := []string{"", "average", "avg", "P99", "p101", "p99.", "tm", "TM()", "TM(:)", "PR(10%:)", "PR(:)", "p-1", "Sum "}
	for _, s := range good {
		if !check.ValidStatistic(s) {
			t.Errorf("check.ValidStatistic(%q) = false; want true", s)
		}
	}
	for _, s := range bad {
		if check.ValidStatistic(s) {
			t.Errorf("check.ValidStatistic(%q) = true; want false", s)
		}
	}
	if !validUnit("Count") || !validUnit("Milliseconds") || validUnit("ms") || !check.ValidStatistic(defaultStat) {
		t.Error("validUnit(Count, Milliseconds) = true and validUnit(ms) = false, and the default stat valid: not so")
	}
}
