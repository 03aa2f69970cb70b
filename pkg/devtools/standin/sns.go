package standin

import (
	"fmt"
	"strings"
)

// SNS: Publish, Subscribe and SetSubscriptionAttributes, with the
// subscriptions' filter policies applied to every message as SNS applies
// them (snsfilter.go). Nothing is sent anywhere: each message a
// subscription would receive is recorded as a Delivery.

// snsState is the SNS part of the stand-in's state (Server.mu).
type snsState struct {
	subs       []*Subscription
	deliveries []Delivery
}

// Subscription is one SNS subscription.
type Subscription struct {
	ARN      string `json:"subscriptionArn"`
	TopicARN string `json:"topicArn"`
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
	// FilterPolicy and FilterPolicyScope are the subscription
	// attributes, as set ("" when unset).
	FilterPolicy      string `json:"filterPolicy,omitempty"`
	FilterPolicyScope string `json:"filterPolicyScope,omitempty"`
	filter            *FilterPolicy
}

// Delivery is one message SNS would deliver to one subscription.
type Delivery struct {
	MessageID       string `json:"messageId"`
	SubscriptionARN string `json:"subscriptionArn"`
	Endpoint        string `json:"endpoint"`
}

// subscriptionAttributes are the subscription attributes the stand-in
// keeps; Subscribe and SetSubscriptionAttributes refuse any other name,
// like SNS refuses an unknown attribute.
var subscriptionAttributes = map[string]bool{
	"FilterPolicy": true, "FilterPolicyScope": true,
	"RawMessageDelivery": true, "DeliveryPolicy": true, "RedrivePolicy": true,
	"SubscriptionRoleArn": true, "ReplayPolicy": true,
}

// Subscribe adds a subscription the way the SNS Subscribe API does,
// attributes included (FilterPolicy, FilterPolicyScope), and returns its
// ARN. A filter policy SNS would refuse is an error.
func (s *Server) Subscribe(topicARN, protocol, endpoint string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.st.sns.subscribe(topicARN, protocol, endpoint, attrs)
	if err != nil {
		return "", err
	}
	return sub.ARN, nil
}

// Subscriptions returns the subscriptions, oldest first.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Subscription, len(s.st.sns.subs))
	for i, sub := range s.st.sns.subs {
		out[i] = *sub
		out[i].filter = nil
	}
	return out
}

// Deliveries returns, in publish order, every message a subscription's
// filter policy let through.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.st.sns.deliveries...)
}

func (st *snsState) subscribe(topicARN, protocol, endpoint string, attrs map[string]string) (*Subscription, *APIError) {
	switch {
	case topicARN == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: TopicArn")
	case protocol == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Protocol")
	case !validEndpoint(protocol, endpoint):
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: %s endpoint %q (delivery.go: an sqs endpoint is a queue ARN, a lambda one a function ARN)", protocol, endpoint)
	}
	sub := &Subscription{TopicARN: topicARN, Protocol: protocol, Endpoint: endpoint}
	for _, k := range sortedKeys(attrs) {
		if err := sub.set(k, attrs[k]); err != nil {
			return nil, err
		}
	}
	sub.ARN = fmt.Sprintf("%s:00000000-0000-4000-9000-%012d", topicARN, len(st.subs)+1)
	st.subs = append(st.subs, sub)
	return sub, nil
}

// set changes one attribute; the filter policy is checked against the
// scope it will be applied with.
func (sub *Subscription) set(name, value string) *APIError {
	if !subscriptionAttributes[name] {
		return apiErr(400, "InvalidParameter", "Invalid parameter: AttributeName %q", name)
	}
	policy, scope := sub.FilterPolicy, sub.FilterPolicyScope
	switch name {
	case "FilterPolicy":
		policy = value
	case "FilterPolicyScope":
		scope = value
	default:
		return nil
	}
	var filter *FilterPolicy
	if policy != "" {
		f, err := ParseFilterPolicy(policy, scope)
		if err != nil {
			return apiErr(400, "InvalidParameter", "Invalid parameter: %s", err)
		}
		filter = f
	} else if scope != "" && scope != ScopeMessageAttributes && scope != ScopeMessageBody {
		return apiErr(400, "InvalidParameter", "Invalid parameter: FilterPolicyScope %q", scope)
	}
	sub.FilterPolicy, sub.FilterPolicyScope, sub.filter = policy, scope, filter
	return nil
}

