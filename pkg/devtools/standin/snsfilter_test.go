package standin

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"
)

func strAttr(v string) MessageAttribute { return MessageAttribute{DataType: "String", StringValue: v} }

// The cases follow the examples of the SNS Developer Guide pages named
// in each case (see snsfilter.go for the addresses).
func TestFilterPolicyMatchesAsSNSDocuments(t *testing.T) {
	attrs := func(kv ...string) map[string]MessageAttribute {
		m := map[string]MessageAttribute{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = strAttr(kv[i+1])
		}
		return m
	}
	arr := func(json string) MessageAttribute {
		return MessageAttribute{DataType: "String.Array", StringValue: json}
	}
	num := func(v string) MessageAttribute { return MessageAttribute{DataType: "Number", StringValue: v} }
	tests := []struct {
		name    string
		policy  string
		scope   string
		message string
		attrs   map[string]MessageAttribute
		want    bool
	}{
		// Key matching.
		{"key matching: exists false needs at least one attribute (none: no match)", `{"kind":[{"exists":false}]}`, "", "{}", nil, false},
		{"key matching: exists false with another attribute present", `{"kind":[{"exists":false}]}`, "", "x", attrs("severity", "HIGH"), true},
		{"key matching: exists false when the key is present", `{"kind":[{"exists":false}]}`, "", "x", attrs("kind", "security"), false},
		{"key matching: exists true when present", `{"store":[{"exists":true}]}`, "", "x", attrs("store", "fans"), true},
		{"key matching: exists true when absent", `{"store":[{"exists":true}]}`, "", "x", attrs("customer_interests", "rugby"), false},
		{"key matching: exists true on a body property", `{"store":[{"exists":true}]}`, ScopeMessageBody, `{"store":"fans"}`, nil, true},
		{"key matching: exists true needs a non-null body value", `{"store":[{"exists":true}]}`, ScopeMessageBody, `{"store":null}`, nil, false},
		{"key matching: exists false on a body without the property", `{"store":[{"exists":false}]}`, ScopeMessageBody, `{"customer_interests":["baseball"]}`, nil, true},
		{"constraints: Binary attributes are ignored, leaving the set empty", `{"kind":[{"exists":false}]}`, "", "x",
			map[string]MessageAttribute{"blob": {DataType: "Binary"}}, false},
		// String value matching.
		{"string: exact", `{"customer_interests":["rugby","tennis"]}`, "", "x", attrs("customer_interests", "rugby"), true},
		{"string: exact is case-sensitive", `{"customer_interests":["rugby"]}`, "", "x", attrs("customer_interests", "Rugby"), false},
		{"string: exact on a String.Array element", `{"customer_interests":["rugby"]}`, "", "x",
			map[string]MessageAttribute{"customer_interests": arr(`["soccer","rugby"]`)}, true},
		{"string: exact does not match a Number attribute", `{"price":["100"]}`, "", "x", map[string]MessageAttribute{"price": num("100")}, false},
		{"string: prefix", `{"customer_interests":[{"prefix":"bas"}]}`, "", "x", attrs("customer_interests", "basketball"), true},
		{"string: prefix miss", `{"customer_interests":[{"prefix":"bas"}]}`, "", "x", attrs("customer_interests", "rugby"), false},
		{"string: suffix", `{"customer_interests":[{"suffix":"ball"}]}`, "", "x", attrs("customer_interests", "baseball"), true},
		{"string: equals-ignore-case", `{"customer_interests":[{"equals-ignore-case":"tennis"}]}`, "", "x", attrs("customer_interests", "TeNNis"), true},
		{"string: anything-but", `{"customer_interests":[{"anything-but":["rugby","tennis"]}]}`, "", "x", attrs("customer_interests", "baseball"), true},
		{"string: anything-but listed value", `{"customer_interests":[{"anything-but":["rugby","tennis"]}]}`, "", "x", attrs("customer_interests", "rugby"), false},
		{"string: anything-but an array holding an unlisted element", `{"customer_interests":[{"anything-but":["rugby","tennis"]}]}`, "", "x",
			map[string]MessageAttribute{"customer_interests": arr(`["rugby","baseball"]`)}, true},
		{"string: anything-but does not match an absent key", `{"customer_interests":[{"anything-but":["rugby"]}]}`, "", "x", attrs("other", "x"), false},
		{"string: anything-but prefix", `{"event":[{"anything-but":{"prefix":"order-"}}]}`, "", "x", attrs("event", "order_number"), true},
		{"string: anything-but prefix miss", `{"event":[{"anything-but":{"prefix":"order-"}}]}`, "", "x", attrs("event", "order-cancelled"), false},
		{"string: anything-but suffix", `{"event":[{"anything-but":{"suffix":"-test"}}]}`, "", "x", attrs("event", "deploy-test"), false},
		{"string: cidr", `{"source_ip":[{"cidr":"10.0.0.0/24"}]}`, "", "x", attrs("source_ip", "10.0.0.255"), true},
		{"string: cidr miss", `{"source_ip":[{"cidr":"10.0.0.0/24"}]}`, "", "x", attrs("source_ip", "10.1.1.0"), false},
		// Numeric value matching.
		{"numeric: equals", `{"price_usd":[{"numeric":["=",301.5]}]}`, "", "x", map[string]MessageAttribute{"price_usd": num("3.015e2")}, true},
		{"numeric: range", `{"price_usd":[{"numeric":[">",0,"<=",150]}]}`, "", "x", map[string]MessageAttribute{"price_usd": num("150")}, true},
		{"numeric: range miss", `{"price_usd":[{"numeric":[">",0,"<=",150]}]}`, "", "x", map[string]MessageAttribute{"price_usd": num("150.00001")}, false},
		{"numeric: needs a Number, not a String", `{"price_usd":[{"numeric":[">",0]}]}`, "", "x", attrs("price_usd", "5"), false},
		{"numeric: anything-but", `{"price":[{"anything-but":[100,500]}]}`, "", "x", map[string]MessageAttribute{"price": num("100.1")}, true},
		{"numeric: anything-but listed", `{"price":[{"anything-but":[100,500]}]}`, ScopeMessageBody, `{"price":100}`, nil, false},
		{"numeric: on a body number", `{"price_usd":[{"numeric":["<",0]}]}`, ScopeMessageBody, `{"price_usd":-3}`, nil, true},
		// AND/OR logic.
		{"and: every key must match", `{"customer_interests":["rugby"],"price_usd":[{"numeric":[">",100]}]}`, "", "x",
			map[string]MessageAttribute{"customer_interests": strAttr("rugby"), "price_usd": num("99")}, false},
		{"or: any value of a key", `{"customer_interests":["rugby","football","baseball"]}`, "", "x", attrs("customer_interests", "football"), true},
		{"or: exists false beside anything-but", `{"env":[{"anything-but":["prod"]},{"exists":false}]}`, "", "x", attrs("team", "a"), true},
		// Payload-based filtering.
		{"body: nested keys", `{"detail":{"state":{"value":["ALARM"]}}}`, ScopeMessageBody, `{"detail":{"state":{"value":"ALARM"}}}`, nil, true},
		{"body: nested key missing", `{"detail":{"state":{"value":["ALARM"]}}}`, ScopeMessageBody, `{"detail":{"state":"ALARM"}}`, nil, false},
		{"body: array values match element by element", `{"tags":["b"]}`, ScopeMessageBody, `{"tags":["a","b"]}`, nil, true},
		{"body: the payload must be a JSON object", `{"AlarmArn":[{"exists":true}]}`, ScopeMessageBody, "Alarm prod-api-cpu is in ALARM", nil, false},
		{"body: attributes are not looked at", `{"kind":["security"]}`, ScopeMessageBody, `{"other":1}`, attrs("kind", "security"), false},
		{"attributes: the body is not looked at", `{"AlarmArn":[{"exists":true}]}`, "", `{"AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a"}`, attrs("x", "y"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseFilterPolicy(tt.policy, tt.scope)
			if err != nil {
				t.Fatalf("ParseFilterPolicy(%s, %q) = %v; want a policy", tt.policy, tt.scope, err)
			}
			if got := p.Matches(tt.message, tt.attrs); got != tt.want {
				t.Errorf("Matches(%q, %v) with %s (scope %q) = %v; want %v", tt.message, tt.attrs, tt.policy, tt.scope, got, tt.want)
			}
		})
	}
}

