package remediate_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
)

// The notifications people read, one golden file per decision. Run
// `go test ./pkg/remediate -run Golden -update` after an intended change
// and review the diff.
func TestNotificationsGolden(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		run   func(t *testing.T, r *rig)
	}{
		{"fixed", nil, func(t *testing.T, r *rig) { r.handle(t, ecsAlarm("api", "ALARM", start)) }},
		{"skipped-cooldown", nil, func(t *testing.T, r *rig) {
			r.handle(t, ecsAlarm("api", "ALARM", start))
			r.n.msgs = nil
			r.clk.Add(10 * time.Minute)
			r.handle(t, ecsAlarm("api", "ALARM", start.Add(10*time.Minute)))
		}},
		{"skipped-not-opted-in", nil, func(t *testing.T, r *rig) { r.handle(t, ecsAlarm("billing", "ALARM", start)) }},
		{"dry-run", func(r *rig) { r.e.DryRun = true }, func(t *testing.T, r *rig) { r.handle(t, ecsAlarm("api", "ALARM", start)) }},
		{"not-fixed-escalated", func(r *rig) { r.cw.afterAction = []string{"ALARM"} }, func(t *testing.T, r *rig) {
			r.handle(t, ecsAlarm("api", "ALARM", start))
		}},
		{"unverified-5xx", func(r *rig) {
			r.ecs.updateErr = &smithy.GenericAPIError{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Fault: smithy.FaultServer}
		}, func(t *testing.T, r *rig) { r.handle(t, ecsAlarm("api", "ALARM", start)) }},
		{"refused-other-account", nil, func(t *testing.T, r *rig) {
			r.cw.define(ecsAlarm("api", "ALARM", start))
			a := ecsAlarm("api", "ALARM", start)
			a.ARN, a.AccountID = "arn:aws:cloudwatch:us-east-1:999999999999:alarm:prod-api-cpu-high", "999999999999"
			r.handle(t, a)
		}},
		{"recovered", nil, func(t *testing.T, r *rig) {
			r.handle(t, ecsAlarm("api", "ALARM", start))
			r.n.msgs = nil
			r.handle(t, ecsAlarm("api", "OK", start.Add(7*time.Minute)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No runbook in this policy: the files hold what this
			// package writes, not pkg/notify's runbook text.
			r := newRig(t, testPolicy+"    description: Fresh tasks clear a stuck or leaking task.\n")
			if tt.setup != nil {
				tt.setup(r)
			}
			tt.run(t, r)
			var b strings.Builder
			for _, m := range r.n.msgs {
				b.WriteString("kind: " + string(m.Kind) + "\nsubject: " + m.Subject + "\n\n" + m.Body + "\n----\n")
			}
			golden.Check(t, filepath.Join("testdata", "golden", tt.name+".txt"), b.String())
		})
	}
}
