package respond

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// TestHostileFindingNeutralised runs a Security Hub finding whose title,
// description, product, resource id, remediation and controls are markup
// (Slack mentions and links, markdown links, a javascript: URL, line
// breaks, a bidirectional override) through respond, in both formats.
// The golden files show what reaches SNS: the subject and text body for
// email, and the Chatbot custom notification for Slack and Teams, with
// the hostile text neutralised (pkg/notify/neutral.go).
func TestHostileFindingNeutralised(t *testing.T) {
	for _, format := range []notify.Format{notify.FormatText, notify.FormatChatbot} {
		t.Run(string(format), func(t *testing.T) {
			r := newRig(t)
			router := r.h.Notify.(notify.Router)
			router.Format = format
			r.h.Notify = router
			if err := r.invoke(t, readEvent(t, "respond-securityhub-hostile.json")); err != nil {
				t.Fatal(err)
			}
			if len(r.sns.in) != 1 {
				t.Fatalf("published %d messages; want 1", len(r.sns.in))
			}
			subject, body := aws.ToString(r.sns.in[0].Subject), aws.ToString(r.sns.in[0].Message)
			if format == notify.FormatText {
				golden.Check(t, "testdata/respond-securityhub-hostile.txt", "subject: "+subject+"\n\n"+body)
			} else {
				var c notify.ChatbotNotification
				if err := json.Unmarshal([]byte(body), &c); err != nil {
					t.Fatalf("chatbot body is not a custom notification: %v", err)
				}
				js, err := c.Indented()
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, "testdata/respond-securityhub-hostile.chatbot.json", js)
			}
			for _, live := range []string{"<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<@U999>", "<#C0123ABC", "<https://evil", "](https://evil", "](javascript", "<javascript", "@here", "@channel", "\u202e"} {
				if strings.Contains(subject, live) || strings.Contains(body, live) {
					t.Errorf("%s message holds live %q:\nsubject: %s\n%s", format, live, subject, body)
				}
			}
		})
	}
}
