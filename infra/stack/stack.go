package stack

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// The state table's key schema and TTL attribute, as pkg/state uses them.
const (
	TablePartitionKey = state.AttrPK
	TableSortKey      = state.AttrSK
	TableTTLAttribute = state.AttrExpiresAt
)

// AlarmKinds are the alert kinds whose topics CloudWatch alarms notify;
// remediate is subscribed to them.
var AlarmKinds = []notify.Kind{notify.HighCPU, notify.Application, notify.Infrastructure, notify.Security}

// TopicTitles are the topics' display names.
var TopicTitles = map[notify.Kind]string{
	notify.HighCPU:        "High CPU Alerts",
	notify.Application:    "Application Alerts",
	notify.Infrastructure: "Infrastructure Alerts",
	notify.Security:       "Security Alerts",
	notify.Deployments:    "Deployment Alerts",
	notify.Escalation:     "Escalations",
}

// Stack is the postdeploy stack and the parts tests and callers reach.
type Stack struct {
	awscdk.Stack
	// Props are the props after defaults.
	Props Props

	Verify, Remediate, Respond *Function
	TopicKey                   awskms.Key
	Topics                     map[notify.Kind]awssns.Topic
	Table                      awsdynamodb.Table
	// Bus carries verify's verdicts; only verify's role may put events
	// on it.
	Bus   awsevents.EventBus
	Rules map[string]awsevents.Rule
	// SuiteAlarms watch the suite itself: function errors and throttles,
	// dead-letter queue depth.
	SuiteAlarms []awscloudwatch.Alarm
	// AlarmSet is the application's alarm set (nil without
	// Props.Application).
	AlarmSet   *monitoring.AlarmSet
	Dashboards *monitoring.Dashboards
	// VerificationDashboard is "Post-Deploy Verification".
	VerificationDashboard awscloudwatch.Dashboard
	// ModelDashboards are Delivery Performance, Infrastructure Overview,
	// Application Deep Dive and (configured) Business Metrics (delivery.go).
	ModelDashboards *monitoring.ModelDashboards
	// Pipeline is the example pipeline (nil unless Props.ExamplePipeline).
	Pipeline awscodepipeline.Pipeline
	// TokenKey is the secret whose value signs verify's continuation
	// tokens.
	TokenKey awssecretsmanager.Secret
	// AutomationRole is the role ssm.runbook actions pass to Systems
	// Manager as a runbook's AutomationAssumeRole (nil without
	// Props.Runbooks).
	AutomationRole awsiam.Role

	// wildcards are each function's "*" resources and why, by function.
	wildcards map[string][]wildcard
}

// New builds the stack. Props are checked before anything is made; the
// error lists every problem.
func New(scope constructs.Construct, id string, p Props) (*Stack, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	if err := checkAssets(p); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	if err := checkPolicyFiles(p); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("postdeploy: verifies deployments, remediates alarms, triages events")
	}
	s := &Stack{
		Stack: awscdk.NewStack(scope, jsii.String(id), &sp),
		Props: p,
		Rules: map[string]awsevents.Rule{},
	}
	s.topics()
	s.table()
	s.bus()
	s.tokenKey()
	s.functions()
	s.busPolicy()
	s.topicPublishers()
	s.subscriptions()
	s.rules()
	s.automationRole()
	if err := s.permissions(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	if err := s.vulnManagement(); err != nil { // vuln.go
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	s.hooks()
	s.suiteAlarms()
	s.verificationDashboard()
	if err := s.application(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	if p.ExamplePipeline {
		if err := s.examplePipeline(); err != nil {
			return nil, fmt.Errorf("stack %s: %w", id, err)
		}
	}
	s.suppressions()
	s.outputs()
	return s, nil
}

// outputs are what a pipeline or an operator needs from the stack: the
// verify function to put in an Invoke action, the topics to subscribe
// to, the table.
func (s *Stack) outputs() {
	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: v})
	}
	out("VerifyFunctionName", "FunctionName of a CodePipeline Lambda Invoke action that runs verify", s.Verify.FunctionName())
	out("VerifyFunctionArn", "verify's ARN, for awslambda.Function_FromFunctionArn in a pipeline stack", s.Verify.FunctionArn())
	out("StateTableName", "the DynamoDB state table", s.Table.TableName())
	out("TokenKeySecretArn", "the secret verify signs continuation tokens with; put a new value to rotate it", s.TokenKey.SecretArn())
	for _, k := range notify.Kinds {
		out(topicID(k)+"Arn", TopicTitles[k]+" topic", s.Topics[k].TopicArn())
	}
	if s.Pipeline != nil {
		out("ExampleArtifactsBucket", "the example pipeline's artifacts; its Deploy stage writes the example page under deployed/", s.Pipeline.ArtifactBucket().BucketName())
	}
}

