package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Environment variables of respond's security path at scale and of its
// vulnerability management (pkg/vuln).
const (
	// EnvTriageConcurrency is how many dedupe claims, and then how many
	// SNS calls, of one security event run at once (default 16, 1–100;
	// 1: one after another).
	EnvTriageConcurrency = "POSTDEPLOY_TRIAGE_CONCURRENCY"
	// EnvPublishBatch publishes findings with SNS PublishBatch, ten a call
	// (default true).
	EnvPublishBatch = "POSTDEPLOY_PUBLISH_BATCH"
	// EnvVulnManagement turns vulnerability management on or off: the
	// log of findings in the state table, tickets, resolutions, digests
	// and the scheduled runs (default true).
	EnvVulnManagement = "POSTDEPLOY_VULN_MANAGEMENT"
	// EnvTickets opens a ticket per finding: "opscenter" (an AWS Systems
	// Manager OpsCenter OpsItem), "jira" (a Jira Cloud issue) or "off"
	// (default: none).
	EnvTickets = "POSTDEPLOY_TICKETS"
	// EnvJiraURL is the Jira Cloud site, https://<site>.atlassian.net
	// (required with POSTDEPLOY_TICKETS=jira).
	EnvJiraURL = "POSTDEPLOY_JIRA_URL"
	// EnvJiraSecret is the Secrets Manager secret (name or ARN) holding
	// {"email": "...", "apiToken": "..."} (required with jira).
	EnvJiraSecret = "POSTDEPLOY_JIRA_SECRET" //nolint:gosec // G101: the name of a variable that names a secret, not a credential
	// EnvJiraProject is the project key (required with jira).
	EnvJiraProject = "POSTDEPLOY_JIRA_PROJECT"
	// EnvJiraIssueType is the issue type's name (default "Bug").
	EnvJiraIssueType = "POSTDEPLOY_JIRA_ISSUE_TYPE"
	// EnvJiraPriorities maps priorities to Jira priority names (default
	// "P1=Highest,P2=High,P3=Medium,P4=Low").
	EnvJiraPriorities = "POSTDEPLOY_JIRA_PRIORITIES"
	// EnvJiraFields maps riskScore and slaDue to custom fields, e.g.
	// "riskScore=customfield_10050,slaDue=customfield_10051" (optional).
	EnvJiraFields = "POSTDEPLOY_JIRA_FIELDS"
	// EnvJiraDoneTransition is the transition that resolves an issue
	// (default "Done").
	EnvJiraDoneTransition = "POSTDEPLOY_JIRA_DONE_TRANSITION"
	// EnvTicketMinPriority is the lowest priority that gets a ticket
	// (default P2: P1 and P2 findings).
	EnvTicketMinPriority = "POSTDEPLOY_TICKET_MIN_PRIORITY"
	// EnvTicketNotifyTopic is an SNS topic ARN OpsCenter notifies when an
	// OpsItem changes (OpsItem Notifications). Optional.
	EnvTicketNotifyTopic = "POSTDEPLOY_TICKET_NOTIFY_TOPIC"
	// EnvDigestThreshold is how many resources one vulnerability (CVE or
	// finding type) must reach within the dedupe window before its
	// findings are notified as one digest instead of one message each
	// (default 5; 0: never digest).
	EnvDigestThreshold = "POSTDEPLOY_DIGEST_THRESHOLD"
	// EnvReportTopic is the SNS topic (email subscribers) of the weekly
	// vulnerability status report. Required for the weekly report.
	EnvReportTopic = "POSTDEPLOY_VULN_REPORT_TOPIC"
)

// Defaults of the vulnerability-management settings.
const (
	DefaultTriageConcurrency = 16
	DefaultDigestThreshold   = 5
	TicketsOpsCenter         = "opscenter"
	TicketsJira              = "jira"
	TicketsOff               = "off"
)

// Vuln is respond's security path at scale and vulnerability
// management.
type Vuln struct {
	Enabled         bool
	Concurrency     int
	PublishBatch    bool
	Tickets         string // TicketsOpsCenter or TicketsOff
	TicketMin       triage.Priority
	TicketTopic     string
	DigestThreshold int
	ReportTopic     string
	// Jira is set when Tickets is TicketsJira.
	Jira Jira
}

