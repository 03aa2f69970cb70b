package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Kind is the kind of alert; each kind has its own SNS topic.
type Kind string

// The alert kinds, one SNS topic each.
const (
	HighCPU        Kind = "high-cpu"
	Application    Kind = "application"
	Infrastructure Kind = "infrastructure"
	Security       Kind = "security"
	Deployments    Kind = "deployments"
	Escalation     Kind = "escalation"
)

// Kinds lists every kind.
var Kinds = []Kind{HighCPU, Application, Infrastructure, Security, Deployments, Escalation}

// Message is one notification.
type Message struct {
	Kind     Kind
	Subject  string // made a valid SNS subject by Subject when published
	Body     string
	Severity string // e.g. CRITICAL, HIGH, MEDIUM, LOW, INFO
	Service  string // the affected service or resource, for filtering
	Priority string // P1–P4 where triage set one
	// Attributes are extra message attributes (string values).
	Attributes map[string]string
	// Chatbot, when set, is published instead of Body to a Router whose
	// Format is FormatChatbot (Alert.Message sets it).
	Chatbot *ChatbotNotification
}

// Format is how a Router writes the SNS message body.
type Format string

// The formats.
const (
	// FormatText publishes Body: for email and SMS subscribers.
	FormatText Format = "text"
	// FormatChatbot publishes the AWS Chatbot custom-notification JSON,
	// which Chatbot renders in Slack and Teams.
	FormatChatbot Format = "chatbot"
)

// MaxBody bounds the body published: SNS accepts 256 KiB per message,
// attributes included.
const MaxBody = 240 << 10

// Publisher is the part of *sns.Client notify uses.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Router sends each kind of message to its topic.
type Router struct {
	API    Publisher
	Topics map[Kind]string // kind → topic ARN
	// Format of the body ("" is FormatText).
	Format Format
}

// MaxSubject is the longest subject SNS accepts: "less than 100
// characters" (SNS Publish, Subject; see Subject in neutral.go).
const MaxSubject = 99

// Send publishes m to the topic of its kind and returns the message id.
func (r Router) Send(ctx context.Context, m Message) (string, error) {
	topic, attrs, body, err := r.prepare(m)
	if err != nil {
		return "", err
	}
	out, err := r.API.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(topic),
		Subject:           aws.String(Subject(m.Subject)),
		Message:           aws.String(body),
		MessageAttributes: attrs,
	})
	if err != nil {
		return "", fmt.Errorf("publish %s notification to %s: %w", m.Kind, topic, err)
	}
	return aws.ToString(out.MessageId), nil
}

// prepare resolves m's topic and renders its attributes and body, the
// same for Publish and PublishBatch (batch.go).
func (r Router) prepare(m Message) (string, map[string]snstypes.MessageAttributeValue, string, error) {
	topic, ok := r.Topics[m.Kind]
	if !ok || topic == "" {
		return "", nil, "", fmt.Errorf("notify: no topic configured for kind %q", m.Kind)
	}
	attrs := map[string]snstypes.MessageAttributeValue{
		"kind": stringAttr(string(m.Kind)),
	}
	for k, v := range map[string]string{"severity": m.Severity, "service": m.Service, "priority": m.Priority} {
		if v != "" {
			attrs[k] = stringAttr(v)
		}
	}
	for k, v := range m.Attributes {
		if v != "" {
			attrs[k] = stringAttr(v)
		}
	}
	body, err := r.body(m)
	if err != nil {
		return "", nil, "", err
	}
	return topic, attrs, body, nil
}

func (r Router) body(m Message) (string, error) {
	if r.Format == FormatChatbot {
		c := m.Chatbot
		if c == nil {
			c = &ChatbotNotification{Version: "1.0", Source: "custom", Content: ChatbotContent{
				TextType: "client-markdown", Title: Chat(Subject(m.Subject)), Description: chatLines(m.Body),
			}}
		}
		return c.JSON()
	}
	body := m.Body
	if body == "" {
		body = Subject(m.Subject)
	}
	if len(body) > MaxBody {
		body = strings.ToValidUTF8(body[:MaxBody], "") + "\n[message truncated]"
	}
	return body, nil
}

func stringAttr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}
