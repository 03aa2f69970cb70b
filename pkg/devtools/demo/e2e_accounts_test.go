package main

import (
	"context"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// TestAcrossAccountsScenario plays the demo's second-account scenario
// through the real verify and remediate binaries: verify looks at the
// member account's alarms through the role the spec names, remediate
// redeploys the member account's service through the policy's role, and
// every call that reaches the member account's stand-in was signed with
// an assumed role's credentials (the front's Signed record).
func TestAcrossAccountsScenario(t *testing.T) {
	requireFunction(t, "verify")
	requireFunction(t, "remediate")
	requireDynalite(t)
	res := acrossAccounts(context.Background(), shared)
	expectAsPlanned(t, "across accounts", res)
	if !strings.Contains(res.Got, "fixed") {
		t.Errorf("across accounts: %s; want remediate's decision fixed", res.Got)
	}
}

// runAcrossVerify runs one verify job whose spec names role against the
// front, and returns the final report.
func runAcrossVerify(t *testing.T, a *acrossRig, role string) standin.JobReport {
	t.Helper()
	fn, err := shared.start(context.Background(), "verify", a.home, a.env()...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	run, err := runPipelineJob(context.Background(), fn, a.home, acrossJob(role), demoPipeline, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Final == nil {
		t.Fatalf("verify made no terminal report: %s", run.Outcome())
	}
	return *run.Final
}

// TestVerifyRoleThatCannotBeAssumedIsAPermissionError: the spec names a
// role no account trusts verify with; the stand-in answers AssumeRole
// AccessDenied, as STS does. verify reports a PermissionError naming the
// account, the role and the fix, and nothing reaches any member account.
func TestVerifyRoleThatCannotBeAssumedIsAPermissionError(t *testing.T) {
	requireFunction(t, "verify")
	a, err := shared.newAcross()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	role := "arn:aws:iam::333333333333:role/postdeploy-verify"
	rep := runAcrossVerify(t, a, role)
	if rep.Kind != "failure" || rep.FailureType != "PermissionError" {
		t.Errorf("report = %s %s; want failure PermissionError", rep.Kind, rep.FailureType)
	}
	for _, s := range []string{"account 333333333333", role, "trust policy", "sts:AssumeRole"} {
		if !strings.Contains(rep.Message, s) {
			t.Errorf("failure message %q does not name %q", rep.Message, s)
		}
	}
	for _, s := range a.front.Signed() {
		if s.Account != standin.AccountID {
			t.Errorf("a call reached account %s (%s:%s); want none", s.Account, s.Service, s.Operation)
		}
	}
}

// TestVerifyRegionNotEnabledIsRefused: the spec names a region the member
// account does not use; STS answers RegionDisabledException
// (API_AssumeRole, Errors). verify refuses with a ConfigurationError
// naming the region, the account and the fix.
func TestVerifyRegionNotEnabledIsRefused(t *testing.T) {
	requireFunction(t, "verify")
	a, err := shared.newAcross()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ev := acrossJob(memberVerify)
	ev.CodePipelineJob.Data.ActionConfiguration.Configuration.UserParameters = strings.Replace(
		ev.CodePipelineJob.Data.ActionConfiguration.Configuration.UserParameters, memberRegion, "ap-south-2", 1)
	fn, err := shared.start(context.Background(), "verify", a.home, a.env()...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	run, err := runPipelineJob(context.Background(), fn, a.home, ev, demoPipeline, true)
	if err != nil || run.Final == nil {
		t.Fatalf("run: %v, %s", err, run.Outcome())
	}
	rep := *run.Final
	if rep.FailureType != "ConfigurationError" {
		t.Errorf("report = %s %s; want failure ConfigurationError", rep.Kind, rep.FailureType)
	}
	for _, s := range []string{"region ap-south-2", "account " + memberAccount, "Enable the region"} {
		if !strings.Contains(rep.Message, s) {
			t.Errorf("failure message %q does not name %q", rep.Message, s)
		}
	}
}

// TestRemediateAccountOutsideAllowListIsRefused: an alarm of an account
// the policy does not list reaches remediate through the central bus. It
// is refused with the account and the fix, notified, and nothing is
// assumed, read or changed anywhere.
func TestRemediateAccountOutsideAllowListIsRefused(t *testing.T) {
	requireFunction(t, "remediate")
	requireDynalite(t)
	a, err := shared.newAcross()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	table, err := shared.freshTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	payload, err := a.memberAlarmEvent("333333333333")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := shared.start(context.Background(), "remediate", a.home, a.env(table, config.EnvAccountID+"="+standin.AccountID)...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	out, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil {
		t.Fatalf("remediate: function error %v\n%s", out.Err, out.Logs)
	}
	if got := strings.Join(logField(out.Logs, "alarm handled", "decision"), ","); got != "refused" {
		t.Errorf("decision = %q; want refused\n%s", got, out.Logs)
	}
	if n := len(a.front.Assumed()); n != 0 {
		t.Errorf("AssumeRole calls = %d; want none for an account not on the allow-list", n)
	}
	if n := len(a.member.Calls()) + len(a.home.CallsTo(standin.ECS, "")); n != 0 {
		t.Errorf("calls to ECS or the member account = %d; want none", n)
	}
	found := false
	for _, p := range a.home.Published() {
		found = found || (strings.Contains(p.Message, "333333333333") && strings.Contains(p.Message, "accounts.allow"))
	}
	if !found {
		t.Errorf("no notification names account 333333333333 and accounts.allow (published %d)", len(a.home.Published()))
	}
}

// TestRemediateRoleThatCannotBeAssumedIsRefused: the policy allows account
// 444444444444, but no role there trusts remediate (STS answers
// AccessDenied). The alarm is refused with the role, the account and the
// fix, and nothing is read or changed there.
func TestRemediateRoleThatCannotBeAssumedIsRefused(t *testing.T) {
	requireFunction(t, "remediate")
	requireDynalite(t)
	a, err := shared.newAcross()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.home.SetParameter(standin.Parameter{Name: remediationPolicyParameter, Value: strings.Replace(accountsPolicy, memberAccount, "444444444444", 1)})
	table, err := shared.freshTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	payload, err := a.memberAlarmEvent("444444444444")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := shared.start(context.Background(), "remediate", a.home, a.env(table, config.EnvAccountID+"="+standin.AccountID)...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Close() }()
	out, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil {
		t.Fatalf("remediate: function error %v\n%s", out.Err, out.Logs)
	}
	if got := strings.Join(logField(out.Logs, "alarm handled", "decision"), ","); got != "refused" {
		t.Errorf("decision = %q; want refused\n%s", got, out.Logs)
	}
	assumed := a.front.Assumed()
	if len(assumed) != 1 || assumed[0].ErrorCode != "AccessDenied" || assumed[0].RoleARN != "arn:aws:iam::444444444444:role/postdeploy-remediate" {
		t.Errorf("AssumeRole calls = %+v; want one, refused AccessDenied, for postdeploy-remediate in 444444444444", assumed)
	}
	for _, s := range a.front.Signed() {
		if s.Account != standin.AccountID {
			t.Errorf("a call reached account %s (%s:%s); want none", s.Account, s.Service, s.Operation)
		}
	}
	found := false
	for _, p := range a.home.Published() {
		found = found || (strings.Contains(p.Message, "arn:aws:iam::444444444444:role/postdeploy-remediate") && strings.Contains(p.Message, "trust policy"))
	}
	if !found {
		t.Errorf("no notification names the role and its trust policy (published %d)", len(a.home.Published()))
	}
}
