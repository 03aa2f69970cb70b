package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// One stack, with every optional part switched on, is synthesized once
// and shared by every test here: each synthesis costs seconds of jsii.

// testApp is the application the shared stack's alarm set watches.
var testApp = monitoring.Target{
	Name:             "shop",
	AutoScalingGroup: "shop-asg",
	LoadBalancer:     "app/shop/50dc6c495c0c9188",
	Disk:             map[string]string{"InstanceId": "i-0123456789abcdef0", "path": "/", "device": "nvme0n1p1", "fstype": "xfs"},
	SignIns:          &monitoring.MetricRef{Namespace: "Shop", MetricName: "SignIns"},
}

const testEmail = "security-oncall@example.com"

// testRollbackPipelines are the pipelines respond may roll back in the
// shared stack: a stage, a prefix, a whole pipeline.
var testRollbackPipelines = []string{"shop-prod/Deploy", "billing-*", "payments"}

var shared struct {
	once   sync.Once
	dir    string
	err    error
	stack  *Stack
	tmpl   assertions.Template
	notes  assertions.Annotations
	json   map[string]any
	ids    map[string]string // construct name → logical id
	synthS string
}

func TestMain(m *testing.M) {
	// Node 20 prints an end-of-life banner on every jsii start (as the
	// Makefile does for `make test`).
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		_ = os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	// The shared stack's asset directory; a package-level directory
	// because the stack outlives any one test.
	dir, err := os.MkdirTemp("", "postdeploy-infra-assets-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	jsii.Close()
	os.Exit(code)
}

// synth returns the shared stack and its template, building them once.
func synth(t *testing.T) (*Stack, map[string]any) {
	t.Helper()
	shared.once.Do(func() {
		defer func() {
			if r := recover(); r != nil { // assertions report failures as panics
				shared.err = fmt.Errorf("synthesize: %v", r)
			}
		}()
		dir := shared.dir
		for _, fn := range FunctionNames {
			if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
				shared.err = err
				return
			}
			// A placeholder: the template only needs the asset's hash.
			if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("placeholder "+fn), 0o755); err != nil {
				shared.err = err
				return
			}
		}
		// respond remediates too in this stack and embeds no policy: it
		// gets the shipped one, which New checks against the IAM it builds.
		shipped, err := os.ReadFile(filepath.Join("..", "..", "functions", Remediate, "policy.yaml"))
		if err != nil {
			shared.err = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, Respond, "policy.yaml"), shipped, 0o600); err != nil { //nolint:gosec // G703: the test's own temp dir
			shared.err = err
			return
		}
		app := awscdk.NewApp(nil)
		s, err := New(app, "Postdeploy", Props{
			AssetDir:          dir,
			AlertEmails:       map[notify.Kind][]string{notify.Security: {testEmail}},
			Application:       &testApp,
			ExamplePipeline:   true,
			RespondRemediates: true,
			RollbackPolicy:    config.RollbackStage,
			RollbackPipelines: testRollbackPipelines,
		})
		if err != nil {
			shared.err = err
			return
		}
		Check(app)
		shared.stack = s
		shared.tmpl = assertions.Template_FromStack(s.Stack, nil)
		shared.notes = assertions.Annotations_FromStack(s.Stack)
		shared.json = *shared.tmpl.ToJSON()
		shared.ids = map[string]string{}
		id := func(c constructs.IConstruct) string {
			return *s.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
		}
		for _, f := range s.functionsList() {
			shared.ids[f.Name] = id(f.Function)
			shared.ids[f.Name+"/dlq"] = id(f.DLQ)
			shared.ids[f.Name+"/role"] = id(f.ExecutionRole)
			shared.ids[f.Name+"/logs"] = id(f.LogGroup)
		}
		for k, v := range s.Topics {
			shared.ids["topic/"+string(k)] = id(v)
		}
		shared.ids["key"] = id(s.TopicKey)
		shared.ids["table"] = id(s.Table)
		shared.ids["bus"] = id(s.Bus)
		shared.ids["tokenKey"] = id(s.TokenKey)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.stack, shared.json
}

// resources returns the template's resources of one type by logical id.
func resources(t *testing.T, typ string) map[string]map[string]any {
	t.Helper()
	_, tpl := synth(t)
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// has is assertions' HasResourceProperties, reporting a mismatch as a
// test error instead of a panic.
func has(t *testing.T, typ string, props map[string]any) {
	t.Helper()
	synth(t)
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("no %s with properties %v:\n%v", typ, props, r)
		}
	}()
	shared.tmpl.HasResourceProperties(jsii.String(typ), props)
}

func count(t *testing.T, typ string, n int) {
	t.Helper()
	synth(t)
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s count: %v", typ, r)
		}
	}()
	shared.tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n)))
}

func ref(id string) map[string]any    { return map[string]any{"Ref": id} }
func getArn(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }

func TestNagFindsNothing(t *testing.T) {
	synth(t)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range *shared.notes.FindError(jsii.String("*"), nag) {
		b, _ := json.Marshal(m)
		t.Errorf("cdk-nag error: %s", b)
	}
	for _, m := range *shared.notes.FindWarning(jsii.String("*"), nag) {
		b, _ := json.Marshal(m)
		t.Errorf("cdk-nag warning: %s", b)
	}
}

