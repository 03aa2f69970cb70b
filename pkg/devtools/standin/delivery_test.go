package standin

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

const drillTopic = "arn:aws:sns:us-east-1:123456789012:alerts"

func drillScenario() Scenario {
	return Scenario{Alarms: []Alarm{{
		Name: "app-high-cpu", Namespace: "AWS/EC2", MetricName: "CPUUtilization", Statistic: "Average", Period: 300,
		EvaluationPeriods: 1, Threshold: 80, ComparisonOperator: "GreaterThanThreshold",
		Dimensions: map[string]string{"AutoScalingGroupName": "app-asg"},
		Actions:    []string{drillTopic}, OKActions: []string{drillTopic},
	}}}
}

// queueFor creates a queue subscribed to drillTopic; with allow, its
// policy lets SNS send from that topic only.
func queueFor(t *testing.T, q *sqs.Client, n *sns.Client, name string, allow bool) (url, subARN string) {
	t.Helper()
	ctx := ctxT(t)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"SqsManagedSseEnabled": "true"}})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	arn := attrs.Attributes["QueueArn"]
	if allow {
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + arn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + drillTopic + `"}}}]}`
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: out.QueueUrl, Attributes: map[string]string{"Policy": policy}}); err != nil {
			t.Fatalf("SetQueueAttributes: %v", err)
		}
	}
	sub, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(drillTopic), Protocol: aws.String("sqs"), Endpoint: aws.String(arn), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return aws.ToString(out.QueueUrl), aws.ToString(sub.SubscriptionArn)
}

// SetAlarmState drives the same path as a real alarm: "When the updated
// state differs from the previous value, the action configured for the
// appropriate state is invoked" (CloudWatch API Reference,
// SetAlarmState) — CloudWatch's notification on the alarm's topic, to a
// queue whose policy admits the topic ("Fanout to Amazon SQS queues",
// Amazon SNS Developer Guide), and the alarm state change event to
// EventBridge ("Alarm events and EventBridge"). On both CloudWatch
// protocols the client speaks.
func TestSetAlarmStateDeliversLikeAnAlarm(t *testing.T) {
	for _, proto := range []struct {
		name string
		set  func(*cloudwatch.Options)
	}{
		{"rpcv2Cbor", func(*cloudwatch.Options) {}},
		{"awsQuery", func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }},
	} {
		t.Run(proto.name, func(t *testing.T) {
			s := startServer(t, drillScenario())
			var mu sync.Mutex
			var evs [][]byte
			got := make(chan struct{}, 4)
			s.SetHooks(Hooks{Event: func(ev []byte) { mu.Lock(); evs = append(evs, ev); mu.Unlock(); got <- struct{}{} }})
			cfg := awsConfig(t, s)
			cw, q, n := cloudwatch.NewFromConfig(cfg, proto.set), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
			allowed, _ := queueFor(t, q, n, "allowed", true)
			refused, _ := queueFor(t, q, n, "refused", false)
			ctx := ctxT(t)

			if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-high-cpu"),
				StateValue: cwtypes.StateValueAlarm, StateReason: aws.String(contract.DrillReason)}); err != nil {
				t.Fatalf("SetAlarmState: %v", err)
			}
			msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(allowed), MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatalf("ReceiveMessage: %v", err)
			}
			if len(msgs.Messages) != 1 {
				t.Fatalf("ReceiveMessage = %d messages; want CloudWatch's notification", len(msgs.Messages))
			}
			var env struct{ Type, TopicArn, Message string }
			if err := json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &env); err != nil {
				t.Fatalf("message body is not SNS's JSON envelope: %v", err)
			}
			var cwMsg events.CloudWatchAlarmSNSPayload
			if err := json.Unmarshal([]byte(env.Message), &cwMsg); err != nil {
				t.Fatalf("envelope message is not CloudWatch's alarm JSON: %v", err)
			}
			if env.Type != "Notification" || env.TopicArn != drillTopic || cwMsg.AlarmName != "app-high-cpu" || cwMsg.NewStateValue != "ALARM" ||
				cwMsg.NewStateReason != contract.DrillReason || cwMsg.OldStateValue != "OK" {
				t.Errorf("notification = %+v / %+v; want app-high-cpu OK → ALARM with the drill reason on %s", env, cwMsg, drillTopic)
			}
			if _, err := contract.DecodeSNSMessage(env.Message); err != nil {
				t.Errorf("contract.DecodeSNSMessage(notification) = %v; want it to decode as remediate decodes it", err)
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(allowed), ReceiptHandle: msgs.Messages[0].ReceiptHandle}); err != nil {
				t.Errorf("DeleteMessage: %v", err)
			}
			if m, _ := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(refused)}); m != nil && len(m.Messages) > 0 {
				t.Errorf("the queue without a policy got %d messages; want none (SNS may not send to it)", len(m.Messages))
			}
			if u := s.UndeliveredMessages(); len(u) != 1 || !strings.Contains(u[0].Reason, "policy") {
				t.Errorf("UndeliveredMessages = %+v; want the refused queue's, for its policy", u)
			}
			select {
			case <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("no EventBridge alarm state change event")
			}
			mu.Lock()
			var ev events.EventBridgeEvent
			err = json.Unmarshal(evs[0], &ev)
			mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			a, err := contract.AlarmFromEventBridge(ev)
			if err != nil || a.Name != "app-high-cpu" || a.NewState != "ALARM" || a.Reason != contract.DrillReason || a.MetricName != "CPUUtilization" {
				t.Errorf("AlarmFromEventBridge(event) = %+v, %v; want app-high-cpu ALARM with the drill reason and its metric", a, err)
			}

			// The same state again is no change: no action, no event.
			if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-high-cpu"),
				StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("again")}); err != nil {
				t.Fatalf("SetAlarmState again: %v", err)
			}
			if m, _ := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(allowed)}); m != nil && len(m.Messages) > 0 {
				t.Errorf("setting ALARM on an alarm in ALARM notified %d times; want none", len(m.Messages))
			}
		})
	}
}