// topics makes one KMS-encrypted, TLS-only topic per alert kind, with the
// email subscriptions from Props.
func (s *Stack) topics() {
	s.TopicKey = awskms.NewKey(s.Stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("postdeploy: encrypts the alert topics"),
		EnableKeyRotation: jsii.Bool(true),
	})
	// CloudWatch alarms publish to the topics as the CloudWatch service,
	// which must be able to use the key; only for this account's alarms.
	s.TopicKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
		},
	}), nil)

	s.Topics = make(map[notify.Kind]awssns.Topic, len(notify.Kinds))
	for _, k := range notify.Kinds {
		t := awssns.NewTopic(s.Stack, jsii.String(topicID(k)), &awssns.TopicProps{
			DisplayName: jsii.String("postdeploy " + TopicTitles[k]),
			MasterKey:   s.TopicKey,
			EnforceSSL:  jsii.Bool(true),
		})
		// The topic policy that enforces TLS replaces SNS's default one:
		// let this account's CloudWatch alarms publish explicitly.
		t.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AllowCloudWatchAlarms"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  &[]*string{t.TopicArn()},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
				"ArnLike":      map[string]any{"aws:SourceArn": arn{service: "cloudwatch", resource: "alarm:*"}.token()},
			},
		}))
		for _, addr := range s.Props.AlertEmails[k] {
			t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
		}
		s.Topics[k] = t
	}
}

// topicPublishers denies sns:Publish on every alert topic to all but
// CloudWatch, for this account's alarms, and the suite's own roles
// (remediate, respond). Within the account an identity policy alone
// would let any principal publish a forged alarm or notification; the
// explicit deny in the topic policy wins over such an allow (IAM User
// Guide, "Policy evaluation logic"). The deny applies when both hold:
//   - aws:PrincipalArn is not one of the suite's roles (for an assumed
//     role it is the role's ARN);
//   - aws:SourceArn is not one of this account's alarms. CloudWatch sets
//     it to the alarm's ARN when it publishes (the same key the allow
//     statement checks; Amazon SNS Developer Guide, "Example cases for
//     Amazon SNS access control", and CloudWatch's "Using Amazon SNS
//     to notify users"), a principal calling Publish cannot set it.
//
// A negated operator on a key the request does not carry is true (IAM
// User Guide, "Condition operators"), so a caller with neither key is
// denied, and CloudWatch, which carries no aws:PrincipalArn of the
// suite but an alarm's aws:SourceArn, is not.
func (s *Stack) topicPublishers() {
	roles := []any{s.Remediate.ExecutionRole.RoleArn(), s.Respond.ExecutionRole.RoleArn()}
	for _, k := range notify.Kinds {
		t := s.Topics[k]
		t.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OnlyAlarmsAndTheSuitePublish"),
			Effect:     awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  &[]*string{t.TopicArn()},
			Conditions: &map[string]any{
				"ArnNotEquals": map[string]any{"aws:PrincipalArn": roles},
				"ArnNotLike":   map[string]any{"aws:SourceArn": arn{service: "cloudwatch", resource: "alarm:*"}.token()},
			},
		}))
	}
}

// topicID is the construct id of kind's topic: "high-cpu" → "HighCpuTopic".
func topicID(k notify.Kind) string {
	out := []byte{}
	up := true
	for _, c := range []byte(k) {
		if c == '-' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out) + "Topic"
}

