package stack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// Vulnerability management (pkg/vuln): the weekly report's topic, the
// daily and weekly EventBridge Scheduler runs of respond and their role,
// and what respond may call for tickets and resolutions.

// CDK context keys of vulnerability management.
const (
	// CtxVulnTickets is "opscenter" (default), "jira" or "off".
	CtxVulnTickets = "vulnTickets"
	// CtxJiraURL, CtxJiraProject and CtxJiraSecretArn configure Jira
	// tickets (vulnTickets=jira): the site's https URL, the project key
	// and the Secrets Manager secret holding {"email","apiToken"}; respond
	// may read exactly that secret.
	CtxJiraURL       = "jiraUrl"
	CtxJiraProject   = "jiraProject"
	CtxJiraSecretArn = "jiraSecretArn"
	// CtxVulnReportEmails lists the weekly report's email subscribers.
	CtxVulnReportEmails = "vulnReportEmails"
)

// The schedules, in UTC: the SLA check every day at 06:00, the report
// every Monday at 07:00 (EventBridge Scheduler cron expressions,
// "Schedule types on EventBridge Scheduler").
const (
	VulnDailyCron  = "cron(0 6 * * ? *)"
	VulnWeeklyCron = "cron(0 7 ? * MON *)"
)

// VulnSchedulePayload is the input a schedule hands respond: an
// EventBridge-shaped event of source vuln.ScheduleSource, whose id and
// time are the Scheduler's execution id and scheduled time (context
// attributes <aws.scheduler.execution-id> and
// <aws.scheduler.scheduled-time>, "Adding context attributes to your
// target", EventBridge Scheduler User Guide).
func VulnSchedulePayload(detailType string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the Scheduler substitutes <aws.scheduler.…> literally
	_ = enc.Encode(map[string]any{
		"version": "0", "id": "<aws.scheduler.execution-id>", "source": vuln.ScheduleSource,
		"detail-type": detailType, "time": "<aws.scheduler.scheduled-time>", "detail": map[string]any{},
	})
	return strings.TrimSpace(b.String())
}

