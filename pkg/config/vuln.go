package config

import (
	"fmt"
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
	// Manager OpsCenter OpsItem) or "" / "off" (default: none).
	EnvTickets = "POSTDEPLOY_TICKETS"
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
}

func (l *loader) vuln() Vuln {
	v := Vuln{
		Enabled:         l.bool(EnvVulnManagement, true),
		Concurrency:     l.intIn(EnvTriageConcurrency, DefaultTriageConcurrency, 1, 100),
		PublishBatch:    l.bool(EnvPublishBatch, true),
		Tickets:         l.oneOf(EnvTickets, TicketsOff, TicketsOff, TicketsOpsCenter),
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
	return v
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