// table is the state table: idempotency, cooldowns, rate limits, dedupe.
func (s *Stack) table() {
	s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("State"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(TableTTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:    awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// CodePipelineJobWindow is how long CodePipeline waits for a Lambda invoke
// action's function to reply: "If the Lambda function has sent no reply
// after 20 minutes, the action times out" ("Quotas in AWS CodePipeline").
// CodePipeline invokes verify asynchronously; Lambda keeps a failed
// invocation's event for retries no longer than this, since a job whose
// window has closed can no longer be reported on.
const CodePipelineJobWindow = 20 * time.Minute

// RemediationTimeout is the timeout of a function that runs the
// remediation engine: it waits up to the policy's verify timeout (default
// remediate.DefaultVerifyTimeout) for a fix to take, plus a minute to act,
// audit and notify.
var RemediationTimeout = remediate.DefaultVerifyTimeout + time.Minute

// functions makes the three functions. Verify's timeout is Lambda's
// maximum so one run can bake as long as possible before it hands over a
// continuation token; remediate waits for its fix to take; respond does
// one short job per event (unless it remediates too).
func (s *Stack) functions() {
	respondTimeout := time.Minute
	if s.Props.RespondRemediates {
		respondTimeout = RemediationTimeout
	}
	s.Verify = s.newFunction(functionSpec{
		name:        Verify,
		description: "postdeploy verify: CodePipeline invoke action that bakes and verifies a deployment",
		memoryMB:    512,
		timeout:     awscdk.Duration_Minutes(jsii.Number(15)),
		env:         s.verifyEnv(),
		maxEventAge: CodePipelineJobWindow,
	})
	s.Remediate = s.newFunction(functionSpec{
		name:        Remediate,
		description: "postdeploy remediate: acts on CloudWatch alarms per the remediation policy",
		memoryMB:    256,
		timeout:     awscdk.Duration_Seconds(jsii.Number(RemediationTimeout.Seconds())),
		env:         s.remediateEnv(),
		reserved:    s.Props.RemediateConcurrency,
	})
	s.Respond = s.newFunction(functionSpec{
		name:        Respond,
		description: "postdeploy respond: triages and routes pipeline, deployment and security events",
		memoryMB:    256,
		timeout:     awscdk.Duration_Seconds(jsii.Number(respondTimeout.Seconds())),
		env:         s.respondEnv(),
	})
}

// AlarmFilterKey is the top-level property of a CloudWatch alarm
// notification that remediate's subscriptions filter on: AlarmArn, which
// every alarm notification carries (aws-lambda-go's
// events.CloudWatchAlarmSNSPayload) and no message the suite publishes
// has (pkg/notify writes plain text, or AWS Chatbot's custom
// notification JSON whose top-level keys are version, source, id,
// content and metadata).
const AlarmFilterKey = "AlarmArn"

// remediateFilter delivers every CloudWatch alarm notification to
// remediate and nothing the suite itself publishes. It filters on the
// message body (FilterPolicyScope MessageBody): alarm notifications carry
// no message attributes, and SNS's "exists": false "only matches if at
// least one attribute is present. An empty set of attributes results in
// the filter not matching" (Amazon SNS Developer Guide, "Key matching",
// https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html),
// so an attribute filter such as {"kind":[{"exists":false}]} drops every
// alarm. A MessageBody policy "assumes that the message payload is a
// well-formed JSON object" ("Amazon SNS message filtering"): the suite's
// text messages are not JSON and never match. The prefix carries the
// stack's partition, so aws-cn and aws-us-gov alarms match too.
func remediateFilter() *map[string]awssns.FilterOrPolicy {
	prefix := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":cloudwatch:")})
	return &map[string]awssns.FilterOrPolicy{
		AlarmFilterKey: awssns.FilterOrPolicy_Filter(awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{
			MatchPrefixes: &[]*string{prefix},
		})),
	}
}

// subscriptions subscribes remediate to the topics alarms notify.
func (s *Stack) subscriptions() {
	for _, k := range AlarmKinds {
		s.Topics[k].AddSubscription(awssnssubscriptions.NewLambdaSubscription(s.Remediate.Function, &awssnssubscriptions.LambdaSubscriptionProps{
			FilterPolicyWithMessageBody: remediateFilter(),
		}))
	}
}

