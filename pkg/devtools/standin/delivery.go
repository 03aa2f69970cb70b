package standin

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// Delivery beyond recording: SNS messages reach SQS subscriptions (when
// the queue's policy admits the topic) and, through Hooks, Lambda
// subscriptions; CloudWatch's SetAlarmState changes an alarm's state the
// way CloudWatch does — when the state differs, the actions of the new
// state are invoked (CloudWatch's notification JSON published to each SNS
// action) and the "CloudWatch Alarm State Change" event goes to
// EventBridge (Hooks.Event). A harness that sets Hooks gets the same
// delivery path as a deployed stack.

// Hooks are where the stand-in hands deliveries it cannot make itself.
// Each runs on its own goroutine, after the call that caused it has been
// answered, as SNS and EventBridge deliver asynchronously.
type Hooks struct {
	// Lambda receives an SNS message for a subscription of protocol
	// "lambda": the function ARN and the events.SNSEvent JSON Lambda
	// would be invoked with.
	Lambda func(functionARN string, snsEvent []byte)
	// Event receives each event AWS services put on the default event
	// bus (here: CloudWatch's alarm state changes), as EventBridge JSON.
	Event func(event []byte)
}

// SetHooks sets the delivery hooks (nil fields: not delivered, only
// recorded).
func (s *Server) SetHooks(h Hooks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.stacks.hooks = h
}

// Undelivered is a message SNS could not deliver to a subscription.
type Undelivered struct {
	MessageID, SubscriptionARN, Endpoint, Reason string
}

// UndeliveredMessages lists what SNS could not deliver, oldest first.
func (s *Server) UndeliveredMessages() []Undelivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Undelivered(nil), s.st.stacks.undelivered...)
}

// fanOut delivers a published message to the SQS and Lambda subscriptions
// deliver() let through (the deliveries recorded for messageID). It runs
// with s.mu held; hooks run later, on their own goroutines.
func (s *Server) fanOut(messageID, topic, subject, message string, attrs map[string]MessageAttribute) {
	now := s.now()
	for _, d := range s.st.sns.deliveries {
		if d.MessageID != messageID {
			continue
		}
		var sub *Subscription
		for _, x := range s.st.sns.subs {
			if x.ARN == d.SubscriptionARN {
				sub = x
			}
		}
		if sub == nil {
			continue
		}
		fail := func(reason string) {
			s.st.stacks.undelivered = append(s.st.stacks.undelivered, Undelivered{MessageID: messageID, SubscriptionARN: sub.ARN, Endpoint: sub.Endpoint, Reason: reason})
		}
		switch sub.Protocol {
		case "sqs":
			var q *sqsQueue
			for _, x := range s.st.stacks.queues {
				if x.arn == sub.Endpoint {
					q = x
				}
			}
			switch {
			case q == nil:
				fail("no such queue")
			case !q.allowsSNS(topic):
				fail("the queue's policy does not let SNS send from " + topic)
			default:
				q.messages = append(q.messages, &sqsMessage{id: s.st.nextID("sqs-msg-"), body: snsEnvelope(messageID, topic, subject, message, sub.ARN, attrs, now)})
			}
		case "lambda":
			hook := s.st.stacks.hooks.Lambda
			if hook == nil {
				continue
			}
			ev := events.SNSEvent{Records: []events.SNSEventRecord{{
				EventVersion: "1.0", EventSource: "aws:sns", EventSubscriptionArn: sub.ARN,
				SNS: events.SNSEntity{
					Type: "Notification", MessageID: messageID, TopicArn: topic, Subject: subject, Message: message,
					Timestamp: now, SignatureVersion: "1", MessageAttributes: lambdaAttributes(attrs),
				},
			}}}
			b, err := json.Marshal(ev)
			if err != nil {
				fail(err.Error())
				continue
			}
			go hook(sub.Endpoint, b)
		}
	}
}

// snsEnvelope is the JSON SNS delivers to an SQS subscription without raw
// message delivery ("Amazon SNS message and JSON formats", HTTP/HTTPS
// notification JSON format; signature fields left empty: nothing here
// signs).
func snsEnvelope(id, topic, subject, message, subARN string, attrs map[string]MessageAttribute, at time.Time) string {
	env := map[string]any{
		"Type": "Notification", "MessageId": id, "TopicArn": topic, "Message": message,
		"Timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1",
		"UnsubscribeURL": "https://sns." + Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + subARN,
	}
	if subject != "" {
		env["Subject"] = subject
	}
	if len(attrs) > 0 {
		m := map[string]any{}
		for k, a := range attrs {
			m[k] = map[string]string{"Type": a.DataType, "Value": a.StringValue}
		}
		env["MessageAttributes"] = m
	}
	b, _ := json.Marshal(env)
	return string(b)
}