func TestFunctionsAreBuiltAlike(t *testing.T) {
	s, _ := synth(t)
	count(t, "AWS::Lambda::Function", 3)
	fns := resources(t, "AWS::Lambda::Function")
	for _, f := range s.functionsList() {
		p := fns[shared.ids[f.Name]]
		if p == nil {
			t.Errorf("function %s (%s) not in the template", f.Name, shared.ids[f.Name])
			continue
		}
		want := map[string]any{
			"Runtime":          "provided.al2023",
			"Architectures":    []any{"arm64"},
			"Handler":          "bootstrap",
			"TracingConfig":    map[string]any{"Mode": "Active"},
			"DeadLetterConfig": map[string]any{"TargetArn": getArn(shared.ids[f.Name+"/dlq"])},
			"Role":             getArn(shared.ids[f.Name+"/role"]),
			"LoggingConfig": map[string]any{
				"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN",
				"LogGroup": ref(shared.ids[f.Name+"/logs"]),
			},
		}
		got := map[string]any{}
		for k := range want {
			got[k] = p[k]
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("function %s (-want +got):\n%s", f.Name, d)
		}
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env[config.EnvMetricNamespace] != config.DefaultMetricNamespace {
			t.Errorf("function %s: %s = %v; want %q", f.Name, config.EnvMetricNamespace, env[config.EnvMetricNamespace], config.DefaultMetricNamespace)
		}
		timeout := p["Timeout"].(float64)
		switch f.Name {
		case Verify:
			if timeout != 900 {
				t.Errorf("verify timeout = %vs; want 900s (Lambda's maximum, to bake within one run)", timeout)
			}
			if d := cmp.Diff(ref(shared.ids["bus"]), env[config.EnvEventBus]); d != "" {
				t.Errorf("verify %s (-want +got): the stack's verdict bus, never the default one\n%s", config.EnvEventBus, d)
			}
		default: // remediate, and respond which remediates too in this stack
			if want := (remediate.DefaultVerifyTimeout + time.Minute).Seconds(); timeout != want {
				t.Errorf("%s timeout = %vs; want %vs (the remediation engine's default verify timeout, %s, plus a minute)",
					f.Name, timeout, want, remediate.DefaultVerifyTimeout)
			}
		}
		// Reserved concurrency is opt-in (remediateConcurrency): an
		// account whose unreserved concurrency would fall below 100 fails
		// to create a function that reserves any.
		if rc, ok := p["ReservedConcurrentExecutions"]; ok {
			t.Errorf("%s ReservedConcurrentExecutions = %v; want none by default", f.Name, rc)
		}
	}
	// Retention and the asynchronous retry settings.
	count(t, "AWS::Logs::LogGroup", 3)
	has(t, "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": DefaultLogRetentionDays})
	count(t, "AWS::Lambda::EventInvokeConfig", 3)
	for id, p := range resources(t, "AWS::Lambda::EventInvokeConfig") {
		age, fn := p["MaximumEventAgeInSeconds"], ""
		for _, f := range s.functionsList() {
			if fmt.Sprint(p["FunctionName"]) == fmt.Sprint(ref(shared.ids[f.Name])) {
				fn = f.Name
			}
		}
		want := DefaultMaxEventAge.Seconds()
		if fn == Verify {
			// "If the Lambda function has sent no reply after 20 minutes,
			// the action times out" ("Quotas in AWS CodePipeline"): a
			// retry after that reports on a job that is gone.
			want = (20 * time.Minute).Seconds()
		}
		if p["MaximumRetryAttempts"] != float64(2) || age != want {
			t.Errorf("invoke config %s (%s): retries %v, max event age %vs; want 2 and %vs", id, fn, p["MaximumRetryAttempts"], age, want)
		}
	}
}

func TestDeadLetterQueuesAreEncryptedAndTLSOnly(t *testing.T) {
	count(t, "AWS::SQS::Queue", 3)
	for id, p := range resources(t, "AWS::SQS::Queue") {
		if p["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s: SqsManagedSseEnabled = %v; want true", id, p["SqsManagedSseEnabled"])
		}
	}
	count(t, "AWS::SQS::QueuePolicy", 3)
	has(t, "AWS::SQS::QueuePolicy", map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect":    "Deny",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})}),
	}})
}

func TestTopicsPerKindEncryptedAndTLSOnly(t *testing.T) {
	count(t, "AWS::SNS::Topic", len(notify.Kinds)+1) // + the vulnerability report's (vuln.go)
	topics := resources(t, "AWS::SNS::Topic")
	for _, k := range notify.Kinds {
		p := topics[shared.ids["topic/"+string(k)]]
		if p == nil {
			t.Errorf("topic %s not in the template", k)
			continue
		}
		want := map[string]any{
			"DisplayName":    "postdeploy " + TopicTitles[k],
			"KmsMasterKeyId": getArn(shared.ids["key"]),
		}
		got := map[string]any{"DisplayName": p["DisplayName"], "KmsMasterKeyId": p["KmsMasterKeyId"]}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("topic %s (-want +got):\n%s", k, d)
		}
	}
	has(t, "AWS::KMS::Key", map[string]any{"EnableKeyRotation": true})
	count(t, "AWS::SNS::TopicPolicy", len(notify.Kinds)+1)
	has(t, "AWS::SNS::TopicPolicy", map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect":    "Deny",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})}),
	}})
	has(t, "AWS::SNS::TopicPolicy", map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Action": "sns:Publish",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		})}),
	}})
	has(t, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "email", "Endpoint": testEmail, "TopicArn": ref(shared.ids["topic/security"]),
	})
}

func TestRemediateSubscribedToAlarmTopicsOnly(t *testing.T) {
	synth(t)
	var got []string
	for id, p := range resources(t, "AWS::SNS::Subscription") {
		if p["Protocol"] != "lambda" {
			continue
		}
		if d := cmp.Diff(getArn(shared.ids[Remediate]), p["Endpoint"]); d != "" {
			t.Errorf("lambda subscription %s endpoint (-want +got):\n%s", id, d)
		}
		if p["FilterPolicyScope"] != standin.ScopeMessageBody {
			t.Errorf("lambda subscription %s FilterPolicyScope = %v; want %s (alarm notifications carry no attributes)", id, p["FilterPolicyScope"], standin.ScopeMessageBody)
		}
		got = append(got, p["TopicArn"].(map[string]any)["Ref"].(string))
	}
	var want []string
	for _, k := range AlarmKinds {
		want = append(want, shared.ids["topic/"+string(k)])
	}
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("topics remediate is subscribed to (-want +got):\n%s", d)
	}
}

// resolve replaces the pseudo parameters and Fn::Join of a template
// value with the values an "aws" partition deployment would see.
func resolve(t *testing.T, v any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["Ref"]; ok && len(v) == 1 {
			switch r {
			case "AWS::Partition":
				return "aws"
			case "AWS::Region":
				return standin.Region
			case "AWS::AccountId":
				return standin.AccountID
			}
			return v
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(v) == 1 {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, fmt.Sprint(resolve(t, p)))
			}
			return strings.Join(parts, j[0].(string))
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = resolve(t, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = resolve(t, e)
		}
		return out
	}
	return v
}

// suitePublisher records what pkg/notify publishes.
type suitePublisher struct{ in []*sns.PublishInput }

func (p *suitePublisher) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.in = append(p.in, in)
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