// "Filter policy constraints in Amazon SNS": what SNS refuses at
// Subscribe/SetSubscriptionAttributes.
func TestFilterPolicyRefusedAsSNSRefusesIt(t *testing.T) {
	tests := []struct {
		name, policy, scope, wantErr string
	}{
		{"not JSON", `{"a":`, "", "not a JSON object"},
		{"empty", `{}`, "", "empty"},
		{"unknown scope", `{"a":["b"]}`, "MessageHeaders", "FilterPolicyScope"},
		{"six keys", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, "", "at most 5"},
		{"more than 150 combinations", `{"a":["1","2","3","4","5","6","7","8","9","10","11","12","13"],"b":["1","2","3","4","5","6","7","8","9","10","11","12"]}`, "", "156 combinations"},
		{"nested combinations count", `{"a":{"b":["1","2","3","4","5","6","7","8","9","10","11","12","13"]},"c":["1","2","3","4","5","6","7","8","9","10","11","12"]}`, ScopeMessageBody, "156 combinations"},
		{"nested with MessageAttributes", `{"a":{"b":["1"]}}`, ScopeMessageAttributes, "MessageBody only"},
		{"a value that is not an array", `{"a":"b"}`, "", "must be an array"},
		{"empty array", `{"a":[]}`, "", "empty array"},
		{"unknown operator", `{"a":[{"contains":"b"}]}`, "", `unknown operator "contains"`},
		{"$or is not supported by the stand-in", `{"$or":[{"a":["b"]}]}`, "", "not supported by the stand-in"},
		{"number out of range", `{"a":[{"numeric":[">",1e10]}]}`, "", "outside -1e9..1e9"},
		{"numeric with two lower bounds", `{"a":[{"numeric":[">",1,">=",2]}]}`, "", "two lower bounds"},
		{"exists takes a boolean", `{"a":[{"exists":"yes"}]}`, "", "exists takes true or false"},
		{"bad cidr", `{"a":[{"cidr":"10.0.0.0"}]}`, "", "cidr"},
		{"two operators in one object", `{"a":[{"prefix":"x","suffix":"y"}]}`, "", "exactly one operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFilterPolicy(tt.policy, tt.scope)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFilterPolicy(%s, %q) error = %v; want one containing %q", tt.policy, tt.scope, err, tt.wantErr)
			}
		})
	}
}