// Jira configures Jira Cloud tickets.
type Jira struct {
	URL, Secret, Project, IssueType, DoneTransition string
	Priorities                                      map[string]string
	Fields                                          map[string]string
}

func (l *loader) vuln() Vuln {
	v := Vuln{
		Enabled:         l.bool(EnvVulnManagement, true),
		Concurrency:     l.intIn(EnvTriageConcurrency, DefaultTriageConcurrency, 1, 100),
		PublishBatch:    l.bool(EnvPublishBatch, true),
		Tickets:         l.oneOf(EnvTickets, TicketsOff, TicketsOff, TicketsOpsCenter, TicketsJira),
		TicketMin:       triage.P2,
		TicketTopic:     l.str(EnvTicketNotifyTopic, ""),
		DigestThreshold: l.intIn(EnvDigestThreshold, DefaultDigestThreshold, 0, 10000),
		ReportTopic:     l.str(EnvReportTopic, ""),
	}
	if s := l.str(EnvTicketMinPriority, ""); s != "" {
		p, err := triage.ParsePriority(s)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", EnvTicketMinPriority, err))
		} else {
			v.TicketMin = p
		}
	}
	if v.TicketTopic != "" && !strings.HasPrefix(v.TicketTopic, "arn:") {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be an SNS topic ARN (arn:aws:sns:…)", EnvTicketNotifyTopic, v.TicketTopic))
	}
	if v.ReportTopic != "" && !strings.HasPrefix(v.ReportTopic, "arn:") {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be an SNS topic ARN (arn:aws:sns:…)", EnvReportTopic, v.ReportTopic))
	}
	if v.Tickets == TicketsJira {
		v.Jira = l.jira()
	}
	return v
}

var customField = regexp.MustCompile(`^customfield_[0-9]+$`)

func (l *loader) jira() Jira {
	j := Jira{
		URL: l.str(EnvJiraURL, ""), Secret: l.str(EnvJiraSecret, ""), Project: l.str(EnvJiraProject, ""),
		IssueType: l.str(EnvJiraIssueType, "Bug"), DoneTransition: l.str(EnvJiraDoneTransition, "Done"),
	}
	if u, err := url.Parse(j.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: required with %s=jira: the site's https URL, e.g. https://example.atlassian.net", EnvJiraURL, j.URL, EnvTickets))
	}
	if j.Secret == "" {
		l.errs = append(l.errs, fmt.Errorf(`%s: required with %s=jira: the Secrets Manager secret holding {"email": "...", "apiToken": "..."}`, EnvJiraSecret, EnvTickets))
	}
	if j.Project == "" {
		l.errs = append(l.errs, fmt.Errorf("%s: required with %s=jira: the project key, e.g. SEC", EnvJiraProject, EnvTickets))
	}
	j.Priorities = l.pairs(EnvJiraPriorities, "P1=Highest,P2=High,P3=Medium,P4=Low", func(k, _ string) error {
		_, err := triage.ParsePriority(k)
		return err
	})
	j.Fields = l.pairs(EnvJiraFields, "", func(k, v string) error {
		if k != "riskScore" && k != "slaDue" {
			return fmt.Errorf("unknown field %q (want riskScore or slaDue)", k)
		}
		if !customField.MatchString(v) {
			return fmt.Errorf("%q must be a custom field id such as customfield_10050", v)
		}
		return nil
	})
	return j
}

// pairs reads "k=v,k=v", each pair checked.
func (l *loader) pairs(name, def string, check func(k, v string) error) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(l.str(name, def), ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			l.errs = append(l.errs, fmt.Errorf("%s: %q: want key=value", name, part))
			continue
		}
		if err := check(k, v); err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %q: %w", name, part, err))
			continue
		}
		out[k] = v
	}
	return out
}

// intIn reads a whole number between lo and hi.
func (l *loader) intIn(name string, def, lo, hi int) int {
	s := strings.TrimSpace(l.getenv(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be a whole number from %d to %d", name, s, lo, hi))
		return def
	}
	return n
}