// deliver records a delivery for every subscription of topic whose
// filter policy (if any) matches the message.
func (st *snsState) deliver(messageID, topic, message string, attrs map[string]MessageAttribute) {
	for _, sub := range st.subs {
		if sub.TopicARN != topic {
			continue
		}
		if sub.filter != nil && !sub.filter.Matches(message, attrs) {
			continue
		}
		st.deliveries = append(st.deliveries, Delivery{MessageID: messageID, SubscriptionARN: sub.ARN, Endpoint: sub.Endpoint})
	}
}

func snsPublish(s *Server, req *request) (any, error) {
	in := req.input
	topic := str(in, "TopicArn")
	if topic == "" {
		topic = str(in, "TargetArn")
	}
	msg := str(in, "Message")
	switch {
	case topic == "" && str(in, "PhoneNumber") == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	case msg == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Empty message")
	case len(msg) > 256*1024:
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Message too long (%d bytes, limit 262144)", len(msg))
	case len(str(in, "Subject")) > 100:
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Subject longer than 100 characters")
	}
	typed := publishAttributes(in)
	var attrs map[string]string
	for _, k := range sortedKeys(typed) {
		a := typed[k]
		if !validAttributeType(a.DataType) {
			return nil, apiErr(400, "ParameterValueInvalid", "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", k)
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[k] = a.StringValue
	}
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.st.published)+1)
	s.st.published = append(s.st.published, Published{MessageID: id, TopicARN: topic, Subject: str(in, "Subject"),
		Message: msg, Attributes: attrs, Time: s.now()})
	s.st.sns.deliver(id, topic, msg, typed)
	s.fanOut(id, topic, str(in, "Subject"), msg, typed)
	out := map[string]any{"MessageId": id}
	if strings.HasSuffix(topic, ".fifo") {
		out["SequenceNumber"] = fmt.Sprintf("%020d", len(s.st.published))
	}
	return out, nil
}

func snsSubscribe(s *Server, req *request) (any, error) {
	in := req.input
	attrs := map[string]string{}
	for _, raw := range list(in, "Attributes") {
		e, _ := raw.(map[string]any)
		attrs[str(e, "key")] = str(e, "value")
	}
	sub, err := s.st.sns.subscribe(str(in, "TopicArn"), str(in, "Protocol"), str(in, "Endpoint"), attrs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"SubscriptionArn": sub.ARN}, nil
}

func snsSetSubscriptionAttributes(s *Server, req *request) (any, error) {
	arn := str(req.input, "SubscriptionArn")
	for _, sub := range s.st.sns.subs {
		if sub.ARN == arn {
			if err := sub.set(str(req.input, "AttributeName"), str(req.input, "AttributeValue")); err != nil {
				return nil, err
			}
			return map[string]any{}, nil
		}
	}
	return nil, apiErr(404, "NotFound", "Subscription does not exist")
}

// publishAttributes reads Publish's MessageAttributes with their data
// types: awsQuery sends a list of {Name, Value: {DataType, StringValue}},
// a JSON-protocol caller a map.
func publishAttributes(in map[string]any) map[string]MessageAttribute {
	attrs := map[string]MessageAttribute{}
	for _, raw := range list(in, "MessageAttributes") {
		e, _ := raw.(map[string]any)
		v := obj(e, "Value")
		attrs[str(e, "Name")] = MessageAttribute{DataType: str(v, "DataType"), StringValue: str(v, "StringValue")}
	}
	for k, raw := range obj(in, "MessageAttributes") {
		if v, ok := raw.(map[string]any); ok {
			attrs[k] = MessageAttribute{DataType: str(v, "DataType"), StringValue: str(v, "StringValue")}
		}
	}
	return attrs
}

// validAttributeType is SNS's check of a message attribute's DataType:
// String, Number or Binary, optionally followed by a custom type, or
// String.Array.
func validAttributeType(t string) bool {
	base, _, _ := strings.Cut(t, ".")
	return base == "String" || base == "Number" || base == "Binary"
}
