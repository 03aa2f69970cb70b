package respond

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// TestSecurityHubBatchFindingsJudgedOneByOne: a Security Hub event
// carries a batch (detail.findings[]). A finding with a numeric Title and
// one with an unknown severity label are refused, each logged with its
// index and field and counted; the CRITICAL beside them is notified.
func TestSecurityHubBatchFindingsJudgedOneByOne(t *testing.T) {
	r := newRig(t)
	if err := r.invoke(t, readEvent(t, "respond-securityhub-mixed-batch.json")); err != nil {
		t.Fatalf("Invoke = %v; want nil", err)
	}
	if len(r.sns.in) != 1 || !strings.Contains(aws.ToString(r.sns.in[0].Subject), "CRITICAL") {
		var subjects []string
		for _, in := range r.sns.in {
			subjects = append(subjects, aws.ToString(in.Subject))
		}
		t.Fatalf("published %q; want the CRITICAL finding, once", subjects)
	}
	var fields []string
	for _, l := range r.logLines("finding refused") {
		fields = append(fields, l["field"].(string))
	}
	if strings.Join(fields, " ") != "detail.findings[1].Title detail.findings[2].Severity.Label" {
		t.Errorf("refused fields logged = %q; want detail.findings[1].Title and detail.findings[2].Severity.Label", fields)
	}
	if got := r.metric(telemetry.MetricFindingsRefused, "Source", "aws.securityhub"); got != 2 {
		t.Errorf("FindingsRefused{Source=aws.securityhub} = %v; want 2", got)
	}
	if got := r.metric(telemetry.MetricEventsHandled, "Kind", kindFinding); got != 1 {
		t.Errorf("EventsHandled{Kind=finding} = %v; want 1", got)
	}
	if got := r.metricTotal(telemetry.MetricEventsMalformed); got != 0 {
		t.Errorf("EventsMalformed = %v; want 0 (the event was handled)", got)
	}
}

// TestSecurityHubBatchAllRefused: when no finding of a batch can be read,
// each is refused and counted, and the event is counted as malformed.
func TestSecurityHubBatchAllRefused(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "respond-securityhub-mixed-batch.json"), &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	d["findings"] = d["findings"].([]any)[1:]
	b, _ := json.Marshal(ev)
	r := newRig(t)
	if err := r.invoke(t, b); err != nil {
		t.Fatalf("Invoke = %v; want nil", err)
	}
	if len(r.sns.in) != 0 {
		t.Errorf("published %d messages; want none", len(r.sns.in))
	}
	if got := r.metric(telemetry.MetricFindingsRefused, "Source", "aws.securityhub"); got != 2 {
		t.Errorf("FindingsRefused = %v; want 2", got)
	}
	if got := r.metric(telemetry.MetricEventsMalformed, "Source", "aws.securityhub"); got != 1 {
		t.Errorf("EventsMalformed{Source=aws.securityhub} = %v; want 1", got)
	}
}