func lambdaAttributes(attrs map[string]MessageAttribute) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := map[string]any{}
	for k, a := range attrs {
		m[k] = map[string]any{"Type": a.DataType, "Value": a.StringValue}
	}
	return m
}

// validEndpoint is SNS's check of an endpoint for the protocols the
// stand-in delivers to: an sqs subscription's endpoint is the queue's ARN,
// a lambda one's the function's ARN (SNS API Reference, Subscribe,
// Endpoint). Other protocols are recorded only, as before.
func validEndpoint(protocol, endpoint string) bool {
	switch protocol {
	case "sqs":
		return strings.HasPrefix(endpoint, "arn:") && strings.Contains(endpoint, ":sqs:")
	case "lambda":
		return strings.HasPrefix(endpoint, "arn:") && strings.Contains(endpoint, ":lambda:") && strings.Contains(endpoint, ":function:")
	}
	return true
}

func snsUnsubscribe(s *Server, req *request) (any, error) {
	arn := str(req.input, "SubscriptionArn")
	for i, sub := range s.st.sns.subs {
		if sub.ARN == arn {
			s.st.sns.subs = append(s.st.sns.subs[:i], s.st.sns.subs[i+1:]...)
			return map[string]any{}, nil
		}
	}
	return nil, apiErr(404, "NotFound", "Subscription does not exist")
}

// snsSubscriptionsPage is ListSubscriptionsByTopic's page size ("Each
// call returns a limited list of subscriptions, up to 100").
const snsSubscriptionsPage = 100

func snsListSubscriptionsByTopic(s *Server, req *request) (any, error) {
	topic := str(req.input, "TopicArn")
	if topic == "" {
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: TopicArn")
	}
	var subs []*Subscription
	for _, sub := range s.st.sns.subs {
		if sub.TopicARN == topic {
			subs = append(subs, sub)
		}
	}
	start := 0
	if tok := str(req.input, "NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "standin-"))
		if err != nil || n < 0 || n > len(subs) {
			return nil, apiErr(400, "InvalidParameter", "Invalid parameter: NextToken")
		}
		start = n
	}
	end := min(start+snsSubscriptionsPage, len(subs))
	var out []any
	for _, sub := range subs[start:end] {
		out = append(out, map[string]any{"SubscriptionArn": sub.ARN, "TopicArn": sub.TopicARN, "Protocol": sub.Protocol,
			"Endpoint": sub.Endpoint, "Owner": AccountID})
	}
	res := map[string]any{"Subscriptions": out}
	if end < len(subs) {
		res["NextToken"] = fmt.Sprintf("standin-%d", end)
	}
	return res, nil
}

// cwSetAlarmState is CloudWatch's SetAlarmState (CloudWatch API
// Reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html):
// AlarmName, StateValue (OK, ALARM, INSUFFICIENT_DATA) and StateReason
// (up to 1023 characters) are required, StateReasonData (up to 4000)
// must be JSON; an unknown alarm is ResourceNotFound. "When the updated
// state differs from the previous value, the action configured for the
// appropriate state is invoked."
func cwSetAlarmState(s *Server, req *request) (any, error) {
	in := req.input
	name, value, reason := str(in, "AlarmName"), str(in, "StateValue"), str(in, "StateReason")
	switch {
	case name == "":
		return nil, apiErr(400, "ValidationError", "1 validation error detected: Value null at 'alarmName' failed to satisfy constraint: Member must not be null")
	case value != contract.StateOK && value != contract.StateAlarm && value != contract.StateInsufficientData:
		return nil, apiErr(400, "ValidationError", "1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", value)
	case reason == "":
		return nil, apiErr(400, "ValidationError", "1 validation error detected: Value null at 'stateReason' failed to satisfy constraint: Member must not be null")
	case len(reason) > 1023:
		return nil, apiErr(400, "ValidationError", "1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023")
	}
	if data := str(in, "StateReasonData"); data != "" && (len(data) > 4000 || !json.Valid([]byte(data))) {
		return nil, apiErr(400, "InvalidFormat", "StateReasonData is not valid JSON of at most 4000 characters")
	}
	a, ok := s.st.alarms[name]
	if !ok {
		return nil, apiErr(404, "ResourceNotFound", "Alarm %s does not exist", name)
	}
	now := s.now()
	old := *a
	changed := a.State != value
	if changed {
		a.transitioned = now
	}
	a.State, a.Reason, a.updated = value, reason, now
	if !changed {
		return map[string]any{}, nil
	}
	actions := a.Actions
	if value == contract.StateOK {
		actions = a.OKActions
	}
	for _, t := range actions {
		if !strings.Contains(t, ":sns:") {
			continue
		}
		msg := alarmNotification(a, old.State, t, now)
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.st.published)+1)
		subject := fmt.Sprintf("%s: %q in US East (N. Virginia)", value, name)
		if len(subject) > 99 {
			subject = subject[:99]
		}
		s.st.published = append(s.st.published, Published{MessageID: id, TopicARN: t, Subject: subject, Message: msg, Time: now})
		s.st.sns.deliver(id, t, msg, nil)
		s.fanOut(id, t, subject, msg, nil)
	}
	if hook := s.st.stacks.hooks.Event; hook != nil {
		if ev, err := alarmStateChangeEvent(a, old, now); err == nil {
			go hook(ev)
		}
	}
	return map[string]any{}, nil
}