func TestSetAlarmStateIsStrict(t *testing.T) {
	s := startServer(t, drillScenario())
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tests := []struct {
		name     string
		in       cloudwatch.SetAlarmStateInput
		wantCode string
	}{
		{"unknown alarm", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: "ALARM", StateReason: aws.String("x")}, "ResourceNotFound"},
		{"bad state", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-high-cpu"), StateValue: "RED", StateReason: aws.String("x")}, "ValidationError"},
		{"reason data not JSON", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-high-cpu"), StateValue: "ALARM", StateReason: aws.String("x"), StateReasonData: aws.String("{")}, "InvalidFormat"},
	}
	for _, tc := range tests {
		_, err := cw.SetAlarmState(ctx, &tc.in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
			t.Errorf("SetAlarmState(%s) = %v; want %s", tc.name, err, tc.wantCode)
		}
	}
}

// A stack CloudFormation does not have is ValidationError "Stack with
// id <name> does not exist" (AWS CloudFormation API Reference,
// DescribeStacks); resources list with their physical ids.
func TestCloudFormationStacks(t *testing.T) {
	s := startServer(t, Scenario{})
	if err := s.AddStack(Stack{Name: "Demo", Outputs: map[string]string{"StateTableName": "t"}, Resources: []StackResource{
		{"A", "AWS::CloudWatch::Alarm", "app-high-cpu"}, {"T", "AWS::SNS::Topic", drillTopic},
	}}); err != nil {
		t.Fatal(err)
	}
	cfn := cloudformation.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	_, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Other")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "does not exist") {
		t.Errorf("DescribeStacks(Other) = %v; want ValidationError ... does not exist", err)
	}
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Demo")})
	if err != nil || len(out.Stacks) != 1 || len(out.Stacks[0].Outputs) != 1 || out.Stacks[0].StackStatus != "CREATE_COMPLETE" {
		t.Fatalf("DescribeStacks(Demo) = %+v, %v; want the stack with its output", out, err)
	}
	res, err := cfn.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: out.Stacks[0].StackId})
	if err != nil || len(res.StackResourceSummaries) != 2 || aws.ToString(res.StackResourceSummaries[1].PhysicalResourceId) != drillTopic {
		t.Errorf("ListStackResources(Demo) = %+v, %v; want its two resources", res, err)
	}
}

