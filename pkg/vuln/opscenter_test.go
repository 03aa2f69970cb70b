package vuln_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// captureOps records the CreateOpsItem inputs it is given.
type captureOps struct {
	creates []*ssm.CreateOpsItemInput
}

func (c *captureOps) CreateOpsItem(_ context.Context, in *ssm.CreateOpsItemInput, _ ...func(*ssm.Options)) (*ssm.CreateOpsItemOutput, error) {
	c.creates = append(c.creates, in)
	return &ssm.CreateOpsItemOutput{OpsItemId: aws.String("oi-000000000001")}, nil
}

func (c *captureOps) UpdateOpsItem(context.Context, *ssm.UpdateOpsItemInput, ...func(*ssm.Options)) (*ssm.UpdateOpsItemOutput, error) {
	return &ssm.UpdateOpsItemOutput{}, nil
}

// TestOpsCenterOpenTagsTheOpsItem: every OpsItem respond opens carries
// exactly the postdeploy:managed-by tag, in CreateOpsItem's Tags (the
// only tag respond's role may create with, and the one UpdateOpsItem is
// scoped to: aws:RequestTag/aws:TagKeys on CreateOpsItem and
// aws:ResourceTag on the opsitem resource type, "Actions, resources,
// and condition keys for AWS Systems Manager").
func TestOpsCenterOpenTagsTheOpsItem(t *testing.T) {
	c := &captureOps{}
	o := &vuln.OpsCenter{API: c}
	tk := vuln.Ticket{Key: "inspector2#abc", Title: "[P2] CVE-2026-1 on api", Description: "d", Priority: "P2", Severity: "HIGH",
		Score: 61.5, Due: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC), Resource: "api"}
	if _, err := o.Open(context.Background(), tk); err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	if len(c.creates) != 1 {
		t.Fatalf("Open made %d CreateOpsItem calls; want 1", len(c.creates))
	}
	tags := c.creates[0].Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "postdeploy:managed-by" || aws.ToString(tags[0].Value) != "postdeploy" {
		got := map[string]string{}
		for _, tg := range tags {
			got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		t.Errorf("CreateOpsItem Tags = %v; want exactly map[postdeploy:managed-by:postdeploy]", got)
	}
	if vuln.OpsTagKey != "postdeploy:managed-by" || vuln.OpsTagValue != "postdeploy" {
		t.Errorf("OpsTagKey, OpsTagValue = %q, %q; want the tag the stack's IAM conditions name", vuln.OpsTagKey, vuln.OpsTagValue)
	}
}
