package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
)

// fakeSNS records what was published.
type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

var _ Publisher = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.in = append(f.in, in)
	return &sns.PublishOutput{MessageId: aws.String("msg-1")}, nil
}

func sampleAlert() Alert {
	a := Alert{
		Kind:     Security,
		Severity: "CRITICAL",
		Priority: "P1",
		Service:  "prod-api",
		Title:    "CVE-2022-3602 - openssl in prod-api@sha256:7f5b2640fe6f",
		What:     "Inspector found CVE-2022-3602 (CVSS 9.8) in openssl 3.0.1.",
		Where:    "account 123456789012, us-east-1, image prod-api@sha256:7f5b2640fe6f",
		Evidence: []string{"Risk score 84/100 → P1 (remediate by 2026-11-23T01:22:37Z)", "Exploit available: yes; known exploited: yes; EPSS 0.92", "Fix available: openssl 3.0.1 (fixed in 3.0.7)"},
		Links:    []Link{{Label: "Finding", URL: "https://console.aws.amazon.com/inspector/v2/home?region=us-east-1#/findings"}},
		Event:    "Inspector2 Finding",
		ThreadID: "prod-api",
		Resources: []string{
			"arn:aws:ecr:us-east-1:123456789012:repository/prod-api/sha256:7f5b2640fe6f",
		},
		Attributes: map[string]string{"source": "inspector2", "score": "84"},
	}
	a.Apply("https://runbooks.example.com/postdeploy", RunbookVulnerability)
	return a
}

func TestAlertGolden(t *testing.T) {
	a := sampleAlert()
	golden.Check(t, "testdata/alert.txt", a.Text())
	js, err := a.Chatbot().Indented()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/alert.chatbot.json", js)
}

