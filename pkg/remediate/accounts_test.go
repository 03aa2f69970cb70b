package remediate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/devtools/fakests"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

const memberAcct = "222222222222"

const accountsPolicy = testPolicy + `
accounts:
  allow: ["` + memberAcct + `"]
  regions: [us-east-1, eu-west-1]
`

// memberRig is a rig whose engine may act on memberAcct's alarms: the
// member account has its own CloudWatch and ECS (fakes), handed out only
// to clients built with the member role's credentials in the alarm's
// region.
type memberRig struct {
	*rig
	sts       *fakests.STS
	memberCW  *fakeCloudWatch
	memberECS *fakeECS
	built     []string // "<access key id>@<region>" of each member client set
}

func newMemberRig(t *testing.T, stsErr error) *memberRig {
	t.Helper()
	m := &memberRig{rig: newRig(t, accountsPolicy), sts: &fakests.STS{Err: stsErr}, memberCW: &fakeCloudWatch{},
		memberECS: newFakeECS(map[string]map[string]string{"prod/api": {"postdeploy:remediate": "true"}})}
	m.memberECS.onUpdate = m.memberCW.acted
	signer := func(cfg aws.Config) string {
		c, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Errorf("member client credentials: %v", err)
		}
		return c.AccessKeyID + "@" + cfg.Region
	}
	m.e.Members = &remediate.Members{
		Account: acct,
		STS:     m.sts,
		AWS:     aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAHOME", "home-secret", "")},
		NewAlarms: func(cfg aws.Config) remediate.AlarmAPI {
			m.built = append(m.built, signer(cfg))
			return m.memberCW
		},
		NewClients: func(cfg aws.Config, n remediate.Notifier) remediate.Clients {
			return remediate.Clients{ECS: m.memberECS, Notify: n}
		},
	}
	return m
}

func memberAlarm(region, account string) remediate.Alarm {
	a := ecsAlarm("api", "ALARM", start)
	a.AccountID, a.Region = account, region
	a.ARN = "arn:aws:cloudwatch:" + region + ":" + account + ":alarm:" + a.Name
	return a
}

// TestMemberAlarmActsThroughTheMemberRole checks an alarm of a listed
// member account is confirmed in that account's CloudWatch and acted on
// with that account's ECS, both through clients signed with the assumed
// member role's credentials in the alarm's region; the role is the
// policy's in the alarm's account and the session names the alarm.
func TestMemberAlarmActsThroughTheMemberRole(t *testing.T) {
	m := newMemberRig(t, nil)
	a := memberAlarm("eu-west-1", memberAcct)
	m.memberCW.set("ALARM")
	m.memberCW.define(a)
	out, err := m.e.Handle(context.Background(), a)
	if err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if out.Decision != remediate.Fixed {
		t.Fatalf("decision = %s (%s); want fixed", out.Decision, out.Reason)
	}
	if m.memberECS.updateCount() != 1 || m.ecs.updateCount() != 0 {
		t.Errorf("UpdateService calls: member %d, home %d; want 1 in the member account, none at home", m.memberECS.updateCount(), m.ecs.updateCount())
	}
	if m.memberCW.describes == 0 || m.cw.describes != 0 {
		t.Errorf("DescribeAlarms: member %d, home %d; want the alarm read in the member account only", m.memberCW.describes, m.cw.describes)
	}
	if len(m.built) != 1 || m.built[0] != "ASIAMEMBER@eu-west-1" {
		t.Errorf("member clients signed by %v; want [ASIAMEMBER@eu-west-1]", m.built)
	}
	calls := m.sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls = %d; want 1", len(calls))
	}
	in := calls[0].Input
	if got, want := aws.ToString(in.RoleArn), "arn:aws:iam::"+memberAcct+":role/postdeploy-remediate"; got != want {
		t.Errorf("RoleArn = %q; want %q", got, want)
	}
	if got, want := aws.ToString(in.RoleSessionName), "postdeploy-remediate-"+memberAcct+"-prod-api-cpu-high"; got != want {
		t.Errorf("RoleSessionName = %q; want %q", got, want)
	}
}

// TestMemberAlarmRefusals checks each alarm remediate may not act on is
// refused with a reason naming the account, the role or the list, and the
// fix — audited and notified once, nothing acted on anywhere.
func TestMemberAlarmRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		alarm  remediate.Alarm
		stsErr error
		says   []string
		// assumes counts AssumeRole calls over both deliveries: the role
		// is tried before the state change is claimed.
		assumes int
	}{
		{"account not on the allow-list", memberAlarm("eu-west-1", "333333333333"), nil,
			[]string{"account 333333333333", "accounts.allow", memberAcct, "add the account"}, 0},
		{"region not on the list", memberAlarm("ap-south-1", memberAcct), nil,
			[]string{"region ap-south-1", "accounts.regions"}, 0},
		{"role cannot be assumed", memberAlarm("eu-west-1", memberAcct), &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"},
			[]string{"arn:aws:iam::" + memberAcct + ":role/postdeploy-remediate", "account " + memberAcct, "trust policy", "nothing was acted on"}, 2},
		{"region not enabled", memberAlarm("eu-west-1", memberAcct), &ststypes.RegionDisabledException{Message: aws.String("STS is not activated")},
			[]string{"region eu-west-1", "not enabled", "account " + memberAcct}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemberRig(t, tc.stsErr)
			m.memberCW.set("ALARM")
			m.memberCW.define(tc.alarm)
			for range 2 { // the second delivery is a duplicate, not a second notification
				out, err := m.e.Handle(context.Background(), tc.alarm)
				if err != nil {
					t.Fatalf("Handle error: %v", err)
				}
				if out.Decision != remediate.Refused && out.Decision != remediate.Duplicate {
					t.Fatalf("decision = %s (%s); want refused", out.Decision, out.Reason)
				}
				if out.Decision == remediate.Refused {
					for _, s := range tc.says {
						if !strings.Contains(out.Reason, s) {
							t.Errorf("reason = %q; want it to name %q", out.Reason, s)
						}
					}
				}
			}
			if len(m.n.msgs) != 1 {
				t.Errorf("notifications = %d; want 1 (refused once, then a duplicate)", len(m.n.msgs))
			}
			if m.memberECS.updateCount()+m.ecs.updateCount() != 0 || m.memberCW.describes+m.cw.describes != 0 {
				t.Errorf("acted or read: updates %d/%d, describes %d/%d; want nothing", m.memberECS.updateCount(), m.ecs.updateCount(), m.memberCW.describes, m.cw.describes)
			}
			if n := len(m.sts.Calls()); n != tc.assumes {
				t.Errorf("AssumeRole calls = %d; want %d", n, tc.assumes)
			}
		})
	}
}

func TestAccountsPolicyValidation(t *testing.T) {
	for _, tc := range []struct{ name, accounts, path string }{
		{"empty allow-list", "accounts: {allow: []}", "accounts.allow"},
		{"short account id", `accounts: {allow: ["2222"]}`, "accounts.allow[0]"},
		{"bad region", `accounts: {allow: ["222222222222"], regions: [europe]}`, "accounts.regions[0]"},
		{"bad role name", `accounts: {allow: ["222222222222"], roleName: "a b"}`, "accounts.roleName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := remediate.ParsePolicy([]byte(testPolicy + tc.accounts + "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.path+":") {
				t.Errorf("ParsePolicy(%s) = %v; want a problem at %s", tc.accounts, err, tc.path)
			}
		})
	}
}
