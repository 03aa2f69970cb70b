package notify

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// Text from events — finding titles and descriptions, resource and alarm
// names, alarm reasons, action summaries — is data. Whoever can write a
// finding, name a resource or set an alarm's description controls it, so
// it is neutralised where it is rendered, never trusted to be plain:
//
//   - for chat (AWS Chatbot / Amazon Q Developer in chat applications
//     custom notifications, shown in Slack and Teams), by Chat: Slack's
//     control characters &, < and > become &amp;, &lt; and &gt; as Slack
//     documents ("Escaping text",
//     https://api.slack.com/reference/surfaces/formatting#escaping), which
//     leaves <!channel>, <!here>, <@U…>, <#C…> and <url|text> inert; the
//     plain-text mentions @here, @channel and @everyone get a full-width
//     at sign; the markdown link syntax [text](url) is broken apart; line
//     breaks and other control characters become spaces, so a value
//     cannot start a line of its own;
//   - for plain text (email), by Plain: one line, control and
//     bidirectional-override characters removed, the same mentions and
//     markdown links broken, Slack's <…> tokens turned into (…) — inert
//     in a mail reader, and inert if a forwarder relays the text to chat;
//   - for the SNS subject, by Subject: printable ASCII on one line, less
//     than 100 characters. SNS Publish's Subject "must be UTF-8 text with
//     no line breaks or control characters, and less than 100 characters
//     long" (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html,
//     as the SDK's PublishInput.Subject quotes it); earlier editions of the
//     same page asked for ASCII text beginning with a letter, number or
//     punctuation mark, and Amazon Managed Service for Prometheus documents
//     that its SNS receiver rewrites subjects with non-ASCII characters
//     ("Understanding Amazon SNS message validation rules"). ASCII
//     satisfies every edition.
//
// Links are the one markup the suite writes into chat itself: Link only
// renders an http or https URL as a link, with the characters that would
// end or split Slack's <url|label> syntax escaped.

// mention matches the plain-text broadcast mentions Slack and Teams
// expand: @here, @channel, @everyone, @all, as words of their own (not
// the domain of an address such as ops@here.example).
var mention = regexp.MustCompile(`(?i)(^|[^\pL\pN_.@+-])@(here|channel|everyone|all)\b`)

// mdLink matches the markdown link syntax [text](url).
var mdLink = regexp.MustCompile(`\]\s*\(`)

// invisible reports the Unicode format characters (category Cf): the
// bidirectional overrides and isolates that reorder what a reader sees
// (U+202A–U+202E, U+2066–U+2069), zero-width spaces and joiners, the BOM.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r)
}

// slackToken matches Slack's angle-bracket syntax — <!channel>, <!here>,
// <!subteam^…>, <@U…>, <#C…>, <https://…|text>, <mailto:…> — which a
// forwarder relaying a plain-text body or a subject to chat would make
// live.
var slackToken = regexp.MustCompile(`(?i)<([!@#][^<>]*|(?:https?|mailto|tel|slack):[^<>]*)>`)

// clean puts s on one line without control or invisible formatting
// characters and breaks broadcast mentions.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return ' '
		case invisible(r):
			return -1
		}
		return r
	}, s)
	return breakMentions(oneLine(s))
}

// Plain renders s for plain text (email, the subject): one line, without
// control or invisible formatting characters, broadcast mentions broken,
// Slack's <…> tokens turned into (…) and markdown links broken, so a
// forwarder that relays the text to chat relays no live markup either.
func Plain(s string) string {
	s = clean(s)
	if strings.Contains(s, "<") {
		s = slackToken.ReplaceAllString(s, "($1)")
	}
	return breakMDLinks(s)
}

// breakMDLinks breaks markdown links ([text](url) → [text] (url)). Every
// match has a ']', so text without one is returned as is: the regexp is
// the costliest step of rendering and most text has none.
func breakMDLinks(s string) string {
	if !strings.Contains(s, "]") {
		return s
	}
	return mdLink.ReplaceAllString(s, "] (")
}

// chatEscaper escapes &, < and > as Slack documents; linkEscaper the
// characters that would end or split a <url|label> link. Built once: a
// strings.Replacer builds its lookup table on first use.
var (
	chatEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	linkEscaper = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "", "\r", "", "\t", "")
)

// Chat renders s as data inside Slack/Chatbot/Teams markdown: one line,
// no control or invisible characters, broadcast mentions broken, &, <
// and > escaped as Slack documents, markdown links broken.
func Chat(s string) string {
	return breakMDLinks(chatEscaper.Replace(clean(s)))
}

// chatLines is Chat applied to each line of s, keeping the line breaks
// (a whole plain-text body sent to chat).
func chatLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Chat(l)
	}
	return strings.Join(lines, "\n")
}

func breakMentions(s string) string {
	if !strings.Contains(s, "@") { // every mention has one; most text none
		return s
	}
	return mention.ReplaceAllString(s, "$1＠$2") // U+FF20 FULLWIDTH COMMERCIAL AT: not a mention anywhere
}

// ChatLink renders a link for chat: <url|label> for an http(s) URL, with
// &, <, >, | and spaces in the URL escaped so it cannot end or split the
// link; any other URL (javascript:, data:, a bare word) is shown as
// inert text and not linked.
func ChatLink(rawURL, label string) string {
	label = strings.ReplaceAll(Chat(label), "|", "¦")
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return label + ": " + Chat(rawURL)
	}
	link := linkEscaper.Replace(u.String())
	return "<" + link + "|" + label + ">"
}

// asciiFor spells common non-ASCII punctuation in ASCII for subjects.
var asciiFor = map[rune]string{
	'…': "...", '→': "->", '←': "<-", '–': "-", '—': "-", '‘': "'", '’': "'", '“': `"`, '”': `"`,
	'•': "*", '×': "x", '≤': "<=", '≥': ">=", '\u00a0': " ",
	'＠': "@ ", // a broken mention (breakMentions) stays broken
}

// Subject makes s a valid SNS subject: printable ASCII on one line,
// starting with a letter, number or punctuation mark, at most
// MaxSubject characters (shortened with "..." when longer).
func Subject(s string) string {
	var b strings.Builder
	for _, r := range Plain(s) {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case asciiFor[r] != "":
			b.WriteString(asciiFor[r])
		default:
			b.WriteByte('?')
		}
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "postdeploy notification"
	}
	if len(out) > MaxSubject {
		out = strings.TrimRight(out[:MaxSubject-3], " ") + "..."
	}
	return out
}