// Every filter policy of remediate's subscriptions, as SNS applies it
// (the stand-in's evaluator, which follows the SNS Developer Guide's
// "Amazon SNS message filtering" and "Key matching" pages), delivers each
// CloudWatch alarm notification AWS wrote for aws-lambda-go's tests and
// none of the messages the suite publishes through pkg/notify, in either
// format.
func TestRemediateFilterDeliversAlarmsNotSuiteMessages(t *testing.T) {
	synth(t)
	samples, err := standin.AlarmNotifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 {
		t.Fatalf("found %d CloudWatch alarm notification samples in aws-lambda-go; want the single- and multiple-metric ones", len(samples))
	}
	pub := &suitePublisher{}
	topics := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		topics[k] = "arn:aws:sns:us-east-1:123456789012:" + string(k)
	}
	msg := notify.Message{Kind: notify.HighCPU, Subject: "Alarm prod-api-cpu-high is in ALARM", Body: "Alarm prod-api-cpu-high is in ALARM.\n\n" +
		`{"AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-cpu-high"}`, Severity: "HIGH", Service: "prod-api"}
	for _, f := range []notify.Format{notify.FormatText, notify.FormatChatbot} {
		if _, err := (notify.Router{API: pub, Topics: topics, Format: f}).Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for id, p := range resources(t, "AWS::SNS::Subscription") {
		if p["Protocol"] != "lambda" {
			continue
		}
		n++
		policy, err := json.Marshal(resolve(t, p["FilterPolicy"]))
		if err != nil {
			t.Fatal(err)
		}
		scope, _ := p["FilterPolicyScope"].(string)
		fp, err := standin.ParseFilterPolicy(string(policy), scope)
		if err != nil {
			t.Fatalf("subscription %s: SNS would refuse its filter policy %s: %v", id, policy, err)
		}
		for name, rec := range samples {
			if !fp.Matches(rec.Message, standin.NotificationAttributes(rec.MessageAttributes)) {
				t.Errorf("subscription %s (%s, scope %s) does not deliver the alarm notification %s", id, policy, scope, name)
			}
		}
		for _, in := range pub.in {
			attrs := map[string]standin.MessageAttribute{}
			for k, v := range in.MessageAttributes {
				attrs[k] = standin.MessageAttribute{DataType: aws.ToString(v.DataType), StringValue: aws.ToString(v.StringValue)}
			}
			if fp.Matches(aws.ToString(in.Message), attrs) {
				t.Errorf("subscription %s (%s) delivers the suite's own %s notification %q to remediate", id, policy, aws.ToString(in.MessageAttributes["kind"].StringValue), aws.ToString(in.Message))
			}
		}
	}
	if n != len(AlarmKinds) || len(pub.in) != 2 {
		t.Errorf("checked %d lambda subscriptions against %d suite messages; want %d and 2", n, len(pub.in), len(AlarmKinds))
	}
}

func TestRulesRouteEveryPatternToRespond(t *testing.T) {
	count(t, "AWS::Events::Rule", len(Routes)+len(DeliveryRoutes))
	for _, r := range slices.Concat(Routes, DeliveryRoutes) {
		pattern := map[string]any{"source": []any{r.Source}, "detail-type": toAny(r.DetailTypes)}
		if r.Detail != nil {
			pattern["detail"] = r.Detail
		}
		has(t, "AWS::Events::Rule", map[string]any{
			"EventPattern": pattern,
			"State":        "ENABLED",
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn":              getArn(shared.ids[Respond]),
				"DeadLetterConfig": map[string]any{"Arn": getArn(shared.ids[Respond+"/dlq"])},
				"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200},
			})},
		})
	}
}

func TestRoutesCoverTheEventsRespondHandles(t *testing.T) {
	want := map[string][]string{
		"aws.cloudwatch":    {"CloudWatch Alarm State Change"},
		"aws.codepipeline":  {"CodePipeline Pipeline Execution State Change", "CodePipeline Action Execution State Change"},
		"aws.codedeploy":    {"CodeDeploy Deployment State-change Notification"},
		"aws.codebuild":     {"CodeBuild Build State Change"},
		"postdeploy.verify": {"Post-Deploy Verification Completed"},
		"aws.ecr":           {"ECR Image Scan"},
		"aws.inspector2":    {"Inspector2 Finding", "Inspector2 Scan"},
		"aws.guardduty":     {"GuardDuty Finding"},
		"aws.securityhub":   {"Security Hub Findings - Imported", "Findings Imported V2"},
	}
	got := map[string][]string{}
	for _, r := range Routes {
		got[r.Source] = append(got[r.Source], r.DetailTypes...)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Routes (-want +got):\n%s", d)
	}
}