// TokenKeyLength is the length of the generated continuation-token key.
const TokenKeyLength = 64

// tokenKey is the secret verify signs its continuation tokens with
// (HMAC): 64 random letters and digits Secrets Manager generates at
// creation. It is rotated by hand, by putting a new value: PutSecretValue
// moves AWSCURRENT to the new version and AWSPREVIOUS to the one it
// replaced (Secrets Manager API Reference, PutSecretValue), and verify
// signs with AWSCURRENT and accepts AWSPREVIOUS, so a token issued before
// the rotation still verifies (README "Deploy it").
func (s *Stack) tokenKey() {
	s.TokenKey = awssecretsmanager.NewSecret(s.Stack, jsii.String("TokenKey"), &awssecretsmanager.SecretProps{
		Description: jsii.String("postdeploy: the key verify signs its continuation tokens with; rotate by putting a new value (verify accepts AWSCURRENT and AWSPREVIOUS)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(TokenKeyLength),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	suppress(s.TokenKey, false, suppression("AwsSolutions-SMG4",
		"rotated by hand: putting a new value makes it AWSCURRENT and the old one AWSPREVIOUS, and verify accepts both, so a token issued before a rotation still verifies; a rotation schedule would need a rotation Lambda that only writes random bytes (README, Deploy it)"))
}

// bus is the event bus verify publishes verdicts to: the suite's own,
// never the default bus, where any principal of the account with
// events:PutEvents could publish a "Failed" verdict and have respond roll
// a pipeline back.
func (s *Stack) bus() {
	props := &awsevents.EventBusProps{Description: jsii.String("postdeploy: verify's verdicts; only verify's role may put events here")}
	if s.Props.EventBusName != "" {
		props.EventBusName = jsii.String(s.Props.EventBusName)
	}
	s.Bus = awsevents.NewEventBus(s.Stack, jsii.String("VerdictBus"), props)
}

// busPolicy lets verify's role, and no other principal, put events on the
// bus. Within one account an identity policy alone would allow
// PutEvents, so the resource policy denies every other principal
// (aws:PrincipalArn, which names the role of an assumed-role session;
// IAM User Guide, "AWS global condition context keys"); the explicit deny
// wins over any allow ("Policy evaluation logic"). Resource-based
// policies on event buses: EventBridge User Guide, "Permissions for
// event buses in Amazon EventBridge".
func (s *Stack) busPolicy() {
	verify := s.Verify.ExecutionRole.RoleArn()
	allow := s.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("VerifyPutsVerdicts"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(verify)},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{s.Bus.EventBusArn()},
	}))
	deny := s.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyVerifyPutsVerdicts"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{s.Bus.EventBusArn()},
		Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": verify}},
	}))
	// One PutPermission at a time on the same bus.
	if d, ok := deny.PolicyDependable.(constructs.IConstruct); ok && allow.PolicyDependable != nil {
		d.Node().AddDependency(allow.PolicyDependable)
	}
}

// rules sends every event respond handles to it. Failed deliveries go to
// respond's dead-letter queue.
func (s *Stack) rules() {
	for _, r := range slices.Concat(Routes, DeliveryRoutes) {
		pattern := &awsevents.EventPattern{
			Source:     jsii.Strings(r.Source),
			DetailType: jsii.Strings(r.DetailTypes...),
		}
		if r.Detail != nil {
			d := r.Detail
			pattern.Detail = &d
		}
		if r.LeavesOutSuiteAlarms {
			pattern.Resources = s.suiteAlarmsLeftOut() // rules.go
		}
		props := &awsevents.RuleProps{
			Description:  jsii.String("postdeploy respond: " + r.Description),
			EventPattern: pattern,
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Respond.Function, &awseventstargets.LambdaFunctionProps{
				DeadLetterQueue: s.Respond.DLQ,
				RetryAttempts:   jsii.Number(4),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
			})},
		}
		if r.OnSuiteBus {
			props.EventBus = s.Bus
		}
		s.Rules[r.ID] = awsevents.NewRule(s.Stack, jsii.String(r.ID+"Rule"), props)
	}
}
