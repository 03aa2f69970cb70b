package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// respondVulnTicket: Inspector's finding on the deployed image
// (events/respond-inspector-finding.json) as HIGH opens one OpsCenter
// OpsItem — delivered twice, still one; re-scored CRITICAL it updates
// the OpsItem (priority 1); reported CLOSED, and confirmed CLOSED by
// Inspector2's ListFindings, it resolves the OpsItem. The stand-in holds
// the finding as Inspector2 reports it once fixed.
func respondVulnTicket(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	raw, err := os.ReadFile(filepath.Join(r.root, "events", "respond-inspector-finding.json"))
	if err != nil {
		return errorResult(fmt.Errorf("read the finding event: %w", err))
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return errorResult(err)
	}
	detail, _ := ev["detail"].(map[string]any)
	arn, _ := detail["findingArn"].(string)
	si, err := standin.New(standin.Scenario{InspectorFindings: []standin.InspectorFinding{{
		ARN: arn, Title: "CVE-2022-3602 - openssl", Severity: "CRITICAL", Status: "CLOSED", Type: "PACKAGE_VULNERABILITY", VulnerabilityID: "CVE-2022-3602",
	}}})
	if err != nil {
		return errorResult(err)
	}
	if err := si.Start(); err != nil {
		return errorResult(err)
	}
	defer si.Close()
	table, err := r.freshTable(ctx)
	if err != nil {
		return errorResult(err)
	}
	fn, err := r.start(ctx, "respond", si, table, config.EnvTickets+"="+config.TicketsOpsCenter)
	if err != nil {
		return errorResult(err)
	}
	defer func() { _ = fn.Close() }()

	deliver := func(step string, edit func(d map[string]any)) {
		d := map[string]any{}
		for k, v := range detail {
			d[k] = v
		}
		edit(d)
		ev["detail"] = d
		b, _ := json.Marshal(ev)
		out, err := fn.Invoke(ctx, b)
		res.Invocations++
		switch {
		case err != nil:
			res.problem("%s: %v", step, err)
		case out.Err != nil:
			res.problem("%s: function error %v", step, out.Err)
		}
	}
	// As first reported: HIGH, no exploit known, a low EPSS — P2 on the
	// critical prod-api image.
	high := func(d map[string]any) {
		d["severity"], d["inspectorScore"], d["exploitAvailable"], d["epss"] = "HIGH", 7.5, "NO", map[string]any{"score": 0.01}
		delete(d, "exploitabilityDetails")
	}
	deliver("HIGH", high)
	deliver("HIGH again (duplicate delivery)", high)
	items := si.OpsItems()
	if len(items) != 1 {
		res.problem("%d OpsItems after the HIGH finding delivered twice; want 1", len(items))
		return res
	}
	opened := items[0]
	deliver("re-scored CRITICAL", func(map[string]any) {})
	deliver("CLOSED", func(d map[string]any) { d["status"] = "CLOSED" })
	res.Elapsed = time.Since(start)
	res.AWSCalls = len(si.Calls())

	items = si.OpsItems()
	if len(items) != 1 {
		res.problem("%d OpsItems at the end; want the one", len(items))
		return res
	}
	it := items[0]
	res.Got = fmt.Sprintf("1 OpsItem: opened P%d, updated P%d, %s", opened.Priority, it.Priority, it.Status)
	if opened.Priority != 2 || it.Priority != 1 || it.Status != "Resolved" || it.Updates < 2 {
		res.problem("OpsItem went %d → %d, %s after %d updates; want priority 2 → 1, Resolved, ≥ 2 updates", opened.Priority, it.Priority, it.Status, it.Updates)
	}
	// respond's role may update only OpsItems tagged so (infra/stack/vuln.go).
	if it.Tags["postdeploy:managed-by"] != "postdeploy" {
		res.problem("OpsItem tags %v; want postdeploy:managed-by=postdeploy, the tag respond's UpdateOpsItem grant requires", it.Tags)
	}
	if it.OperationalData["postdeploy:slaDue"] == "" || it.OperationalData["postdeploy:riskScore"] == "" || it.OperationalData["/aws/resources"] == "" {
		res.problem("the OpsItem lacks its SLA due date, risk score or resource: %v", it.OperationalData)
	}
	if len(si.CallsTo(standin.Inspector2, "ListFindings")) == 0 {
		res.problem("respond resolved the finding without asking Inspector2")
	}
	res.NoteTitle = "The OpsItem respond filed, updated and resolved"
	res.Note = fmt.Sprintf("%s %q\npriority %d, severity %s, status %s\nrisk score %s, SLA due %s\nresolution: %s",
		it.ID, it.Title, it.Priority, it.Severity, it.Status, it.OperationalData["postdeploy:riskScore"], it.OperationalData["postdeploy:slaDue"], it.OperationalData["postdeploy:resolution"])
	return res
}
