package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// TestVulnSchedulesInvokeRespond: the daily SLA check and the weekly
// report are EventBridge Scheduler schedules (UTC cron) that invoke
// respond with the payload respond routes, with retries and respond's
// dead-letter queue.
func TestVulnSchedulesInvokeRespond(t *testing.T) {
	synth(t)
	schedules := resources(t, "AWS::Scheduler::Schedule")
	want := map[string]string{VulnDailyCron: vuln.DetailTypeDaily, VulnWeeklyCron: vuln.DetailTypeWeekly}
	if len(schedules) != len(want) {
		t.Fatalf("%d schedules; want %d", len(schedules), len(want))
	}
	for id, p := range schedules {
		cron, _ := p["ScheduleExpression"].(string)
		dt, ok := want[cron]
		if !ok {
			t.Errorf("%s: ScheduleExpression %q; want one of %v", id, cron, want)
			continue
		}
		if p["ScheduleExpressionTimezone"] != "UTC" || fmt.Sprint(p["FlexibleTimeWindow"]) != "map[Mode:OFF]" {
			t.Errorf("%s: timezone %v, window %v; want UTC, OFF", id, p["ScheduleExpressionTimezone"], p["FlexibleTimeWindow"])
		}
		target := p["Target"].(map[string]any)
		if fmt.Sprint(target["Arn"]) != fmt.Sprint(getArn(shared.ids[Respond])) {
			t.Errorf("%s: target %v; want respond", id, target["Arn"])
		}
		if fmt.Sprint(target["DeadLetterConfig"]) != fmt.Sprint(map[string]any{"Arn": getArn(shared.ids[Respond+"/dlq"])}) {
			t.Errorf("%s: dead letters %v; want respond's DLQ", id, target["DeadLetterConfig"])
		}
		// What the Scheduler delivers: its context attributes filled in.
		input := strings.NewReplacer("<aws.scheduler.execution-id>", "c7f1a9e4-EXAMPLE", "<aws.scheduler.scheduled-time>", "2026-12-07T07:00:00Z").Replace(target["Input"].(string))
		var ev events.EventBridgeEvent
		if err := json.Unmarshal([]byte(input), &ev); err != nil {
			t.Fatalf("%s: Input %v is not an EventBridge event: %v", id, target["Input"], err)
		}
		if ev.Source != vuln.ScheduleSource || ev.DetailType != dt || ev.ID != "c7f1a9e4-EXAMPLE" || ev.Time.IsZero() {
			t.Errorf("%s: payload source %q detail-type %q id %q; want %q, %q and the execution id", id, ev.Source, ev.DetailType, ev.ID, vuln.ScheduleSource, dt)
		}
	}
}

// TestVulnSchedulerRoleInvokesRespondOnly: the Scheduler's role is
// assumable by EventBridge Scheduler for this account only, and may
// invoke respond and send to its dead-letter queue, nothing else.
func TestVulnSchedulerRoleInvokesRespondOnly(t *testing.T) {
	synth(t)
	var roleID string
	for id, r := range resources(t, "AWS::IAM::Role") {
		if strings.Contains(fmt.Sprint(r["AssumeRolePolicyDocument"]), "scheduler.amazonaws.com") {
			roleID = id
			doc := fmt.Sprint(r["AssumeRolePolicyDocument"])
			if !strings.Contains(doc, "aws:SourceAccount") {
				t.Errorf("scheduler role trust %s; want an aws:SourceAccount condition", doc)
			}
		}
	}
	if roleID == "" {
		t.Fatal("no role EventBridge Scheduler can assume")
	}
	got := map[string]string{}
	for _, st := range policy(t, roleID) {
		got[st.Sid] = strings.Join(st.Actions, ",") + " on " + fmt.Sprint(st.Resources)
	}
	want := map[string]string{
		"InvokeRespond": "lambda:InvokeFunction on " + fmt.Sprint([]any{getArn(shared.ids[Respond])}),
		"DeadLetters":   "sqs:SendMessage on " + fmt.Sprint([]any{getArn(shared.ids[Respond+"/dlq"])}),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scheduler role statements = %v; want %v", got, want)
	}
}

