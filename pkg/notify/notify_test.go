package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

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
	js, err := a.Chatbot().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var pretty map[string]any
	if err := json.Unmarshal([]byte(js), &pretty); err != nil {
		t.Fatalf("chatbot JSON does not decode: %v", err)
	}
	b, _ := json.MarshalIndent(pretty, "", "  ")
	golden.Check(t, "testdata/alert.chatbot.json", string(b)+"\n")
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

func TestSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "postdeploy notification"},
		{"line\nbreak\ttab", "line break tab"},
		{strings.Repeat("é", 120), strings.Repeat("é", 99) + "…"},
	}
	for _, tt := range tests {
		got := Subject(tt.in)
		if got != tt.want {
			t.Errorf("Subject(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > MaxSubject {
			t.Errorf("Subject(%q) has %d characters; want ≤ %d", tt.in, n, MaxSubject)
		}
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
