package standin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	memberAccount = "222222222222"
	memberRegion  = "eu-west-1"
	memberRoleARN = "arn:aws:iam::" + memberAccount + ":role/postdeploy-verify"
)

// accountsFront starts a front with a home stand-in (alarm home-alarm) and
// one member account in memberRegion (alarm member-alarm), whose role
// trusts the home account and asks for external id "ext-1".
func accountsFront(t *testing.T) (*Accounts, *Server) {
	t.Helper()
	home, err := New(Scenario{Alarms: []Alarm{{Name: "home-alarm"}}})
	if err != nil {
		t.Fatal(err)
	}
	member, err := New(Scenario{Alarms: []Alarm{{Name: "member-alarm", State: "ALARM"}}})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccounts(home)
	if err := a.AddMember(memberAccount, memberRegion, member); err != nil {
		t.Fatal(err)
	}
	if err := a.AddRole(MemberRole{ARN: memberRoleARN, ExternalID: "ext-1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, member
}

func frontConfig(a *Accounts, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(a.URL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("standin", "standin", "")}
}

// TestAccountsRoutesBySigningKey checks a call signed with an assumed
// role's credentials reaches that account's stand-in in the region it was
// signed for, its ARNs in that account and region, and one signed with the
// home key reaches the home stand-in; Signed records who signed each.
func TestAccountsRoutesBySigningKey(t *testing.T) {
	a, member := accountsFront(t)
	ctx := context.Background()
	cfg := frontConfig(a, memberRegion)
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), memberRoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "postdeploy-verify-job-1"
		o.ExternalID = aws.String("ext-1")
	}))
	out, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatalf("DescribeAlarms as the member role: %v", err)
	}
	if len(out.MetricAlarms) != 1 || aws.ToString(out.MetricAlarms[0].AlarmName) != "member-alarm" {
		t.Fatalf("member DescribeAlarms = %+v; want member-alarm only", out.MetricAlarms)
	}
	if got, want := aws.ToString(out.MetricAlarms[0].AlarmArn), "arn:aws:cloudwatch:"+memberRegion+":"+memberAccount+":alarm:member-alarm"; got != want {
		t.Errorf("member alarm ARN = %s; want %s", got, want)
	}
	homeOut, err := cloudwatch.NewFromConfig(frontConfig(a, Region)).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(homeOut.MetricAlarms) != 1 || aws.ToString(homeOut.MetricAlarms[0].AlarmName) != "home-alarm" {
		t.Fatalf("home DescribeAlarms = %+v, %v; want home-alarm only", homeOut, err)
	}
	if n := len(member.CallsTo(CloudWatch, "DescribeAlarms")); n != 1 {
		t.Errorf("member stand-in saw %d DescribeAlarms; want 1", n)
	}
	var kinds []string
	for _, s := range a.Signed() {
		if s.Service == CloudWatch {
			kinds = append(kinds, s.Account+"/"+s.Region+"/"+s.Session)
			if s.Account == memberAccount && !strings.HasPrefix(s.AccessKeyID, "ASIA") {
				t.Errorf("member call signed by %q; want the assumed role's ASIA key", s.AccessKeyID)
			}
		}
	}
	if want := memberAccount + "/" + memberRegion + "/postdeploy-verify-job-1 " + AccountID + "/" + Region + "/"; strings.Join(kinds, " ") != want {
		t.Errorf("CloudWatch calls signed by %q; want %q", strings.Join(kinds, " "), want)
	}
}

// TestAccountsAssumeRoleIsStrict checks AssumeRole's refusals, as
// API_AssumeRole documents them
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
// AccessDenied for a role that does not trust the caller or an external id
// that does not match, RegionDisabledException for a region the role's
// account has not activated, ValidationError for a session name outside
// 2–64 of [\w+=,.@-]; and a call signed with a key never issued is refused.
func TestAccountsAssumeRoleIsStrict(t *testing.T) {
	a, _ := accountsFront(t)
	for _, tc := range []struct {
		name, role, session, externalID, region, code string
	}{
		{"role of an account that does not trust us", "arn:aws:iam::333333333333:role/postdeploy-verify", "s1", "ext-1", memberRegion, "AccessDenied"},
		{"wrong external id", memberRoleARN, "s1", "ext-2", memberRegion, "AccessDenied"},
		{"no external id", memberRoleARN, "s1", "", memberRegion, "AccessDenied"},
		{"region not enabled", memberRoleARN, "s1", "ext-1", "ap-south-1", "RegionDisabledException"},
		{"session name too long", memberRoleARN, strings.Repeat("s", 65), "ext-1", memberRegion, "ValidationError"},
		{"session name with a space", memberRoleARN, "job 1", "ext-1", memberRegion, "ValidationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String(tc.session)}
			if tc.externalID != "" {
				in.ExternalId = aws.String(tc.externalID)
			}
			_, err := sts.NewFromConfig(frontConfig(a, tc.region)).AssumeRole(context.Background(), in)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Errorf("AssumeRole(%s, %q, %q in %s) = %v; want %s", tc.role, tc.session, tc.externalID, tc.region, err, tc.code)
			}
		})
	}
	t.Run("key never issued", func(t *testing.T) {
		cfg := frontConfig(a, memberRegion)
		cfg.Credentials = credentials.NewStaticCredentialsProvider("ASIAFORGED0000000000", "x", "y")
		_, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnrecognizedClientException" {
			t.Errorf("DescribeAlarms with a forged key = %v; want UnrecognizedClientException", err)
		}
	})
}
