package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// A second AWS account, as the "Running across accounts" README section
// sets it up: the member stack's two roles, trusting the home account;
// its own CloudWatch and ECS state, in its own stand-in behind the
// standin.Accounts front; one region.
const (
	memberAccount = "222222222222"
	memberRegion  = "eu-west-1"
	memberVerify  = "arn:aws:iam::" + memberAccount + ":role/postdeploy-verify"
	memberRemed   = "arn:aws:iam::" + memberAccount + ":role/postdeploy-remediate"
	memberAlarm   = "prod-api-cpu-high"
	// memberHealth is the alarm verify watches in the member account: OK.
	memberHealth = "prod-api-5xx"
)

// memberScenario is the member account's AWS: the api service's CPU alarm
// in ALARM and the opted-in service it watches.
func memberScenario() standin.Scenario {
	return standin.Scenario{
		Alarms: []standin.Alarm{{Name: memberHealth, State: "OK", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count"}, {
			Name: memberAlarm, State: "ALARM", Since: standin.Duration{Duration: 30 * time.Second},
			Reason:      "Threshold Crossed: 3 out of the last 3 datapoints [97.2, 95.8, 93.1] were greater than the threshold (80.0).",
			Description: "CPU of the api service above 80% for 3 minutes", Namespace: "AWS/ECS", MetricName: "CPUUtilization",
			Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"}, Statistic: "Average", Period: 60,
			EvaluationPeriods: 3, Threshold: 80, ComparisonOperator: "GreaterThanThreshold",
		}},
		ECSServices: []standin.ECSService{{Cluster: "prod", Name: "api", DesiredCount: 2, RunningCount: 2,
			TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/api:42", Tags: map[string]string{"postdeploy:remediate": "true"}}},
	}
}

// accountsPolicy is the demo's remediation policy with the member account
// on its allow-list.
const accountsPolicy = `
optInTag: {key: "postdeploy:remediate", value: "true"}
defaults: {cooldown: 30m, verifyTimeout: 15s, verifyInterval: 250ms, notify: infrastructure}
rules:
  - name: ecs-cpu-redeploy
    match: {alarmName: "prod-*-cpu-high", namespace: AWS/ECS, metric: CPUUtilization, dimensions: {ClusterName: "*", ServiceName: "*"}}
    action: ecs.redeploy
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}"}
accounts:
  allow: ["` + memberAccount + `"]
`

// acrossRig is a home stand-in, a member stand-in and the front that
// routes between them by signing key.
type acrossRig struct {
	home, member *standin.Server
	front        *standin.Accounts
}

func (r *rig) newAcross() (*acrossRig, error) {
	home, err := r.newStandin("verify-healthy.yaml")
	if err != nil {
		return nil, err
	}
	member, err := standin.New(memberScenario())
	if err != nil {
		home.Close()
		return nil, fmt.Errorf("seed the member account: %w", err)
	}
	a := &acrossRig{home: home, member: member, front: standin.NewAccounts(home)}
	for _, step := range []func() error{
		func() error { return a.front.AddMember(memberAccount, memberRegion, member) },
		func() error { return a.front.AddRole(standin.MemberRole{ARN: memberVerify}) },
		func() error { return a.front.AddRole(standin.MemberRole{ARN: memberRemed}) },
		a.front.Start,
	} {
		if err := step(); err != nil {
			a.Close()
			return nil, err
		}
	}
	home.SetParameter(standin.Parameter{Name: remediationPolicyParameter, Value: accountsPolicy})
	return a, nil
}

func (a *acrossRig) Close() {
	a.front.Close()
	a.home.Close()
}

// env points a function at the front: AWS_ENDPOINT_URL last, so it wins.
func (a *acrossRig) env(extra ...string) []string {
	return append(extra, "AWS_ENDPOINT_URL="+a.front.URL())
}

// memberSigned checks every call that reached the member account was
// signed with an assumed role's key and names the session; it returns the
// member calls by operation.
func (a *acrossRig) memberSigned(res *result, roles ...string) map[string]int {
	ops := map[string]int{}
	for _, s := range a.front.Signed() {
		if s.Account != memberAccount {
			continue
		}
		if !strings.HasPrefix(s.AccessKeyID, "ASIA") || !slices.Contains(roles, s.RoleARN) || s.ErrorCode != "" {
			res.problem("a call to the member account (%s %s) was signed by %q (role %q, refused %q); want an assumed key of %v", s.Service, s.Operation, s.AccessKeyID, s.RoleARN, s.ErrorCode, roles)
		}
		ops[s.RoleARN+" "+s.Service+":"+s.Operation]++
	}
	return ops
}

// acrossJob is verify's job with a spec that looks at the member account:
// its alarms, through the member role, in its region.
func acrossJob(role string) events.CodePipelineJobEvent {
	spec := map[string]any{"bake": "0s", "roleArn": role, "region": memberRegion, "checks": []any{
		map[string]any{"name": "member-alarms", "alarms": map[string]any{"names": []string{memberHealth}}},
	}}
	b, _ := json.Marshal(map[string]any{"spec": spec})
	return newJobEvent(string(b))
}

// memberAlarmEvent is the member account's "CloudWatch Alarm State Change"
// event as its forwarding rule puts it on the central bus: EventBridge's
// account and region are the member's, the time CloudWatch's.
func (a *acrossRig) memberAlarmEvent(account string) ([]byte, error) {
	at, ok := a.member.AlarmStateChanged(memberAlarm)
	if !ok {
		return nil, fmt.Errorf("the member stand-in has no alarm %s", memberAlarm)
	}
	ts := at.UTC().Format("2006-01-02T15:04:05.000-0700")
	var d contract.AlarmStateChangeDetail
	d.AlarmName = memberAlarm
	d.State = contract.AlarmState{Value: "ALARM", Reason: "Threshold Crossed", Timestamp: ts}
	d.PreviousState = contract.AlarmState{Value: "OK", Reason: "Threshold Crossed", Timestamp: ts}
	detail, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: "demo-member-alarm", DetailType: contract.DetailTypeAlarmStateChange, Source: contract.AlarmSource,
		AccountID: account, Region: memberRegion, Time: at.UTC(),
		Resources: []string{"arn:aws:cloudwatch:" + memberRegion + ":" + account + ":alarm:" + memberAlarm}, Detail: detail,
	})
}

