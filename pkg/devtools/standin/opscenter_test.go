package standin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// TestOpsItemsStrictAsOpsCenter: CreateOpsItem's documented limits
// (AWS Systems Manager API reference, CreateOpsItem), through the real
// SDK client.
func TestOpsItemsStrictAsOpsCenter(t *testing.T) {
	s := startServer(t, Scenario{})
	c := ssm.NewFromConfig(awsConfig(t, s))
	ok := func() *ssm.CreateOpsItemInput {
		return &ssm.CreateOpsItemInput{Title: aws.String("t"), Description: aws.String("d"), Source: aws.String("postdeploy"), Priority: aws.Int32(2)}
	}
	tests := []struct {
		name string
		edit func(in *ssm.CreateOpsItemInput)
	}{
		{"Source beginning with aws", func(in *ssm.CreateOpsItemInput) { in.Source = aws.String("aws-thing") }},
		{"Title over 1,024 characters", func(in *ssm.CreateOpsItemInput) { in.Title = aws.String(strings.Repeat("x", 1025)) }},
		{"Description over 2,048 characters", func(in *ssm.CreateOpsItemInput) { in.Description = aws.String(strings.Repeat("x", 2049)) }},
		{"Priority 6", func(in *ssm.CreateOpsItemInput) { in.Priority = aws.Int32(6) }},
		{"OperationalData key beginning with ssm", func(in *ssm.CreateOpsItemInput) {
			in.OperationalData = map[string]ssmtypes.OpsItemDataValue{"ssm:x": {Value: aws.String("v"), Type: ssmtypes.OpsItemDataTypeString}}
		}},
		{"OperationalData value over 20 KB", func(in *ssm.CreateOpsItemInput) {
			in.OperationalData = map[string]ssmtypes.OpsItemDataValue{"k": {Value: aws.String(strings.Repeat("x", 20<<10+1)), Type: ssmtypes.OpsItemDataTypeString}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok()
			tt.edit(in)
			_, err := c.CreateOpsItem(ctxT(t), in)
			var inv *ssmtypes.OpsItemInvalidParameterException
			if !errors.As(err, &inv) {
				t.Errorf("CreateOpsItem = %v; want OpsItemInvalidParameterException", err)
			}
		})
	}
	if len(s.OpsItems()) != 0 {
		t.Errorf("refused calls created %d OpsItems; want 0", len(s.OpsItems()))
	}
	_, err := c.UpdateOpsItem(ctxT(t), &ssm.UpdateOpsItemInput{OpsItemId: aws.String("oi-000000000bad")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "OpsItemNotFoundException" {
		t.Errorf("UpdateOpsItem(unknown) = %v; want OpsItemNotFoundException", err)
	}
}

// TestOpsCenterTicketerAgainstStandin: pkg/vuln's OpsCenter client
// through the SDK: opening the same finding twice returns the first
// OpsItem (OpsCenter deduplication answers OpsItemAlreadyExistsException
// with its id), update and comment change operational data, close
// resolves it, and a finding that comes back after resolution gets a new
// OpsItem ("If the existing OpsItem is resolved, Systems Manager creates
// a new OpsItem", Managing duplicate OpsItems).
func TestOpsCenterTicketerAgainstStandin(t *testing.T) {
	s := startServer(t, Scenario{})
	o := &vuln.OpsCenter{API: ssm.NewFromConfig(awsConfig(t, s))}
	tk := vuln.Ticket{Key: "inspector2#abc", Title: "[P2] CVE-2026-1 on api", Description: strings.Repeat("d", 3000), Priority: "P2", Severity: "HIGH",
		Score: 61.5, Due: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC), Resource: "api@sha256:1", ResourceARN: "arn:aws:ecr:us-east-1:123456789012:repository/api/sha256:1", Remediation: "upgrade"}
	id, err := o.Open(ctxT(t), tk)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	again, err := o.Open(ctxT(t), tk)
	if err != nil || again != id {
		t.Fatalf("second Open = %q, %v; want %q (deduplicated)", again, err, id)
	}
	tk.Priority, tk.Score = "P1", 88
	if err := o.Update(ctxT(t), id, tk); err != nil {
		t.Fatalf("Update = %v", err)
	}
	if err := o.Comment(ctxT(t), id, "slaBreach", "SLA breached"); err != nil {
		t.Fatalf("Comment = %v", err)
	}
	if err := o.Close(ctxT(t), id, "resolved"); err != nil {
		t.Fatalf("Close = %v", err)
	}
	items := s.OpsItems()
	it := items[0]
	if len(items) != 1 || it.Status != "Resolved" || it.Priority != 1 || it.OperationalData["postdeploy:riskScore"] != "88.0" ||
		it.OperationalData["postdeploy:slaBreach"] != "SLA breached" || it.OperationalData["/aws/resources"] == "" || len([]rune(it.Description)) != 2048 {
		t.Errorf("OpsItem = %+v; want one, Resolved, priority 1, score 88.0, the breach note, the description clipped to 2,048", it)
	}
	reopened, err := o.Open(ctxT(t), tk)
	if err != nil || reopened == id {
		t.Errorf("Open after resolution = %q, %v; want a new OpsItem", reopened, err)
	}
}