// TestVulnRespondPermissionsAndEnvironment: respond may open OpsItems
// (ssm:CreateOpsItem has no resource type), update its OpsItems
// (conditions: TestVulnRespondOpsItemsOnlyTagged), confirm
// resolutions with Inspector2 and ECR, and publish the report; its
// environment names the report topic and the ticket system.
func TestVulnRespondPermissionsAndEnvironment(t *testing.T) {
	synth(t)
	bySid := map[string]statement{}
	for _, st := range policy(t, shared.ids[Respond+"/role"]) {
		bySid[st.Sid] = st
	}
	for sid, action := range map[string]string{
		"OpenTickets": "ssm:CreateOpsItem", "UpdateTickets": "ssm:UpdateOpsItem", "PublishVulnReport": "sns:Publish",
		"ConfirmInspectorFindings": "inspector2:ListFindings", "ConfirmImageScans": "ecr:DescribeImageScanFindings",
	} {
		if st, ok := bySid[sid]; !ok || strings.Join(st.Actions, ",") != action {
			t.Errorf("respond statement %s = %+v; want %s", sid, bySid[sid], action)
		}
	}
	if r := fmt.Sprint(bySid["UpdateTickets"].Resources); !strings.Contains(r, ":opsitem/*") {
		t.Errorf("UpdateTickets resources %s; want the account's OpsItems (opsitem/*)", r)
	}
	env := resources(t, "AWS::Lambda::Function")[shared.ids[Respond]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env[config.EnvTickets] != config.TicketsOpsCenter || env[config.EnvReportTopic] == nil {
		t.Errorf("respond %s = %v, %s = %v; want opscenter and the report topic", config.EnvTickets, env[config.EnvTickets], config.EnvReportTopic, env[config.EnvReportTopic])
	}
}

// TestVulnRespondOpsItemsOnlyTagged: respond creates OpsItems only with
// its tag and exactly that tag, may tag only new OpsItems with it, and
// updates only OpsItems carrying it — the condition keys the Service
// Authorization Reference ("Actions, resources, and condition keys for
// AWS Systems Manager") lists: CreateOpsItem aws:RequestTag/${TagKey}
// and aws:TagKeys (no resource type); AddTagsToResource, which the
// CreateOpsItem operation also authorizes, on opsitem with the same
// keys; UpdateOpsItem on opsitem* with aws:ResourceTag/${TagKey}.
func TestVulnRespondOpsItemsOnlyTagged(t *testing.T) {
	synth(t)
	type stmt struct {
		actions, resources []string
		condition          map[string]map[string][]string
	}
	got := map[string]stmt{}
	for _, p := range resources(t, "AWS::IAM::Policy") {
		if !strings.Contains(fmt.Sprint(p["Roles"]), fmt.Sprint(ref(shared.ids[Respond+"/role"]))) {
			continue
		}
		for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := raw.(map[string]any)
			sid, _ := st["Sid"].(string)
			if sid != "OpenTickets" && sid != "TagNewTickets" && sid != "UpdateTickets" {
				continue
			}
			g := stmt{actions: asStrings(st["Action"]), condition: map[string]map[string][]string{}}
			res := st["Resource"]
			if _, ok := res.([]any); !ok {
				res = []any{res}
			}
			for _, r := range res.([]any) {
				b, _ := json.Marshal(r)
				g.resources = append(g.resources, string(b))
			}
			cond, _ := st["Condition"].(map[string]any)
			for op, kv := range cond {
				g.condition[op] = map[string][]string{}
				for k, v := range kv.(map[string]any) {
					g.condition[op][k] = asStrings(v)
				}
			}
			got[sid] = g
		}
	}
	createCond := map[string]map[string][]string{
		"StringEquals":              {"aws:RequestTag/postdeploy:managed-by": {"postdeploy"}},
		"ForAllValues:StringEquals": {"aws:TagKeys": {"postdeploy:managed-by"}},
	}
	want := map[string]struct {
		action, resource string // resource: "*" or a substring of the ARN
		condition        map[string]map[string][]string
	}{
		"OpenTickets":   {"ssm:CreateOpsItem", `"*"`, createCond},
		"TagNewTickets": {"ssm:AddTagsToResource", ":opsitem/*", createCond},
		"UpdateTickets": {"ssm:UpdateOpsItem", ":opsitem/*", map[string]map[string][]string{
			"StringEquals": {"aws:ResourceTag/postdeploy:managed-by": {"postdeploy"}},
		}},
	}
	for sid, w := range want {
		g, ok := got[sid]
		if !ok {
			t.Errorf("respond has no statement %s; want %s on %s with %v", sid, w.action, w.resource, w.condition)
			continue
		}
		if strings.Join(g.actions, ",") != w.action || len(g.resources) != 1 || !strings.Contains(g.resources[0], w.resource) {
			t.Errorf("respond statement %s = %v on %v; want %s on %s", sid, g.actions, g.resources, w.action, w.resource)
		}
		if fmt.Sprint(g.condition) != fmt.Sprint(w.condition) {
			t.Errorf("respond statement %s Condition = %v; want exactly %v", sid, g.condition, w.condition)
		}
	}
}

