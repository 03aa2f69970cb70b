package notify

import (
	"slices"
	"testing"
)

// The monitoring runbook (infra/runbook) lists every alert type from
// RunbookIDs with all four parts: each runbook must be listed once and
// have them.
func TestEveryRunbookIsListedAndComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range RunbookIDs {
		if seen[id] {
			t.Errorf("RunbookIDs lists %q twice", id)
		}
		seen[id] = true
		rb, ok := Runbooks[id]
		if !ok {
			t.Errorf("RunbookIDs lists %q, which Runbooks does not have", id)
			continue
		}
		if rb.ID != id || rb.Title == "" || rb.Means == "" || len(rb.Diagnose) == 0 || rb.Escalation == "" || len(rb.Remediation) == 0 {
			t.Errorf("Runbooks[%q] = %+v; want ID %q and a Title, Means, Diagnose, Escalation and Remediation", id, rb, id)
		}
	}
	for id := range Runbooks {
		if !slices.Contains(RunbookIDs, id) {
			t.Errorf("Runbooks[%q] is not in RunbookIDs: the monitoring runbook would leave it out", id)
		}
	}
}
