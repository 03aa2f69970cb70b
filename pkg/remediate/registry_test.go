package remediate_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

var iamAction = regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$`)

// Every action declares the IAM actions it needs, in IAM's form: the
// stack builds the role from them, so an action declaring none would
// fail in production with AccessDenied.
func TestEveryActionDeclaresPermissions(t *testing.T) {
	for _, name := range remediate.Names() {
		a, err := remediate.NewAction(name, remediate.Clients{})
		if err != nil {
			t.Fatalf("NewAction(%q): %v", name, err)
		}
		perms := a.Permissions()
		if len(perms) == 0 {
			t.Errorf("action %s declares no IAM permissions", name)
		}
		for _, p := range perms {
			if !iamAction.MatchString(p) {
				t.Errorf("action %s declares %q; want service:Action", name, p)
			}
		}
		if len(a.Params()) == 0 && name != "notify" {
			t.Errorf("action %s declares no parameters", name)
		}
		for _, p := range a.Params() {
			if p.Doc == "" {
				t.Errorf("action %s parameter %s has no doc", name, p.Name)
			}
		}
	}
}

func TestPermissions(t *testing.T) {
	got := remediate.Permissions()
	want := []string{
		"autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity",
		"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
		"codedeploy:GetDeployment", "codedeploy:ListDeployments", "codedeploy:ListTagsForResource", "codedeploy:StopDeployment",
		"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:RebootInstances",
		"ecs:DescribeServices", "ecs:UpdateService",
		"lambda:GetAlias", "lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:UpdateAlias",
		"sns:Publish",
		"ssm:GetAutomationExecution", "ssm:StartAutomationExecution",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Permissions() mismatch (-want +got):\n%s", d)
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Permissions() = %v; want sorted and unique", got)
	}
}

func TestNewActionUnknown(t *testing.T) {
	_, err := remediate.NewAction("ec2.restart", remediate.Clients{})
	if err == nil || !strings.Contains(err.Error(), `unknown action "ec2.restart" (valid: asg.scale, codedeploy.rollback, ec2.reboot,`) {
		t.Errorf("NewAction(ec2.restart) = %v; want an error listing the valid actions", err)
	}
}