// TestVulnReportTopicOnlyRespondPublishes: the report topic is encrypted
// with the topics' key, TLS-only, and denies sns:Publish to every
// principal but respond's role.
func TestVulnReportTopicOnlyRespondPublishes(t *testing.T) {
	synth(t)
	var topicID string
	for id, p := range resources(t, "AWS::SNS::Topic") {
		if p["DisplayName"] == "postdeploy Vulnerability Status" {
			topicID = id
			if fmt.Sprint(p["KmsMasterKeyId"]) != fmt.Sprint(getArn(shared.ids["key"])) {
				t.Errorf("report topic key %v; want the topics' key", p["KmsMasterKeyId"])
			}
		}
	}
	if topicID == "" {
		t.Fatal("no report topic")
	}
	found := false
	for _, p := range resources(t, "AWS::SNS::TopicPolicy") {
		if fmt.Sprint(p["Topics"]) != fmt.Sprint([]any{ref(topicID)}) {
			continue
		}
		found = true
		doc := fmt.Sprint(p["PolicyDocument"])
		for _, want := range []string{"OnlyRespondPublishes", "aws:SecureTransport", fmt.Sprint(getArn(shared.ids[Respond+"/role"]))} {
			if !strings.Contains(doc, want) {
				t.Errorf("report topic policy lacks %s:\n%s", want, doc)
			}
		}
	}
	if !found {
		t.Error("the report topic has no policy")
	}
}

// vulnStack synthesizes a stack of default props with the given CDK
// context (after the shared synth made the asset directory).
func vulnStack(t *testing.T, ctx map[string]any) (*Stack, error) {
	t.Helper()
	synth(t)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	return New(app, "PostdeployJira", Props{AssetDir: shared.dir})
}

// TestVulnJiraFromContext: vulnTickets=jira gives respond the Jira
// settings and read access to exactly the credentials secret, and no
// OpsCenter grant; a Jira context without its site, project or secret
// ARN stops the synth naming each.
func TestVulnJiraFromContext(t *testing.T) {
	const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:postdeploy/jira-AbCdEf"
	s, err := vulnStack(t, map[string]any{CtxVulnTickets: "jira", CtxJiraURL: "https://example.atlassian.net", CtxJiraProject: "SEC", CtxJiraSecretArn: secret})
	if err != nil {
		t.Fatalf("New(vulnTickets=jira) = %v", err)
	}
	tpl := *assertions.Template_FromStack(s.Stack, nil).ToJSON()
	b, _ := json.Marshal(tpl)
	doc := string(b)
	for _, want := range []string{`"POSTDEPLOY_TICKETS":"jira"`, `"POSTDEPLOY_JIRA_URL":"https://example.atlassian.net"`, `"POSTDEPLOY_JIRA_PROJECT":"SEC"`, `"Sid":"ReadJiraCredentials"`, secret} {
		if !strings.Contains(doc, want) {
			t.Errorf("template lacks %s", want)
		}
	}
	if strings.Contains(doc, "ssm:CreateOpsItem") {
		t.Error("a Jira stack grants ssm:CreateOpsItem")
	}
	_, err = vulnStack(t, map[string]any{CtxVulnTickets: "jira", CtxJiraURL: "http://example.atlassian.net"})
	for _, want := range []string{CtxJiraURL, CtxJiraProject, CtxJiraSecretArn} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(incomplete jira context) = %v; want an error naming %s", err, want)
		}
	}
}