// The bug this stand-in lets through no more: CloudWatch alarm
// notifications carry no message attributes, so a MessageAttributes
// policy of "exists": false drops every one of them ("Key matching"),
// while a MessageBody policy on AlarmArn delivers each.
func TestAlarmNotificationSamplesAndFilterScopes(t *testing.T) {
	old, err := ParseFilterPolicy(`{"kind":[{"exists":false}]}`, "")
	if err != nil {
		t.Fatal(err)
	}
	body, err := ParseFilterPolicy(`{"AlarmArn":[{"prefix":"arn:aws:cloudwatch:"}]}`, ScopeMessageBody)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := AlarmNotifications(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 {
		t.Fatalf("AlarmNotifications() = %d samples; want aws-lambda-go's single- and multiple-metric ones", len(samples))
	}
	for name, n := range samples {
		if len(n.MessageAttributes) != 0 {
			t.Errorf("%s: MessageAttributes = %v; the samples carry none", name, n.MessageAttributes)
		}
		if old.Matches(n.Message, nil) {
			t.Errorf("%s: {\"kind\":[{\"exists\":false}]} matched a message without attributes; SNS does not deliver it", name)
		}
		if !body.Matches(n.Message, nil) {
			t.Errorf("%s: the MessageBody AlarmArn prefix policy did not match the alarm notification", name)
		}
	}
}

func TestSubscribeFiltersDeliveries(t *testing.T) {
	s := startServer(t, Scenario{})
	c := sns.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	topic := "arn:aws:sns:us-east-1:123456789012:alerts"
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("lambda"),
		Endpoint: aws.String("arn:aws:lambda:us-east-1:123456789012:function:remediate"),
		Attributes: map[string]string{
			"FilterPolicy":      `{"AlarmArn":[{"prefix":"arn:aws:cloudwatch:"}]}`,
			"FilterPolicyScope": ScopeMessageBody,
		}, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	all, err := s.Subscribe(topic, "email", "oncall@example.com", nil)
	if err != nil {
		t.Fatalf("Subscribe(email, no policy): %v", err)
	}
	alarm := `{"AlarmName":"a","AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a","NewStateValue":"ALARM"}`
	a, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(alarm)})
	if err != nil {
		t.Fatalf("Publish(alarm): %v", err)
	}
	n, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("Alarm a is in ALARM."),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("security")}}})
	if err != nil {
		t.Fatalf("Publish(notification): %v", err)
	}
	want := []Delivery{
		{MessageID: aws.ToString(a.MessageId), SubscriptionARN: aws.ToString(sub.SubscriptionArn), Endpoint: "arn:aws:lambda:us-east-1:123456789012:function:remediate"},
		{MessageID: aws.ToString(a.MessageId), SubscriptionARN: all, Endpoint: "oncall@example.com"},
		{MessageID: aws.ToString(n.MessageId), SubscriptionARN: all, Endpoint: "oncall@example.com"},
	}
	if d := cmp.Diff(want, s.Deliveries()); d != "" {
		t.Errorf("Deliveries() (-want +got):\n%s", d)
	}

	// A policy SNS refuses is refused, at Subscribe and at
	// SetSubscriptionAttributes (nested policies need MessageBody).
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("lambda"), Endpoint: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f"),
		Attributes: map[string]string{"FilterPolicy": `{"a":{"b":["c"]}}`}})
	if !errors.As(err, new(*snstypes.InvalidParameterException)) {
		t.Errorf("Subscribe(nested MessageAttributes policy) error = %v; want *types.InvalidParameterException", err)
	}
	_, err = c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn,
		AttributeName: aws.String("FilterPolicyScope"), AttributeValue: aws.String(ScopeMessageAttributes)})
	if err != nil {
		t.Errorf("SetSubscriptionAttributes(FilterPolicyScope=MessageAttributes): %v", err)
	}
	if got := s.Subscriptions()[0].FilterPolicyScope; got != ScopeMessageAttributes {
		t.Errorf("FilterPolicyScope after SetSubscriptionAttributes = %q; want %q", got, ScopeMessageAttributes)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(alarm),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"x": {DataType: aws.String("Text"), StringValue: aws.String("y")}}})
	if err == nil {
		t.Error("Publish(attribute DataType Text) succeeded; SNS accepts only String, Number and Binary types")
	}
}

func FuzzFilterPolicy(f *testing.F) {
	f.Add(`{"AlarmArn":[{"prefix":"arn:aws:cloudwatch:"}]}`, ScopeMessageBody, `{"AlarmArn":"arn:aws:cloudwatch:x"}`)
	f.Add(`{"kind":[{"exists":false}],"n":[{"numeric":[">",0,"<=",150]}]}`, "", `{}`)
	f.Add(`{"a":{"b":[{"anything-but":{"prefix":"x"}},null,true,1.5]}}`, ScopeMessageBody, `{"a":{"b":["y",2]}}`)
	f.Add(`{"ip":[{"cidr":"::1/128"}]}`, "", `[]`)
	f.Fuzz(func(t *testing.T, policy, scope, message string) {
		p, err := ParseFilterPolicy(policy, scope)
		if err != nil {
			return
		}
		attrs := map[string]MessageAttribute{"kind": strAttr(message), "n": {DataType: "Number", StringValue: message},
			"ip": {DataType: "String.Array", StringValue: message}}
		p.Matches(message, attrs)
		p.Matches(message, nil)
	})
}