// acrossAccounts: verify looks at a second account's alarms through the
// role the spec names, and remediate redeploys that account's service
// through the policy's role there; every call to the second account is
// signed with the assumed role's credentials, and nothing happens at home.
func acrossAccounts(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	a, err := r.newAcross()
	if err != nil {
		return errorResult(err)
	}
	defer a.Close()

	// 1. verify, across accounts.
	fn, err := r.start(ctx, "verify", a.home, a.env()...)
	if err != nil {
		return errorResult(err)
	}
	run, err := runPipelineJob(ctx, fn, a.home, acrossJob(memberVerify), demoPipeline, true)
	_ = fn.Close()
	if err != nil {
		return errorResult(err)
	}
	res.Invocations += len(run.Invocations)
	verdict := run.Outcome()
	if run.Final == nil || run.Final.Kind != "success" {
		res.problem("verify of the member account: %s; want Succeeded", verdict)
	}
	verifyOps := a.memberSigned(&res, memberVerify)
	if verifyOps[memberVerify+" cloudwatch:DescribeAlarms"] == 0 {
		res.problem("verify read no alarm in the member account (member calls %v)", verifyOps)
	}
	assumed := a.front.Assumed()
	if len(assumed) != 1 || !strings.HasPrefix(assumed[0].RoleSessionName, "postdeploy-verify-") || assumed[0].Region != memberRegion {
		res.problem("AssumeRole calls %+v; want one, session postdeploy-verify-<job id>, in %s", assumed, memberRegion)
	}

	// 2. remediate, in the member account.
	table, err := r.freshTable(ctx)
	if err != nil {
		return errorResult(err)
	}
	payload, err := a.memberAlarmEvent(memberAccount)
	if err != nil {
		return errorResult(err)
	}
	rfn, err := r.start(ctx, "remediate", a.home, a.env(table, config.EnvAccountID+"="+standin.AccountID)...)
	if err != nil {
		return errorResult(err)
	}
	defer func() { _ = rfn.Close() }()
	go func() { // the fix takes: the member's alarm clears once redeployed
		for ctx.Err() == nil && len(a.member.CallsTo(standin.ECS, "UpdateService")) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		_ = a.member.SetAlarmState(memberAlarm, "OK", "Threshold Crossed: back under 80")
	}()
	out, err := rfn.Invoke(ctx, payload)
	if err != nil {
		return errorResult(err)
	}
	res.Invocations++
	if out.Err != nil {
		res.problem("remediate: function error %v", out.Err)
	}
	decision := strings.Join(logField(out.Logs, "alarm handled", "decision"), ",")
	memberRedeploys := len(a.member.CallsTo(standin.ECS, "UpdateService"))
	homeRedeploys := len(a.home.CallsTo(standin.ECS, "UpdateService"))
	if memberRedeploys != 1 || homeRedeploys != 0 {
		res.problem("redeploys: member %d, home %d; want 1 in the member account and none at home", memberRedeploys, homeRedeploys)
	}
	// Every call to the member account was signed by one of the two
	// roles — the redeploy by the remediate role.
	if ops := a.memberSigned(&res, memberVerify, memberRemed); ops[memberRemed+" ecs:UpdateService"] != 1 || ops[memberRemed+" cloudwatch:DescribeAlarms"] == 0 {
		res.problem("the member role %s made %v; want the alarm read and one UpdateService", memberRemed, ops)
	}
	// The assumed roles' secrets never reach a log line or a message.
	logs := string(out.Logs)
	for _, inv := range run.Invocations {
		logs += string(inv.Logs)
	}
	for _, p := range a.home.Published() {
		logs += p.Message
	}
	for _, secret := range a.front.IssuedSecrets() {
		if strings.Contains(logs, secret) {
			res.problem("an assumed role's secret key or session token appears in the functions' logs or messages")
		}
	}
	if len(a.front.IssuedSecrets()) == 0 {
		res.problem("the front issued no credentials")
	}
	res.Elapsed = time.Since(start)
	res.AWSCalls = len(a.front.Signed())
	res.Got = fmt.Sprintf("verify %s, remediate %s, %d redeploy in %s", verdict, decision, memberRedeploys, memberAccount)
	var lines []string
	for _, s := range a.front.Signed() {
		if s.Account == memberAccount {
			lines = append(lines, fmt.Sprintf("%s:%s signed by %s…, session %s", s.Service, s.Operation, s.AccessKeyID[:8], s.Session))
		}
	}
	res.NoteTitle, res.Note = "Calls to account "+memberAccount+" ("+memberRegion+") and who signed them", strings.Join(lines, "\n")
	return res
}