func TestStateTable(t *testing.T) {
	count(t, "AWS::DynamoDB::Table", 1)
	has(t, "AWS::DynamoDB::Table", map[string]any{
		"BillingMode":                      "PAY_PER_REQUEST",
		"TimeToLiveSpecification":          map[string]any{"AttributeName": TableTTLAttribute, "Enabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"KeySchema": []any{
			map[string]any{"AttributeName": TablePartitionKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": TableSortKey, "KeyType": "RANGE"},
		},
	})
}

// statement is one IAM policy statement, decoded from the template.
type statement struct {
	Sid       string
	Actions   []string
	Resources []any
}

func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// policy returns every statement of the policies attached to role id.
func policy(t *testing.T, roleID string) []statement {
	t.Helper()
	var out []statement
	for _, p := range resources(t, "AWS::IAM::Policy") {
		attached := false
		for _, r := range p["Roles"].([]any) {
			if fmt.Sprint(r) == fmt.Sprint(ref(roleID)) {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			s := statement{Actions: asStrings(st["Action"])}
			s.Sid, _ = st["Sid"].(string)
			if rs, ok := st["Resource"].([]any); ok {
				s.Resources = rs
			} else {
				s.Resources = []any{st["Resource"]}
			}
			out = append(out, s)
		}
	}
	return out
}

func TestIAMLeastPrivilege(t *testing.T) {
	s, _ := synth(t)
	// The only actions allowed on Resource "*": APIs without
	// resource-level permissions, and remediate's actions, whose targets
	// are named at run time.
	anyResource := map[string]bool{}
	for _, a := range []string{
		"xray:PutTelemetryRecords", "xray:PutTraceSegments",
		"codepipeline:GetJobDetails", "codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult",
		"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "inspector2:ListFindings",
		"ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "autoscaling:DescribeAutoScalingGroups",
		"codedeploy:StopDeployment", // the Service Authorization Reference lists no resource type for it
		"ssm:CreateOpsItem",         // likewise (vuln.go)
		// likewise for Elastic Load Balancing V2 (hooks.go ListenerReads)
		"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers",
	} {
		anyResource[a] = true
	}
	scopes, scoped, err := scopedRemediation(remediationActions())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.functionsList() {
		sts := policy(t, shared.ids[f.Name+"/role"])
		if len(sts) == 0 {
			t.Errorf("%s: no policy attached to its role", f.Name)
		}
		bySid := map[string]statement{}
		for _, st := range sts {
			for _, a := range st.Actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s: action %q has a wildcard", f.Name, a)
				}
			}
			for _, r := range st.Resources {
				if r != "*" {
					continue
				}
				for _, a := range st.Actions {
					if !anyResource[a] || (strings.HasPrefix(a, "codepipeline:") && f.Name != Verify) {
						t.Errorf("%s: %s on Resource \"*\" (statement %q); only APIs without resource-level permissions may", f.Name, a, st.Sid)
					}
				}
			}
			if st.Sid != "" {
				bySid[st.Sid] = st
			}
		}
		var want map[string][]string
		switch f.Name {
		case Verify:
			want = map[string][]string{
				"PipelineJobs":          {"codepipeline:GetJobDetails", "codepipeline:PutJobFailureResult", "codepipeline:PutJobSuccessResult"},
				"ReadMetricsAndAlarms":  {"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"},
				"ReadInspectorFindings": {"inspector2:ListFindings"},
				"ReadSpecParameters":    {"ssm:GetParameter"},
				"DecryptSpecParameters": {"kms:Decrypt"},
				"PublishVerdicts":       {"events:PutEvents"},
				"ReadTokenKey":          {"secretsmanager:GetSecretValue"},
				"ReadImageScanFindings": {"ecr:DescribeImageScanFindings"},
			}
		case Remediate:
			want = map[string][]string{
				"PublishAlerts":      {"sns:Publish"},
				"EncryptAlerts":      {"kms:Decrypt", "kms:GenerateDataKey"},
				"PassAutomationRole": {"iam:PassRole"},
			}
			for _, sc := range scopes {
				want[sc.sid] = scoped[sc.sid]
			}
		case Respond: // with RespondRemediates
			want = map[string][]string{
				"PublishAlerts": {"sns:Publish"},
				"EncryptAlerts": {"kms:Decrypt", "kms:GenerateDataKey"},
				"PipelineReads": {"codepipeline:GetPipeline", "codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions",
					"codepipeline:ListPipelineExecutions"},
				"PipelineRollback":   {"codepipeline:RollbackStage"},
				"DeploymentReads":    {"codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments"},
				"PassAutomationRole": {"iam:PassRole"},
			}
			for _, sc := range scopes {
				want[sc.sid] = scoped[sc.sid]
			}
		}
		got := map[string][]string{}
		for sid := range want {
			if st, ok := bySid[sid]; ok {
				got[sid] = sorted(st.Actions)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s policy statements by Sid (-want +got):\n%s", f.Name, d)
		}
		if f.Name == Remediate || f.Name == Respond {
			granted := map[string]bool{}
			for _, st := range sts {
				for _, a := range st.Actions {
					granted[a] = true
				}
			}
			for _, a := range remediationActions() {
				if !granted[a] {
					t.Errorf("remediate's registry declares %s; %s's role does not grant it", a, f.Name)
				}
			}
		}
	}
}

// Every IAM action the remediation registry declares has a resource
// scope, so a new action cannot reach the role unscoped.
func TestEveryRemediationActionIsScoped(t *testing.T) {
	if _, _, err := scopedRemediation(remediationActions()); err != nil {
		t.Fatal(err)
	}
	_, _, err := scopedRemediation([]string{"ec2:TerminateInstances"})
	if err == nil || !strings.Contains(err.Error(), "ec2:TerminateInstances") {
		t.Errorf("scopedRemediation(ec2:TerminateInstances) error = %v; want one naming the action", err)
	}
}

func TestRemediateAndRespondEnvironment(t *testing.T) {
	s, _ := synth(t)
	fns := resources(t, "AWS::Lambda::Function")
	for _, fn := range []string{Remediate, Respond} {
		env := fns[shared.ids[fn]]["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, k := range notify.Kinds {
			if d := cmp.Diff(ref(shared.ids["topic/"+string(k)]), env[config.TopicEnv(k)]); d != "" {
				t.Errorf("%s %s (-want +got):\n%s", fn, config.TopicEnv(k), d)
			}
		}
		if d := cmp.Diff(ref(shared.ids["table"]), env[config.EnvStateTable]); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", fn, config.EnvStateTable, d)
		}
	}
	remEnv := fns[shared.ids[Remediate]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if remEnv[config.EnvRemediationPolicy] != config.DefaultRemediationPolicy {
		t.Errorf("remediate %s = %v; want %q", config.EnvRemediationPolicy, remEnv[config.EnvRemediationPolicy], config.DefaultRemediationPolicy)
	}
	resEnv := fns[shared.ids[Respond]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	for k, want := range map[string]string{
		config.EnvRollbackPolicy:    s.Props.RollbackPolicy,
		config.EnvRemediateAlarms:   "true", // RespondRemediates
		config.EnvRemediationPolicy: config.DefaultRemediationPolicy,
	} {
		if resEnv[k] != want {
			t.Errorf("respond %s = %v; want %q", k, resEnv[k], want)
		}
	}
}

func TestVerifyPermissionsAreScoped(t *testing.T) {
	s, _ := synth(t)
	has(t, "AWS::IAM::Policy", map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{
				"Sid": "ReadSpecParameters",
				"Resource": map[string]any{"Fn::Join": []any{"", []any{
					"arn:", ref("AWS::Partition"), ":ssm:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":parameter/postdeploy/*",
				}}},
			}),
			assertions.Match_ObjectLike(&map[string]any{
				"Sid": "DecryptSpecParameters",
				"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": map[string]any{"Fn::Join": []any{"", []any{
					"ssm.", ref("AWS::Region"), ".amazonaws.com",
				}}}}},
			}),
		}),
	}, "Roles": []any{ref(shared.ids[Verify+"/role"])}})
	if s.Props.SpecParameterPrefix != DefaultSpecParameterPrefix {
		t.Errorf("SpecParameterPrefix = %q; want the default %q", s.Props.SpecParameterPrefix, DefaultSpecParameterPrefix)
	}
}

func TestTableAccessIsItemLevel(t *testing.T) {
	synth(t)
	for _, fn := range []string{Remediate, Respond} {
		found := false
		for _, st := range policy(t, shared.ids[fn+"/role"]) {
			if len(st.Actions) > 0 && strings.HasPrefix(st.Actions[0], "dynamodb:") {
				found = true
				if d := cmp.Diff(sorted(tableActions), sorted(st.Actions)); d != "" {
					t.Errorf("%s dynamodb actions (-want +got):\n%s", fn, d)
				}
				if d := cmp.Diff([]any{getArn(shared.ids["table"])}, st.Resources[:1]); d != "" {
					t.Errorf("%s dynamodb resources (-want +got):\n%s", fn, d)
				}
			}
		}
		if !found {
			t.Errorf("%s: no dynamodb statement", fn)
		}
	}
	for _, st := range policy(t, shared.ids[Verify+"/role"]) {
		if st.Sid == "ClaimHookSteps" {
			continue // its hook claims, one PutItem on "hook#" keys: TestHookPermissionsAreScoped
		}
		for _, a := range st.Actions {
			if strings.HasPrefix(a, "dynamodb:") || strings.HasPrefix(a, "s3:") {
				t.Errorf("verify may %s; it needs no table but its hook claims, and reads artifacts with the job's own credentials", a)
			}
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

func TestApplicationAlarmSet(t *testing.T) {
	synth(t)
	action := func(k notify.Kind) []any { return []any{ref(shared.ids["topic/"+string(k)])} }
	has(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName": "shop-high-cpu", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
		"Dimensions": []any{map[string]any{"Name": "AutoScalingGroupName", "Value": "shop-asg"}},
		"Statistic":  "Average", "Period": 300, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
		"Threshold": 80, "ComparisonOperator": "GreaterThanThreshold",
		"AlarmActions": action(notify.HighCPU), "OKActions": action(notify.HighCPU),
	})
	has(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName": "shop-5xx-error-rate", "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
		"EvaluationPeriods": 1,
		"Metrics": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Expression": monitoring.ErrorRateExpression, "ReturnData": true}),
			assertions.Match_ObjectLike(&map[string]any{"Id": "requests", "MetricStat": assertions.Match_ObjectLike(&map[string]any{
				"Metric": map[string]any{"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
					"Dimensions": []any{map[string]any{"Name": "LoadBalancer", "Value": testApp.LoadBalancer}}},
				"Period": 300, "Stat": "Sum",
			})}),
		}),
		"AlarmActions": action(notify.Application),
	})
	// Requests the load balancer refuses before choosing a target (no
	// healthy targets) are not in RequestCount; the rate counts them.
	has(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName": "shop-5xx-error-rate",
		"Metrics": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Id": "elb503", "MetricStat": assertions.Match_ObjectLike(&map[string]any{
				"Metric": map[string]any{"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_ELB_503_Count",
					"Dimensions": []any{map[string]any{"Name": "LoadBalancer", "Value": testApp.LoadBalancer}}},
				"Period": 300, "Stat": "Sum",
			})}),
		}),
	})
	has(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName": "shop-low-free-disk", "Namespace": "CWAgent", "MetricName": "disk_used_percent",
		"Period": 300, "EvaluationPeriods": 6, "DatapointsToAlarm": 6, "Threshold": 80,
		"ComparisonOperator": "GreaterThanThreshold", "AlarmActions": action(notify.Infrastructure),
	})
	has(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName": "shop-sign-in-anomaly", "EvaluationPeriods": 3, "DatapointsToAlarm": 3,
		"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
		"ThresholdMetricId":  assertions.Match_AnyValue(),
		"Metrics": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Expression": assertions.Match_StringLikeRegexp(jsii.String(`ANOMALY_DETECTION_BAND\(\w+,\s*2\)`))}),
			assertions.Match_ObjectLike(&map[string]any{"MetricStat": assertions.Match_ObjectLike(&map[string]any{
				"Metric": assertions.Match_ObjectLike(&map[string]any{"Namespace": "Shop", "MetricName": "SignIns"}),
				"Period": 300,
			})}),
		}),
		"AlarmActions": action(notify.Security),
	})
}

func TestSuiteIsMonitored(t *testing.T) {
	s, _ := synth(t)
	esc := []any{ref(shared.ids["topic/escalation"])}
	for _, f := range s.functionsList() {
		for _, m := range []string{"Errors", "Throttles"} {
			has(t, "AWS::CloudWatch::Alarm", map[string]any{
				"Namespace": "AWS/Lambda", "MetricName": m,
				"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(shared.ids[f.Name])}},
				"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Period": 300,
				"AlarmActions": esc,
			})
		}
		has(t, "AWS::CloudWatch::Alarm", map[string]any{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
			"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{shared.ids[f.Name+"/dlq"], "QueueName"}}}},
			"Threshold":  1, "AlarmActions": esc,
		})
	}
	count(t, "AWS::CloudWatch::Alarm", 3*3+4)
}

// dashboardBody is the JSON text of a dashboard, tokens flattened.
func dashboardBody(t *testing.T, name string) string {
	t.Helper()
	for _, p := range resources(t, "AWS::CloudWatch::Dashboard") {
		if p["DashboardName"] == name {
			b, err := json.Marshal(p["DashboardBody"])
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Errorf("no dashboard named %q", name)
	return ""
}

func TestDashboards(t *testing.T) {
	synth(t)
	// Post-Deploy Verification, System Health Overview, Application
	// Performance, and the model dashboards (infra/stack/delivery.go):
	// Delivery Performance, Infrastructure Overview, Application Deep Dive
	// (Business Metrics is not configured here).
	count(t, "AWS::CloudWatch::Dashboard", 6)
	tests := []struct {
		name string
		want []string
	}{
		{"Postdeploy-Post-Deploy-Verification", []string{
			VerificationDashboardTitle, telemetry.MetricVerifications, `\"Verdict\",\"Succeeded\"`, `\"Verdict\",\"Failed\"`,
			`\"Verdict\",\"Inconclusive\"`, `\"Verdict\",\"Error\"`, telemetry.MetricRemediations,
			telemetry.MetricTimeToRecover, telemetry.MetricFindings, `\"Priority\",\"P1\"`, config.DefaultMetricNamespace,
		}},
		{"shop-System-Health-Overview", []string{
			monitoring.SystemHealthTitle, "CPUUtilization", "shop-asg", "mem_used_percent", "RequestCount",
			"TargetResponseTime", "DatabaseConnections", "disk_used_percent",
		}},
		{"shop-Application-Performance", []string{
			monitoring.AppPerformanceTitle, "HTTPCode_Target_5XX_Count", "p99", "ANOMALY_DETECTION_BAND", "SignIns",
		}},
		{"shop-Delivery-Performance", []string{
			monitoring.DeliveryPerformanceTitle, delivery.MetricDeployments, delivery.MetricLeadTime, delivery.MetricChangeFailures,
			delivery.MetricTimeToRestore, delivery.MetricBuilds, delivery.MetricPipelineExecutions, config.DefaultMetricNamespace,
		}},
		{"shop-Infrastructure-Overview", []string{monitoring.InfrastructureOverviewTitle, "StatusCheckFailed", "CPUReservation", "ReadLatency"}},
		{"shop-Application-Deep-Dive", []string{monitoring.ApplicationDeepDiveTitle, "AWS/ApiGateway", "AWS/Lambda", telemetry.MetricEventsHandled}},
	}
	for _, tt := range tests {
		body := dashboardBody(t, tt.name)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("dashboard %q does not mention %s", tt.name, w)
			}
		}
	}
}

func TestExamplePipelineVerifiesAfterDeploy(t *testing.T) {
	synth(t)
	has(t, "AWS::CodePipeline::Pipeline", map[string]any{
		"PipelineType": "V2",
		"Stages": []any{
			assertions.Match_ObjectLike(&map[string]any{"Name": "Source"}),
			assertions.Match_ObjectLike(&map[string]any{"Name": "Deploy"}),
			assertions.Match_ObjectLike(&map[string]any{"Name": "Verify", "Actions": []any{assertions.Match_ObjectLike(&map[string]any{
				"Name":          "Verify",
				"ActionTypeId":  map[string]any{"Category": "Invoke", "Owner": "AWS", "Provider": "Lambda", "Version": "1"},
				"Configuration": map[string]any{"FunctionName": ref(shared.ids[Verify]), "UserParameters": assertions.Match_StringLikeRegexp(jsii.String("no-new-alarms"))},
				"Namespace":     "Verify",
			})}}),
		},
	})
}

// Every route matches what triage reads, so no security event is routed
// that respond would drop as unhandled, and none it reads is missed.
func TestSecurityRoutesMatchTriage(t *testing.T) {
	security := map[string]bool{triage.SourceEventECR: true, triage.SourceEventInspector: true, triage.SourceEventGuardDuty: true, triage.SourceEventSecurityHub: true}
	for _, r := range Routes {
		for _, dt := range r.DetailTypes {
			if got := triage.IsSecurity(r.Source, dt); got != security[r.Source] {
				t.Errorf("triage.IsSecurity(%q, %q) = %v; want %v", r.Source, dt, got, security[r.Source])
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	_, tpl := synth(t)
	outs, _ := tpl["Outputs"].(map[string]any)
	want := map[string]any{
		"VerifyFunctionName": ref(shared.ids[Verify]),
		"VerifyFunctionArn":  getArn(shared.ids[Verify]),
		"StateTableName":     ref(shared.ids["table"]),
		"TokenKeySecretArn":  ref(shared.ids["tokenKey"]),
	}
	for _, k := range notify.Kinds {
		want[topicID(k)+"Arn"] = ref(shared.ids["topic/"+string(k)])
	}
	for name, v := range want {
		o, _ := outs[name].(map[string]any)
		if d := cmp.Diff(v, o["Value"]); d != "" {
			t.Errorf("output %s (-want +got):\n%s", name, d)
		}
	}
	if _, ok := outs["ExampleArtifactsBucket"]; !ok {
		t.Error("no ExampleArtifactsBucket output with the example pipeline on")
	}
}

// rawStatements returns every statement, conditions included, of the
// policies attached to role id.
func rawStatements(t *testing.T, roleID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range resources(t, "AWS::IAM::Policy") {
		for _, r := range p["Roles"].([]any) {
			if fmt.Sprint(r) != fmt.Sprint(ref(roleID)) {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				out = append(out, st.(map[string]any))
			}
		}
	}
	return out
}

// readmeSection returns the README section that starts with heading.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// IAM enforces the opt-in too: every statement of remediate's (and
// respond's, which remediates in this stack) role that allows a mutating
// remediation action requires the opt-in tag on the resource, where the
// Service Authorization Reference lists aws:ResourceTag/${TagKey} for the
// action's resource type; the README names the actions where AWS offers
// no such condition.
func TestMutatingRemediationActionsRequireOptInTag(t *testing.T) {
	s, _ := synth(t)
	wantCond := map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + DefaultOptInTag.Key: DefaultOptInTag.Value}}
	for _, fn := range []string{Remediate, Respond} {
		seen := map[string]bool{}
		for _, st := range rawStatements(t, shared.ids[fn+"/role"]) {
			for _, a := range asStrings(st["Action"]) {
				sc, ok := remediationScopes[a]
				if !ok || !sc.mutates || !sc.optIn {
					continue
				}
				seen[a] = true
				if d := cmp.Diff(wantCond, st["Condition"]); d != "" {
					t.Errorf("%s: statement %v allows %s without the opt-in tag condition (-want +got):\n%s", fn, st["Sid"], a, d)
				}
			}
		}
		for _, a := range remediationActions() {
			if sc := remediationScopes[a]; sc.mutates && sc.optIn && !seen[a] {
				t.Errorf("%s: no statement allows %s", fn, a)
			}
		}
	}
	if s.Props.OptInTag != DefaultOptInTag {
		t.Errorf("OptInTag = %v; want the default %v", s.Props.OptInTag, DefaultOptInTag)
	}
	exceptions := OptInExceptions()
	if d := cmp.Diff([]string{"codedeploy:StopDeployment", "ssm:StartAutomationExecution"}, sorted(keysOf(exceptions))); d != "" {
		t.Errorf("mutating actions without an opt-in condition (-want +got):\n%s", d)
	}
	section := readmeSection(t, "## remediate: safe auto-remediation")
	for a, why := range exceptions {
		if why == "" {
			t.Errorf("%s mutates without an opt-in condition and no reason", a)
		}
		if !strings.Contains(section, "`"+a+"`") {
			t.Errorf("README.md's remediate section does not list `%s` among the actions IAM cannot condition on the opt-in tag", a)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ssm.runbook: remediate may start only the runbooks the policy names
// (their documents and automation definitions; AWS-owned ones have no
// account in their ARN), and pass exactly the stack's automation role,
// to Systems Manager only; that role may be assumed only by Systems
// Manager for this account's executions, and stops and starts only
// instances carrying the opt-in tag.
func TestRunbooksAndAutomationRole(t *testing.T) {
	synth(t)
	roles := resources(t, "AWS::IAM::Role")
	var roleID string
	for id, p := range roles {
		if fmt.Sprint(resolve(t, p["RoleName"])) == AutomationRolePrefix+standin.Region {
			roleID = id
		}
	}
	if roleID == "" {
		t.Fatalf("no role named %s<region>", AutomationRolePrefix)
	}
	trust := resolve(t, roles[roleID]["AssumeRolePolicyDocument"]).(map[string]any)["Statement"].([]any)
	wantTrust := []any{map[string]any{
		"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "ssm.amazonaws.com"},
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": standin.AccountID},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:ssm:us-east-1:123456789012:automation-execution/*"},
		},
	}}
	if d := cmp.Diff(wantTrust, trust); d != "" {
		t.Errorf("automation role trust policy (-want +got):\n%s", d)
	}
	bySid := map[string]map[string]any{}
	for _, st := range rawStatements(t, roleID) {
		bySid[fmt.Sprint(st["Sid"])] = resolve(t, st).(map[string]any)
	}
	if d := cmp.Diff(map[string]any{
		"Sid": "RunbookOptedInInstances", "Effect": "Allow", "Action": []any{"ec2:StartInstances", "ec2:StopInstances"},
		"Resource":  "arn:aws:ec2:us-east-1:123456789012:instance/*",
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/postdeploy:remediate": "true"}},
	}, bySid["RunbookOptedInInstances"]); d != "" {
		t.Errorf("automation role RunbookOptedInInstances (-want +got):\n%s", d)
	}
	for _, fn := range []string{Remediate, Respond} {
		got := map[string]any{}
		for _, st := range rawStatements(t, shared.ids[fn+"/role"]) {
			switch st["Sid"] {
			case "RemediationRunbooks", "PassAutomationRole":
				got[st["Sid"].(string)] = st
			}
		}
		want := map[string]any{
			"RemediationRunbooks": map[string]any{"Sid": "RemediationRunbooks", "Effect": "Allow", "Action": "ssm:StartAutomationExecution",
				"Resource": []any{
					"arn:aws:ssm:us-east-1::document/AWS-RestartEC2Instance",
					"arn:aws:ssm:us-east-1::automation-definition/AWS-RestartEC2Instance:*",
					"arn:aws:ssm:us-east-1:123456789012:automation-definition/AWS-RestartEC2Instance:*",
					"arn:aws:ssm:us-east-1:123456789012:automation-execution/*",
				}},
			"PassAutomationRole": map[string]any{"Sid": "PassAutomationRole", "Effect": "Allow", "Action": "iam:PassRole",
				"Resource":  getArn(roleID),
				"Condition": map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ssm.amazonaws.com"}}},
		}
		if d := cmp.Diff(want, resolve(t, got)); d != "" {
			t.Errorf("%s runbook statements (-want +got):\n%s", fn, d)
		}
	}
}

// Verdicts travel on the stack's own bus, whose resource policy admits
// only verify's role: an allow for it and a deny for every other
// principal (aws:PrincipalArn), since within the account an identity
// policy alone would let anyone with events:PutEvents publish a "Failed"
// verdict. respond's verdict rule listens on that bus only.
func TestVerdictBusAdmitsOnlyVerify(t *testing.T) {
	synth(t)
	count(t, "AWS::Events::EventBus", 1)
	verifyRole := getArn(shared.ids[Verify+"/role"])
	bus := getArn(shared.ids["bus"])
	var got []any
	for _, p := range resources(t, "AWS::Events::EventBusPolicy") {
		if d := cmp.Diff(ref(shared.ids["bus"]), p["EventBusName"]); d != "" {
			t.Errorf("EventBusPolicy on another bus (-want +got):\n%s", d)
		}
		st := p["Statement"].(map[string]any)
		delete(st, "Sid")
		got = append(got, st)
	}
	sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]) < fmt.Sprint(got[j]) })
	want := []any{
		map[string]any{"Action": "events:PutEvents", "Effect": "Allow", "Principal": map[string]any{"AWS": verifyRole}, "Resource": bus},
		map[string]any{"Action": "events:PutEvents", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Resource": bus,
			"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": verifyRole}}},
	}
	sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("verdict bus policy statements (-want +got):\n%s", d)
	}
	for id, p := range resources(t, "AWS::Events::Rule") {
		onBus, _ := p["EventBusName"]
		isVerdict := fmt.Sprint(p["EventPattern"].(map[string]any)["source"]) == fmt.Sprint([]any{"postdeploy.verify"})
		switch {
		case isVerdict && fmt.Sprint(onBus) != fmt.Sprint(ref(shared.ids["bus"])):
			t.Errorf("rule %s (verify's verdicts) is on bus %v; want the verdict bus", id, onBus)
		case !isVerdict && onBus != nil:
			t.Errorf("rule %s (AWS service events) is on bus %v; AWS services publish to the default bus", id, onBus)
		}
	}
	for _, st := range rawStatements(t, shared.ids[Verify+"/role"]) {
		if st["Sid"] == "PublishVerdicts" {
			if d := cmp.Diff(bus, st["Resource"]); d != "" {
				t.Errorf("verify PublishVerdicts resource (-want +got):\n%s", d)
			}
		}
	}
}

// Only CloudWatch, for this account's alarms, and the suite's own roles
// (remediate, respond) may publish to the alert topics: the allow for
// CloudWatch carries aws:SourceAccount and aws:SourceArn, and a deny
// refuses every publisher that is neither.
func TestAlertTopicsAdmitOnlyAlarmsAndTheSuite(t *testing.T) {
	synth(t)
	alarms := map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":cloudwatch:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":alarm:*"}}}
	wantAllow := map[string]any{
		"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Action": "sns:Publish",
		"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")},
			"ArnLike":      map[string]any{"aws:SourceArn": alarms},
		},
	}
	wantDeny := map[string]any{
		"Sid": "OnlyAlarmsAndTheSuitePublish", "Effect": "Deny", "Action": "sns:Publish", "Principal": map[string]any{"AWS": "*"},
		"Condition": map[string]any{
			"ArnNotEquals": map[string]any{"aws:PrincipalArn": []any{getArn(shared.ids[Remediate+"/role"]), getArn(shared.ids[Respond+"/role"])}},
			"ArnNotLike":   map[string]any{"aws:SourceArn": alarms},
		},
	}
	seen := 0
	for id, p := range resources(t, "AWS::SNS::TopicPolicy") {
		topic := p["Topics"].([]any)[0]
		got := map[string]any{}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if sid, ok := st["Sid"].(string); ok && sid != "AllowPublishThroughSSLOnly" {
				c := map[string]any{}
				for k, v := range st {
					if k != "Resource" {
						c[k] = v
					}
				}
				got[sid] = c
				if d := cmp.Diff(topic, st["Resource"]); d != "" {
					t.Errorf("topic policy %s statement %s applies to another topic (-want +got):\n%s", id, sid, d)
				}
			}
		}
		if _, ok := got["OnlyRespondPublishes"]; ok {
			continue // the vulnerability report topic: TestVulnReportTopicOnlyRespondPublishes
		}
		if d := cmp.Diff(map[string]any{"AllowCloudWatchAlarms": wantAllow, "OnlyAlarmsAndTheSuitePublish": wantDeny}, got); d != "" {
			t.Errorf("topic policy %s (-want +got):\n%s", id, d)
		}
		seen++
	}
	if seen != len(notify.Kinds) {
		t.Errorf("%d topic policies; want one per kind (%d)", seen, len(notify.Kinds))
	}
}

// RollbackStage acts on stage* ARNs (arn:...:codepipeline:region:account:
// <pipeline>/<stage>, "Actions, resources, and condition keys for AWS
// CodePipeline"): respond may roll back only the configured pipelines
// and stages and the example pipeline, never any pipeline.
func TestRollbackStageScopedToConfiguredPipelines(t *testing.T) {
	synth(t)
	var got []any
	for _, st := range rawStatements(t, shared.ids[Respond+"/role"]) {
		acts := asStrings(st["Action"])
		if !slices.Contains(acts, "codepipeline:RollbackStage") {
			continue
		}
		if len(acts) != 1 {
			t.Errorf("statement %v grants RollbackStage with %v; want it alone", st["Sid"], acts)
		}
		got = append(got, resolve(t, st["Resource"]))
	}
	want := []any{[]any{
		"arn:aws:codepipeline:us-east-1:123456789012:shop-prod/Deploy",
		"arn:aws:codepipeline:us-east-1:123456789012:billing-*",
		"arn:aws:codepipeline:us-east-1:123456789012:payments/*",
		"arn:aws:codepipeline:us-east-1:123456789012:Postdeploy-example/*",
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("RollbackStage resources (-want +got):\n%s", d)
	}
	has(t, "AWS::CodePipeline::Pipeline", map[string]any{"Name": "Postdeploy-example"})
}

// The alarm-state rule leaves out the alarms Auto Scaling's target
// tracking policies manage (TargetTracking-…), with EventBridge's
// anything-but prefix ("Comparison operators for use in event patterns
// in Amazon EventBridge").
func TestAlarmRuleLeavesOutTargetTracking(t *testing.T) {
	synth(t)
	has(t, "AWS::Events::Rule", map[string]any{"EventPattern": assertions.Match_ObjectLike(&map[string]any{
		"source": []any{"aws.cloudwatch"},
		"detail": map[string]any{
			"state":     map[string]any{"value": []any{"ALARM", "OK"}},
			"alarmName": []any{map[string]any{"anything-but": map[string]any{"prefix": "TargetTracking-"}}},
		},
	})})
}

// The example pipeline's first run, which CodePipeline starts when it
// creates the pipeline, has a source: the bundled page, a CDK asset in
// the (versioned) bootstrap bucket uploaded before the stack is created,
// not an object someone has yet to upload.
func TestExamplePipelineFirstRunHasASource(t *testing.T) {
	s, _ := synth(t)
	var source map[string]any
	for _, p := range resources(t, "AWS::CodePipeline::Pipeline") {
		for _, st := range p["Stages"].([]any) {
			st := st.(map[string]any)
			if st["Name"] == "Source" {
				source = st["Actions"].([]any)[0].(map[string]any)["Configuration"].(map[string]any)
			}
		}
	}
	if source == nil {
		t.Fatal("no Source stage")
	}
	bucket, _ := json.Marshal(source["S3Bucket"])
	if !strings.Contains(string(bucket), "cdk-hnb659fds-assets-") {
		t.Errorf("Source S3Bucket = %s; want the CDK bootstrap asset bucket", bucket)
	}
	if key := fmt.Sprint(source["S3ObjectKey"]); !regexp.MustCompile(`^[0-9a-f]{64}\.zip$`).MatchString(key) {
		t.Errorf("Source S3ObjectKey = %q; want the asset's <hash>.zip", key)
	}
	page := filepath.Join(*awscdk.Stage_Of(s.Stack).Outdir(), exampleSourceDir, "index.html")
	want, _ := exampleSite.ReadFile("example/index.html")
	if got, err := os.ReadFile(page); err != nil || !bytes.Equal(got, want) {
		t.Errorf("example source %s: %v; want the bundled page", page, err)
	}
}

// verify's continuation tokens are signed with a generated 64-character
// key in Secrets Manager; verify may read exactly that secret and finds
// it through config.EnvTokenKeySecret; no other function may read a
// secret.
func TestTokenKeySecret(t *testing.T) {
	synth(t)
	count(t, "AWS::SecretsManager::Secret", 1)
	has(t, "AWS::SecretsManager::Secret", map[string]any{
		"GenerateSecretString": map[string]any{"PasswordLength": TokenKeyLength, "ExcludePunctuation": true},
	})
	secret := ref(shared.ids["tokenKey"])
	fns := resources(t, "AWS::Lambda::Function")
	env := fns[shared.ids[Verify]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if d := cmp.Diff(secret, env[config.EnvTokenKeySecret]); d != "" {
		t.Errorf("verify %s (-want +got):\n%s", config.EnvTokenKeySecret, d)
	}
	for _, fn := range FunctionNames {
		for _, st := range rawStatements(t, shared.ids[fn+"/role"]) {
			for _, a := range asStrings(st["Action"]) {
				if !strings.HasPrefix(a, "secretsmanager:") {
					continue
				}
				if fn != Verify || a != "secretsmanager:GetSecretValue" {
					t.Errorf("%s may %s; only verify reads a secret, with GetSecretValue", fn, a)
				}
				if d := cmp.Diff(secret, st["Resource"]); d != "" {
					t.Errorf("%s %s on (-want +got): exactly the token key\n%s", fn, a, d)
				}
			}
		}
	}
}

// respond confirms a failed verification through CodePipeline before it
// rolls back, by the verify function's name: the stack tells it the name.
func TestRespondKnowsTheVerifyFunction(t *testing.T) {
	synth(t)
	fns := resources(t, "AWS::Lambda::Function")
	env := fns[shared.ids[Respond]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if d := cmp.Diff(ref(shared.ids[Verify]), env[config.EnvVerifyFunction]); d != "" {
		t.Errorf("respond %s (-want +got): verify's name\n%s", config.EnvVerifyFunction, d)
	}
}

// config.EnvLocalProbes lets probes reach loopback addresses; only the
// local harness sets it, never a deployed function.
func TestNoFunctionSetsLocalProbes(t *testing.T) {
	synth(t)
	for id, p := range resources(t, "AWS::Lambda::Function") {
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if len(vars) == 0 {
			t.Errorf("function %s has no environment; the check would prove nothing", id)
		}
		if v, ok := vars[config.EnvLocalProbes]; ok {
			t.Errorf("function %s sets %s=%v; only the local harness may", id, config.EnvLocalProbes, v)
		}
	}
}
