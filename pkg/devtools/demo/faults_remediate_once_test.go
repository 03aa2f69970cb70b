package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// A mutating call is sent once per decision. The real remediate
// bootstrap, under the Lambda Runtime API harness, against the stand-in
// and dynalite: ECS takes every UpdateService (the forced deployment is
// made, the call recorded) and answers 500 InternalFailure
// (FaultServerErrorAfterApply) — the documented meaning of
// InternalFailure, "The request processing has failed because of an
// unknown error, exception or failure" (Common Errors, every AWS API
// reference), says nothing of whether the change was made. Every
// UpdateService that reaches ECS is counted, failed ones included: the
// SDK must not retry it (awsclient.MutatingRetryer), the engine must not
// repeat it, and Lambda's retries of the delivery must not either. The
// decision is audited as unverified (or failed), with called=true, and
// escalated to people.
func TestFaultRemediateMutatingCallOnce(t *testing.T) {
	row := &matrixRow{Function: "remediate", Fault: "5xx after the call landed", Injected: "UpdateService applied, then 500, always",
		Promise: "1 UpdateService in all, audited unverified/failed, not retried"}
	record(t, row)
	defer func() { t.Logf("fault matrix row: %+v", *row) }()
	fn, si, table := startOpsTable(t, "remediate", "remediate.yaml", func(si *standin.Server) {
		si.Inject(standin.ECS, "UpdateService", standin.Fault{Kind: standin.FaultServerErrorAfterApply})
	}, 0)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go clearAlarmAfterFix(ctx, si)
	payload, err := alarmEvent(shared, si)
	if err != nil {
		t.Fatal(err)
	}
	results := deliver(t, fn, payload)
	row.Invocations = len(results)
	countCalls(si, row)
	if c := crashed(results); len(c) > 0 {
		t.Errorf("remediate crashed: %v", c)
	}

	calls := si.CallsTo(standin.ECS, "UpdateService")
	var decisions []string
	var logs strings.Builder
	for _, r := range results {
		decisions = append(decisions, logField(r.Logs, "alarm handled", "decision")...)
		logs.Write(r.Logs)
	}
	trail, err := state.New(mustDynalite(t).Client(), table).Trail(context.Background(), cpuAlarmARN, 0)
	if err != nil {
		t.Fatalf("read the audit trail: %v", err)
	}
	var audited []string
	for _, rec := range trail {
		audited = append(audited, rec.Attrs["decision"]+" called="+rec.Attrs["called"])
	}
	row.Got = fmt.Sprintf("%d UpdateService (%s), decisions %v, audited %v", len(calls), errorCodes(calls), decisions, audited)

	if len(calls) != 1 {
		t.Errorf("UpdateService reached ECS %d times (%s); want exactly 1: a call answered 5xx may have landed and is never sent again\nlogs:\n%s", len(calls), errorCodes(calls), logs.String())
	}
	if len(calls) > 0 && (calls[0].ErrorCode != "InternalFailure" || calls[0].Fault != standin.FaultServerErrorAfterApply.String()) {
		t.Errorf("UpdateService call = %+v; want the injected InternalFailure after apply", calls[0])
	}
	if len(results) != 1 || results[0].Err != nil {
		t.Errorf("invocations = %d, last error %v; want 1 with no function error (a retry of the delivery could act again)", len(results), errText(results[len(results)-1].Err))
	}
	if len(trail) != 1 || (trail[0].Attrs["decision"] != "unverified" && trail[0].Attrs["decision"] != "failed") || trail[0].Attrs["called"] != "true" {
		t.Errorf("audit trail = %v; want one unverified (or failed) decision with called=true", audited)
	}
	if got := publishedTo(si, notify.Escalation); len(got) != 1 {
		t.Errorf("escalations = %d; want 1: someone must check whether the deployment was forced", len(got))
	}
}

// errorCodes lists the answers of calls ("ok" for a success).
func errorCodes(calls []standin.Call) string {
	var out []string
	for _, c := range calls {
		out = append(out, cmp.Or(c.ErrorCode, "ok"))
	}
	return strings.Join(out, ", ")
}
