package remediate_test

import (
	"testing"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// An alert drill sets an alarm to ALARM with SetAlarmState and the drill
// reason. CloudWatch's SetAlarmState invokes the alarm's actions like a
// real transition ("When the updated state differs from the previous
// value, the action configured for the appropriate state is invoked",
// CloudWatch API Reference, SetAlarmState:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html),
// so remediate receives it. Recognised by the reason CloudWatch reports,
// it is decided in dry run: never a call, whatever the policy says.
func TestDrillAlarmIsDecidedInDryRun(t *testing.T) {
	tests := []struct {
		name string
		// cloudWatchReason is the state reason DescribeAlarms reports;
		// messageReason the one the delivery claims.
		cloudWatchReason, messageReason string
		want                            remediate.Decision
		wantCalls                       int
	}{
		{"drill reason from CloudWatch", contract.DrillReason, contract.DrillReason, remediate.DryRun, 0},
		{"drill reason from CloudWatch, message says otherwise", contract.DrillReason, "Threshold Crossed", remediate.DryRun, 0},
		// The message is never trusted: claiming the drill reason does not
		// stop a real remediation of a real alarm.
		{"drill reason only in the message", "Threshold Crossed: 3 datapoints above 80.0", contract.DrillReason, remediate.Fixed, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, shippedPolicy)
			a := ecsAlarm("api", "ALARM", start)
			def := a
			def.Reason = tc.cloudWatchReason
			r.cw.define(def)
			a.Reason = tc.messageReason
			out := r.handle(t, a)
			if out.Decision != tc.want {
				t.Errorf("Handle(%s, CloudWatch reason %q, message reason %q) = %s (%s); want %s", a.Name, tc.cloudWatchReason, tc.messageReason, out.Decision, out.Reason, tc.want)
			}
			if n := r.ecs.updateCount(); n != tc.wantCalls {
				t.Errorf("UpdateService called %d times; want %d", n, tc.wantCalls)
			}
			trail := r.trail(t, a)
			if len(trail) == 0 {
				t.Fatal("no audit record")
			}
			last := trail[len(trail)-1]
			wantDrill := ""
			if contract.IsDrill(tc.cloudWatchReason) {
				wantDrill = "true"
			}
			if last["drill"] != wantDrill {
				t.Errorf("audit record drill = %q; want %q (record %v)", last["drill"], wantDrill, last)
			}
		})
	}
}

func TestIsDrill(t *testing.T) {
	tests := []struct {
		reason string
		want   bool
	}{
		{contract.DrillReason, true},
		{contract.DrillRestoreReason, true},
		{"postdeploy drills are fun", false},
		{"Threshold Crossed: postdeploy drill", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := contract.IsDrill(tc.reason); got != tc.want {
			t.Errorf("IsDrill(%q) = %v; want %v", tc.reason, got, tc.want)
		}
	}
}