// Subscribe: "For the sqs protocol, the endpoint is the ARN of an Amazon
// SQS queue"; "For the lambda protocol, the endpoint is the ARN of an AWS
// Lambda function" (SNS API Reference, Subscribe).
func TestSubscribeChecksQueueAndFunctionEndpoints(t *testing.T) {
	s := startServer(t, Scenario{})
	tests := []struct {
		protocol, endpoint string
		ok                 bool
	}{
		{"sqs", "arn:aws:sqs:us-east-1:123456789012:q", true},
		{"sqs", "https://sqs.us-east-1.amazonaws.com/123456789012/q", false},
		{"lambda", "arn:aws:lambda:us-east-1:123456789012:function:f", true},
		{"lambda", "f", false},
		{"email", "a@example.com", true},
	}
	for _, tc := range tests {
		_, err := s.Subscribe(drillTopic, tc.protocol, tc.endpoint, nil)
		if (err == nil) != tc.ok {
			t.Errorf("Subscribe(%s, %q) = %v; want ok %v", tc.protocol, tc.endpoint, err, tc.ok)
		}
	}
}

func TestSQSIsStrict(t *testing.T) {
	s := startServer(t, Scenario{})
	q := sqs.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"bad queue name", func() error {
			_, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("no spaces")})
			return err
		}, "InvalidParameterValue"},
		{"unknown attribute", func() error {
			_, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"Colour": "red"}})
			return err
		}, "InvalidAttributeName"},
		{"retention out of range", func() error {
			_, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"MessageRetentionPeriod": "10"}})
			return err
		}, "InvalidAttributeValue"},
		{"no such queue", func() error {
			_, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/none")})
			return err
		}, "QueueDoesNotExist"},
	}
	for _, tc := range tests {
		err := tc.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
			t.Errorf("%s: err = %v; want %s", tc.name, err, tc.wantCode)
		}
	}
}

// Lambda subscriptions get the SNSEvent Lambda is invoked with; an
// unsubscribed queue gets nothing more.
func TestSNSLambdaDeliveryAndUnsubscribe(t *testing.T) {
	s := startServer(t, drillScenario())
	got := make(chan []byte, 2)
	s.SetHooks(Hooks{Lambda: func(fn string, ev []byte) { got <- ev }})
	if _, err := s.Subscribe(drillTopic, "lambda", "arn:aws:lambda:us-east-1:123456789012:function:remediate", nil); err != nil {
		t.Fatal(err)
	}
	cfg := awsConfig(t, s)
	q, n := sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	url, sub := queueFor(t, q, n, "drill", true)
	ctx := ctxT(t)
	list, err := n.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(drillTopic)})
	if err != nil || len(list.Subscriptions) != 2 {
		t.Fatalf("ListSubscriptionsByTopic = %+v, %v; want the lambda and the queue", list, err)
	}
	if _, err := n.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(sub)}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if _, err := n.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(drillTopic), Message: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		var ev events.SNSEvent
		if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) != 1 || ev.Records[0].SNS.Message != "hello" {
			t.Errorf("Lambda hook got %s (%v); want one SNS record with the message", b, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the Lambda subscription got nothing")
	}
	if m, _ := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)}); m != nil && len(m.Messages) > 0 {
		t.Errorf("the unsubscribed queue got %d messages; want none", len(m.Messages))
	}
}