// vulnManagement adds the report topic, the schedules and respond's
// permissions. Called after permissions().
func (s *Stack) vulnManagement() error {
	f := s.Respond
	tickets := config.TicketsOpsCenter
	if v, ok := s.Stack.Node().TryGetContext(jsii.String(CtxVulnTickets)).(string); ok && v != "" {
		if v != config.TicketsOpsCenter && v != config.TicketsJira && v != config.TicketsOff {
			return fmt.Errorf("context %s=%q: want %q, %q or %q", CtxVulnTickets, v, config.TicketsOpsCenter, config.TicketsJira, config.TicketsOff)
		}
		tickets = v
	}

	// The weekly report's topic, for email: encrypted and TLS-only like
	// the alert topics; only respond's role may publish to it.
	report := awssns.NewTopic(s.Stack, jsii.String("VulnReportTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("postdeploy Vulnerability Status"),
		MasterKey:   s.TopicKey,
		EnforceSSL:  jsii.Bool(true),
	})
	report.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyRespondPublishes"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{report.TopicArn()},
		Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": f.ExecutionRole.RoleArn()}},
	}))
	if emails, ok := s.Stack.Node().TryGetContext(jsii.String(CtxVulnReportEmails)).([]any); ok {
		for _, e := range emails {
			if addr, ok := e.(string); ok && addr != "" {
				report.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
			}
		}
	}
	f.Function.AddEnvironment(jsii.String(config.EnvReportTopic), report.TopicArn(), nil)
	f.Function.AddEnvironment(jsii.String(config.EnvTickets), jsii.String(tickets), nil)
	// PublishBatch is authorised by sns:Publish: the Service
	// Authorization Reference ("Actions, resources, and condition keys
	// for Amazon SNS") lists no sns:PublishBatch action.
	allow(f, "PublishVulnReport", []string{"sns:Publish"}, []*string{report.TopicArn()}, nil)

	// Resolutions are confirmed with the service that owns the finding.
	s.allowAny(f, "ConfirmInspectorFindings", []string{"inspector2:ListFindings"},
		"Inspector2 ListFindings supports no resource-level permissions; respond reads back a finding an event reports CLOSED, and an image's active findings after a clean re-scan")
	s.allowPattern(f, "ConfirmImageScans", []string{"ecr:DescribeImageScanFindings"},
		arn{service: "ecr", resource: "repository/*"}, nil,
		"a clean ECR re-scan of any repository of this account and region is confirmed before its findings are resolved")
	if tickets == config.TicketsJira {
		if err := s.jiraTickets(); err != nil {
			return err
		}
	}
	if tickets == config.TicketsOpsCenter {
		// "Actions, resources, and condition keys for AWS Systems
		// Manager" (Service Authorization Reference): CreateOpsItem lists
		// no resource type ("*" only) and the condition keys
		// aws:RequestTag/${TagKey} and aws:TagKeys; the CreateOpsItem
		// operation also authorizes ssm:AddTagsToResource, whose opsitem
		// resource type takes aws:RequestTag, aws:ResourceTag and
		// aws:TagKeys ("To add tags to a new OpsItem, a user must have IAM
		// permissions for both ... ssm:AddTagsToResource", CreateOpsItem
		// API reference, Tags); UpdateOpsItem acts on opsitem* with
		// aws:ResourceTag/${TagKey}. So respond creates OpsItems only
		// with its tag and exactly that tag, and updates only OpsItems
		// that carry it — not those other teams or AWS services opened.
		tag := "aws:RequestTag/" + vuln.OpsTagKey
		onlyOurTag := map[string]any{
			"StringEquals":              map[string]any{tag: vuln.OpsTagValue},
			"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{vuln.OpsTagKey}},
		}
		allow(f, "OpenTickets", []string{"ssm:CreateOpsItem"}, []*string{jsii.String("*")}, onlyOurTag)
		s.wild(f, "*", "OpenTickets (ssm:CreateOpsItem): ssm:CreateOpsItem supports no resource-level permissions; only with the tag "+
			vuln.OpsTagKey+"="+vuln.OpsTagValue+" (aws:RequestTag, aws:TagKeys); one OpsItem per finding, deduplicated by OpsCenter on /aws/dedup")
		s.allowPattern(f, "TagNewTickets", []string{"ssm:AddTagsToResource"},
			arn{service: "ssm", resource: "opsitem/*"}, onlyOurTag,
			"CreateOpsItem with Tags also authorizes ssm:AddTagsToResource on the new OpsItem, whose id is not known before; only the tag "+
				vuln.OpsTagKey+"="+vuln.OpsTagValue)
		s.allowPattern(f, "UpdateTickets", []string{"ssm:UpdateOpsItem"},
			arn{service: "ssm", resource: "opsitem/*"},
			map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + vuln.OpsTagKey: vuln.OpsTagValue}},
			"the OpsItem respond opened for a finding, by id: only OpsItems tagged "+vuln.OpsTagKey+"="+vuln.OpsTagValue+" (aws:ResourceTag)")
	}

	// The Scheduler's role: invoke respond, and nothing else; assumable
	// only by EventBridge Scheduler for this account's schedules
	// (aws:SourceAccount, "Setting up the execution role", EventBridge
	// Scheduler User Guide).
	role := awsiam.NewRole(s.Stack, jsii.String("VulnSchedulerRole"), &awsiam.RoleProps{
		Description: jsii.String("postdeploy: EventBridge Scheduler invokes respond for the daily SLA check and the weekly vulnerability report"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeRespond"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{f.FunctionArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DeadLetters"),
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{f.DLQ.QueueArn()},
	}))
	for _, sch := range []struct{ id, cron, detailType, desc string }{
		{"VulnDailySchedule", VulnDailyCron, vuln.DetailTypeDaily, "postdeploy: daily vulnerability SLA check (one breach alert per finding per day)"},
		{"VulnWeeklySchedule", VulnWeeklyCron, vuln.DetailTypeWeekly, "postdeploy: weekly vulnerability status report"},
	} {
		awsscheduler.NewCfnSchedule(s.Stack, jsii.String(sch.id), &awsscheduler.CfnScheduleProps{
			Description:                jsii.String(sch.desc),
			ScheduleExpression:         jsii.String(sch.cron),
			ScheduleExpressionTimezone: jsii.String("UTC"),
			FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:              f.FunctionArn(),
				RoleArn:          role.RoleArn(),
				Input:            jsii.String(VulnSchedulePayload(sch.detailType)),
				RetryPolicy:      &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(3), MaximumEventAgeInSeconds: jsii.Number(3600)},
				DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: f.DLQ.QueueArn()},
			},
		})
	}
	awscdk.NewCfnOutput(s.Stack, jsii.String("VulnReportTopicArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("the weekly vulnerability status report (subscribe email addresses, or set the vulnReportEmails context)"),
		Value:       report.TopicArn(),
	})
	return nil
}

// jiraTickets gives respond the Jira settings of the CDK context and read
// access to exactly the credentials secret ("Actions, resources, and
// condition keys for AWS Secrets Manager": GetSecretValue acts on
// Secret*).
func (s *Stack) jiraTickets() error {
	get := func(k string) string {
		v, _ := s.Stack.Node().TryGetContext(jsii.String(k)).(string)
		return strings.TrimSpace(v)
	}
	site, project, secret := get(CtxJiraURL), get(CtxJiraProject), get(CtxJiraSecretArn)
	var problems []string
	if u, err := url.Parse(site); err != nil || u.Scheme != "https" || u.Host == "" {
		problems = append(problems, fmt.Sprintf("%s=%q: the Jira site's https URL, e.g. https://example.atlassian.net", CtxJiraURL, site))
	}
	if project == "" {
		problems = append(problems, CtxJiraProject+": the Jira project key, e.g. SEC")
	}
	if !strings.HasPrefix(secret, "arn:") || !strings.Contains(secret, ":secretsmanager:") {
		problems = append(problems, fmt.Sprintf("%s=%q: the ARN of the Secrets Manager secret holding {\"email\", \"apiToken\"}", CtxJiraSecretArn, secret))
	}
	if len(problems) > 0 {
		return fmt.Errorf("context %s=jira: %s", CtxVulnTickets, strings.Join(problems, "; "))
	}
	f := s.Respond
	for k, v := range map[string]string{config.EnvJiraURL: site, config.EnvJiraProject: project, config.EnvJiraSecret: secret} {
		f.Function.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
	allow(f, "ReadJiraCredentials", []string{"secretsmanager:GetSecretValue"}, []*string{jsii.String(secret)}, nil)
	return nil
}