// alarmNotification is the JSON CloudWatch publishes to an alarm's SNS
// action (the shape of aws-lambda-go's events.CloudWatchAlarmSNSPayload,
// from "Using Amazon SNS to notify users", CloudWatch User Guide).
func alarmNotification(a *alarm, oldState, topic string, at time.Time) string {
	dims := []map[string]string{}
	for _, k := range sortedKeys(a.Dimensions) {
		dims = append(dims, map[string]string{"name": k, "value": a.Dimensions[k]})
	}
	m := map[string]any{
		"AlarmName": a.Name, "AlarmDescription": a.Description, "AWSAccountId": AccountID,
		"AlarmConfigurationUpdatedTimestamp": a.updated.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"NewStateValue":                      a.State, "NewStateReason": a.Reason,
		"StateChangeTime": at.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"Region":          "US East (N. Virginia)", "AlarmArn": alarmArn(a.Name), "OldStateValue": oldState,
		"OKActions": nonNil(a.OKActions), "AlarmActions": nonNil(a.Actions), "InsufficientDataActions": []string{},
		"Trigger": map[string]any{
			"MetricName": a.MetricName, "Namespace": a.Namespace, "StatisticType": "Statistic", "Statistic": strings.ToUpper(a.Statistic),
			"Unit": nil, "Dimensions": dims, "Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods,
			"ComparisonOperator": a.ComparisonOperator, "Threshold": a.Threshold, "TreatMissingData": "missing",
			"EvaluateLowSampleCountPercentile": "",
		},
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// alarmStateChangeEvent is the EventBridge event CloudWatch sends on an
// alarm state change ("Alarm events and EventBridge", CloudWatch User
// Guide), built on contract's documented detail shape.
func alarmStateChangeEvent(a *alarm, old alarm, at time.Time) ([]byte, error) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }
	var d contract.AlarmStateChangeDetail
	d.AlarmName = a.Name
	d.State = contract.AlarmState{Value: a.State, Reason: a.Reason, Timestamp: ts(at)}
	d.PreviousState = contract.AlarmState{Value: old.State, Reason: old.Reason, Timestamp: ts(old.updated)}
	d.Configuration.Description = a.Description
	if a.Type == "CompositeAlarm" {
		rule := a.Rule
		d.Configuration.AlarmRule = &rule
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	// The metric query, in the documented detail's shape.
	var withMetrics map[string]any
	if err := json.Unmarshal(detail, &withMetrics); err != nil {
		return nil, err
	}
	if a.MetricName != "" {
		cfg, _ := withMetrics["configuration"].(map[string]any)
		if cfg == nil {
			cfg = map[string]any{}
		}
		cfg["metrics"] = []any{map[string]any{"id": "m1", "returnData": true, "metricStat": map[string]any{
			"metric": map[string]any{"namespace": a.Namespace, "name": a.MetricName, "dimensions": a.Dimensions},
			"period": a.Period, "stat": a.Statistic,
		}}}
		withMetrics["configuration"] = cfg
	}
	if detail, err = json.Marshal(withMetrics); err != nil {
		return nil, err
	}
	return json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("standin-alarm-event-%d", at.UnixNano()), DetailType: contract.DetailTypeAlarmStateChange,
		Source: contract.AlarmSource, AccountID: AccountID, Time: at.UTC(), Region: Region,
		Resources: []string{alarmArn(a.Name)}, Detail: detail,
	})
}
