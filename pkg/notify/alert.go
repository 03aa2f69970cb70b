package notify

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Link is a labelled URL in a message.
type Link struct {
	Label string
	URL   string
}

// Alert is what a person needs to act on an event, in parts. Message
// renders it as a plain-text SNS message (and the AWS Chatbot custom
// notification, for topics that feed Slack or Teams).
type Alert struct {
	Kind     Kind
	Severity string // CRITICAL, HIGH, MEDIUM, LOW, INFO
	Priority string // P1–P4, when triage set one
	Service  string // the affected service or resource, for filtering
	// Title becomes the subject (≤100 characters): what happened, where.
	Title string
	// What happened, Where (account, region, resource), Why it matters.
	What, Where, Why string
	// Evidence lists what was observed, one fact a line.
	Evidence []string
	// Diagnose are the first diagnostic steps, in order.
	Diagnose []string
	// Remediation lists the ways to fix it.
	Remediation []string
	// Escalation says who to call and when.
	Escalation string
	// Runbook is the runbook's URL.
	Runbook string
	// Links are consoles and logs (label: URL).
	Links []Link
	// Event names the event type for Chatbot's metadata, e.g. "GuardDuty
	// Finding"; ThreadID groups related notifications in a chat thread.
	Event, ThreadID string
	// Resources are ARNs the alert is about.
	Resources []string
	// Attributes are extra SNS message attributes (string values).
	Attributes map[string]string
}

// Message renders the alert: the subject, a plain-text body written for
// a person, the filterable attributes, and the Chatbot notification.
func (a Alert) Message() Message {
	return Message{
		Kind:       a.Kind,
		Subject:    Subject(a.subject()),
		Body:       a.Text(),
		Severity:   a.Severity,
		Service:    a.Service,
		Priority:   a.Priority,
		Attributes: a.Attributes,
		Chatbot:    a.Chatbot(),
	}
}

func (a Alert) subject() string {
	var tags []string
	if a.Priority != "" {
		tags = append(tags, a.Priority)
	}
	if a.Severity != "" {
		tags = append(tags, a.Severity)
	}
	if len(tags) == 0 {
		return a.Title
	}
	return "[" + strings.Join(tags, " ") + "] " + a.Title
}

// Text renders the plain-text body. Every value is data (neutral.go):
// each is rendered on one line by Plain, so no value can start a section
// or a link line of its own.
func (a Alert) Text() string {
	var b strings.Builder
	b.WriteString(Plain(a.subject()))
	b.WriteString("\n")
	field := func(label, v string) {
		if v = Plain(v); v != "" {
			fmt.Fprintf(&b, "\n%s: %s", label, v)
		}
	}
	field("What happened", a.What)
	field("Where", a.Where)
	field("Why it matters", a.Why)
	list := func(title string, items []string, numbered bool) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n\n%s:", title)
		for i, it := range items {
			if numbered {
				fmt.Fprintf(&b, "\n%d. %s", i+1, Plain(it))
			} else {
				fmt.Fprintf(&b, "\n- %s", Plain(it))
			}
		}
	}
	list("Evidence", a.Evidence, false)
	list("First diagnostic steps", a.Diagnose, true)
	list("Remediation", a.Remediation, false)
	if a.Escalation != "" {
		fmt.Fprintf(&b, "\n\nEscalation: %s", Plain(a.Escalation))
	}
	if a.Runbook != "" || len(a.Links) > 0 {
		b.WriteString("\n")
	}
	if a.Runbook != "" {
		fmt.Fprintf(&b, "\nRunbook: %s", Plain(a.Runbook))
	}
	for _, l := range a.Links {
		fmt.Fprintf(&b, "\n%s: %s", Plain(l.Label), Plain(l.URL))
	}
	b.WriteString("\n")
	return b.String()
}

// ChatbotNotification is the AWS Chatbot (Amazon Q Developer in chat
// applications) custom notification format: a message published to SNS
// in this shape renders as a card in Slack, Teams or Chime.
type ChatbotNotification struct {
	Version  string           `json:"version"`
	Source   string           `json:"source"`
	ID       string           `json:"id,omitempty"`
	Content  ChatbotContent   `json:"content"`
	Metadata *ChatbotMetadata `json:"metadata,omitempty"`
}

// ChatbotContent is the visible part of a custom notification.
type ChatbotContent struct {
	TextType    string   `json:"textType,omitempty"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatbotMetadata threads and summarises a custom notification.
type ChatbotMetadata struct {
	ThreadID          string            `json:"threadId,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	EventType         string            `json:"eventType,omitempty"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// Chatbot renders the alert as a Chatbot custom notification with a
// markdown description
// (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html).
// Every value is data, neutralised by Chat; the only markup is the
// suite's own: bold labels, bullets and ChatLink links.
func (a Alert) Chatbot() *ChatbotNotification {
	var d strings.Builder
	line := func(label, v string) {
		if v = Chat(v); v != "" {
			fmt.Fprintf(&d, "*%s:* %s\n", label, v)
		}
	}
	line("What happened", a.What)
	line("Where", a.Where)
	line("Why it matters", a.Why)
	if len(a.Evidence) > 0 {
		d.WriteString("*Evidence:*\n")
		for _, e := range a.Evidence {
			fmt.Fprintf(&d, "• %s\n", Chat(e))
		}
	}
	if len(a.Remediation) > 0 {
		d.WriteString("*Remediation:*\n")
		for _, r := range a.Remediation {
			fmt.Fprintf(&d, "• %s\n", Chat(r))
		}
	}
	line("Escalation", a.Escalation)
	if a.Runbook != "" {
		d.WriteString(ChatLink(a.Runbook, "Runbook") + "\n")
	}
	for _, l := range a.Links {
		d.WriteString(ChatLink(l.URL, l.Label) + "\n")
	}
	var kw []string
	for _, k := range []string{a.Priority, a.Severity, string(a.Kind), a.Service} {
		if k = Chat(k); k != "" {
			kw = append(kw, k)
		}
	}
	ctx := map[string]string{}
	for k, v := range a.Attributes {
		if v = Chat(v); v != "" {
			ctx[Chat(k)] = v
		}
	}
	var next []string
	for _, s := range a.Diagnose {
		next = append(next, Chat(s))
	}
	var related []string
	for _, r := range a.Resources {
		related = append(related, Chat(r))
	}
	if len(ctx) == 0 {
		ctx = nil
	}
	return &ChatbotNotification{
		Version: "1.0",
		Source:  "custom",
		Content: ChatbotContent{
			TextType:    "client-markdown",
			Title:       Chat(a.subject()),
			Description: strings.TrimRight(d.String(), "\n"),
			NextSteps:   next,
			Keywords:    kw,
		},
		Metadata: &ChatbotMetadata{
			ThreadID:          Plain(a.ThreadID),
			Summary:           Chat(Subject(a.subject())),
			EventType:         Chat(a.Event),
			RelatedResources:  related,
			AdditionalContext: ctx,
		},
	}
}

// JSON encodes the notification; keys of maps come out sorted, so the
// encoding is stable.
func (c *ChatbotNotification) JSON() (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep Slack's <url|label> links readable
	if err := enc.Encode(c); err != nil {
		return "", fmt.Errorf("encode chatbot notification: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Indented encodes the notification indented, as JSON() does otherwise
// (maps sorted, &, < and > not escaped to \u0026, \u003c, \u003e): for
// people reading it, in logs and golden files.
func (c *ChatbotNotification) Indented() (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return "", fmt.Errorf("encode chatbot notification: %w", err)
	}
	return b.String(), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