func TestSendText(t *testing.T) {
	api := &fakeSNS{}
	r := Router{API: api, Topics: map[Kind]string{Security: "arn:aws:sns:us-east-1:123456789012:security"}}
	id, err := r.Send(context.Background(), sampleAlert().Message())
	if err != nil || id != "msg-1" {
		t.Fatalf("Send = %q, %v; want msg-1, nil", id, err)
	}
	in := api.in[0]
	if got := aws.ToString(in.TopicArn); got != "arn:aws:sns:us-east-1:123456789012:security" {
		t.Errorf("TopicArn = %q; want the security topic", got)
	}
	if got := aws.ToString(in.Subject); got != "[P1 CRITICAL] CVE-2022-3602 - openssl in prod-api@sha256:7f5b2640fe6f" {
		t.Errorf("Subject = %q", got)
	}
	wantAttrs := map[string]string{"kind": "security", "severity": "CRITICAL", "priority": "P1", "service": "prod-api", "source": "inspector2", "score": "84"}
	gotAttrs := map[string]string{}
	for k, v := range in.MessageAttributes {
		if aws.ToString(v.DataType) != "String" {
			t.Errorf("attribute %s DataType = %q; want String", k, aws.ToString(v.DataType))
		}
		gotAttrs[k] = aws.ToString(v.StringValue)
	}
	if diff := cmp.Diff(wantAttrs, gotAttrs); diff != "" {
		t.Errorf("MessageAttributes mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(aws.ToString(in.Message), "First diagnostic steps:") {
		t.Errorf("Message lacks diagnostic steps:\n%s", aws.ToString(in.Message))
	}
}

func TestSendChatbot(t *testing.T) {
	api := &fakeSNS{}
	r := Router{API: api, Topics: map[Kind]string{Security: "arn:sec", Deployments: "arn:dep"}, Format: FormatChatbot}
	if _, err := r.Send(context.Background(), sampleAlert().Message()); err != nil {
		t.Fatal(err)
	}
	var c ChatbotNotification
	if err := json.Unmarshal([]byte(aws.ToString(api.in[0].Message)), &c); err != nil {
		t.Fatalf("chatbot body is not JSON: %v", err)
	}
	if c.Version != "1.0" || c.Source != "custom" || c.Content.TextType != "client-markdown" || len(c.Content.NextSteps) != 3 {
		t.Errorf("chatbot notification = %+v; want version 1.0, source custom, markdown, 3 next steps", c)
	}
	// A plain Message (no Alert) still renders as a Chatbot card.
	if _, err := r.Send(context.Background(), Message{Kind: Deployments, Subject: "deploy failed", Body: "body"}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(aws.ToString(api.in[1].Message)), &c); err != nil || c.Content.Title != "deploy failed" || c.Content.Description != "body" {
		t.Errorf("plain message as chatbot = %+v, %v; want title and description from subject and body", c, err)
	}
}

func TestSendErrors(t *testing.T) {
	r := Router{API: &fakeSNS{}, Topics: map[Kind]string{}}
	if _, err := r.Send(context.Background(), Message{Kind: HighCPU, Subject: "x"}); err == nil || !strings.Contains(err.Error(), `"high-cpu"`) {
		t.Errorf("Send(no topic) error = %v; want one naming the kind", err)
	}
	boom := errors.New("throttled")
	r = Router{API: &fakeSNS{err: boom}, Topics: map[Kind]string{HighCPU: "arn:cpu"}}
	if _, err := r.Send(context.Background(), Message{Kind: HighCPU, Subject: "x"}); !errors.Is(err, boom) {
		t.Errorf("Send(publish fails) error = %v; want it to wrap %v", err, boom)
	}
}

// TestSubject: SNS Publish takes a Subject of "UTF-8 text with no line
// breaks or control characters, and less than 100 characters long"
// (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html; earlier
// editions: ASCII beginning with a letter, number or punctuation mark).
// Subject writes printable ASCII, so every edition accepts it.
func TestSubject(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "postdeploy notification"},
		{"line breaks and tabs", "line\nbreak\ttab\r\n", "line break tab"},
		{"leading spaces", "   \n [HIGH] x", "[HIGH] x"},
		{"typographic punctuation", "Risk 84 → P1 … “quoted” – done", `Risk 84 -> P1 ... "quoted" - done`},
		{"other non-ASCII", "Überwachung für café", "?berwachung f?r caf?"},
		{"bidi override and zero-width", "ok\u202edlrow\u200b!", "okdlrow!"},
		{"Slack tokens and mentions", "<!channel> @here ping <@U024BE7LH>", "(!channel) @ here ping (@U024BE7LH)"},
		{"long", strings.Repeat("é", 120), strings.Repeat("?", 96) + "..."},
		{"long ASCII", strings.Repeat("a", 150), strings.Repeat("a", 96) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Subject(tt.in)
			if got != tt.want {
				t.Errorf("Subject(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if len(got) > MaxSubject || len(got) >= 100 {
				t.Errorf("Subject(%q) has %d characters; SNS wants fewer than 100", tt.in, len(got))
			}
			for _, r := range got {
				if r < 0x20 || r > 0x7e {
					t.Errorf("Subject(%q) = %q holds %U; want printable ASCII", tt.in, got, r)
				}
			}
		})
	}
}

func TestRunbooksComplete(t *testing.T) {
	for id, rb := range Runbooks {
		if rb.ID != id || rb.Means == "" || len(rb.Diagnose) == 0 || rb.Escalation == "" || len(rb.Remediation) == 0 {
			t.Errorf("runbook %q is incomplete: %+v", id, rb)
		}
	}
	if got := RunbookURL("https://w/x/", "high-cpu"); got != "https://w/x/high-cpu" {
		t.Errorf("RunbookURL = %q; want https://w/x/high-cpu", got)
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 vulnerabilities"}, {1, "1 vulnerability"}, {2, "2 vulnerabilities"}, {21, "21 vulnerabilities"}}
	for _, tt := range tests {
		if got := Count(tt.n, "vulnerability", "vulnerabilities"); got != tt.want {
			t.Errorf("Count(%d, vulnerability, vulnerabilities) = %q; want %q", tt.n, got, tt.want)
		}
	}
}
