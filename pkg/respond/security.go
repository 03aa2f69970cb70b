package respond

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// findings triages a security event: normalise, score, dedupe, notify.
// A finding of a batch that cannot be read is refused on its own —
// logged with its index and field, counted (FindingsRefused) — and the
// others go on; a batch whose every finding is refused is a malformed
// event.
//
// A Security Hub event carries up to 100 findings. Their dedupe claims,
// then their notifications, run h.Findings.Concurrency at a time, and
// the notifications go out with SNS PublishBatch, ten a call, when
// h.Findings.Batch is set (publish.go). The claims are the same
// conditional writes either way, so each finding is claimed once.
func (h *Handler) findings(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	fs, refused, err := triage.FromEvent(ev)
	if err != nil {
		return err // a *triage.MalformedError: counted and dropped by HandleEvent
	}
	for _, r := range refused {
		log.ErrorContext(ctx, "finding refused: it cannot be read; the rest of its batch goes on", "field", r.Field, "error", r.Error())
		h.Metrics.Emit(map[string]string{"Source": ev.Source}, telemetry.Value{Name: telemetry.MetricFindingsRefused, Unit: telemetry.UnitCount, Value: 1})
	}
	if len(fs) == 0 {
		if len(refused) > 0 {
			return fmt.Errorf("every finding of the batch refused (%d, the first: %w)", len(refused), refused[0])
		}
		log.InfoContext(ctx, "scan found nothing to report")
		h.cleanScan(ctx, ev, log)
		return nil
	}
	var cands []candidate
	var closed []triage.Finding
	for _, f := range fs {
		flog := log.With("findingId", f.ID, "severity", f.Severity.String(), "resource", f.Resource.Name())
		if f.Closed() {
			flog.InfoContext(ctx, "finding is closed; not notified", "status", f.Status)
			closed = append(closed, f)
			continue
		}
		a := h.Scorer.Score(f, h.now())
		flog = flog.With("priority", a.Priority.String(), "score", a.Score)
		h.Metrics.Emit(map[string]string{"Priority": a.Priority.String()}, telemetry.Value{Name: telemetry.MetricFindings, Unit: telemetry.UnitCount, Value: 1})
		if floor := h.MinPriority; floor != 0 && a.Priority > floor {
			flog.InfoContext(ctx, "finding below the notification floor; counted only", "floor", floor.String())
			continue
		}
		cands = append(cands, candidate{f: f, a: a, log: flog})
	}
	h.resolveClosed(ctx, ev, closed, log)
	d := triage.Deduper{Store: h.Claims, Window: h.window()}
	h.claimAll(ctx, d, cands)
	var out []outgoing
	for _, c := range cands {
		if !c.first {
			c.log.InfoContext(ctx, "finding already notified within the dedupe window")
			continue
		}
		if o, ok := h.outgoingFor(ctx, c, ev); ok {
			out = append(out, o)
		}
	}
	return h.sendAll(ctx, out)
}

var scannerNames = map[string]string{
	triage.SourceECR:         "Amazon ECR basic scanning",
	triage.SourceInspector:   "Amazon Inspector",
	triage.SourceGuardDuty:   "Amazon GuardDuty",
	triage.SourceSecurityHub: "AWS Security Hub",
}

// findingAlert writes the notification for a scored finding.
func findingAlert(f triage.Finding, a triage.Assessment, ev events.EventBridgeEvent, runbookBase string) notify.Alert {
	res := shortResource(f.Resource)
	scanner := scannerNames[f.Source]
	if f.Product != "" && f.Source == triage.SourceSecurityHub {
		scanner += " (" + f.Product + ")"
	}
	al := notify.Alert{
		Kind:      notify.Security,
		Severity:  f.Severity.String(),
		Priority:  a.Priority.String(),
		Service:   cmp.Or(f.Resource.Repository, f.Resource.InstanceID, f.Resource.ID),
		Title:     titleOn(f.Title, res),
		Event:     ev.DetailType,
		ThreadID:  "security-" + cmp.Or(f.Resource.Repository, f.Resource.InstanceID, f.Resource.ID),
		Resources: nonEmpty(f.Resource.ID),
		Attributes: map[string]string{
			"source": f.Source, "score": strconv.FormatFloat(a.Score, 'f', -1, 64), "findingType": f.Type,
		},
	}
	if len(f.Counts) > 0 {
		al.Title = fmt.Sprintf("%s %s: %s", shortScanner(f.Source), res, compactCounts(f))
	}
	al.What = fmt.Sprintf("%s reported %s.", scanner, strings.TrimSuffix(oneLine(f.Title), "."))
	if len(f.Counts) > 0 {
		al.What = strings.TrimSuffix(oneLine(f.Title), ".") + ". The scan event carries counts only: the console lists each finding."
	} else if f.Description != "" {
		al.What += " " + clip(oneLine(f.Description), 400)
	}
	al.Where = where(f.Resource)
	al.Evidence = findingEvidence(f, a)
	runbook := notify.RunbookVulnerability
	switch {
	case f.ActiveThreat:
		runbook = notify.RunbookThreat
	case len(f.Compliance) > 0 && len(f.Vulnerabilities) == 0:
		runbook = notify.RunbookCompliance
	}
	if rb, ok := notify.Runbooks[runbook]; ok {
		al.Why = fmt.Sprintf("Risk %.0f/100 makes it %s: remediate within %s (by %s). %s",
			a.Score, a.Priority, slaText(a.SLA), a.Due.Format(time.RFC3339), rb.Means)
	}
	if f.Remediation != "" && !strings.EqualFold(f.Remediation, "None Provided") {
		al.Remediation = append([]string{clip(oneLine(f.Remediation), 300)}, notify.Runbooks[runbook].Remediation...)
	}
	al.Links = findingLinks(f)
	al.Apply(runbookBase, runbook)
	return al
}

func findingEvidence(f triage.Finding, a triage.Assessment) []string {
	var ev []string
	sev := "Severity " + f.Severity.String()
	switch {
	case f.Source == triage.SourceGuardDuty:
		sev += fmt.Sprintf(" (GuardDuty %.1f)", f.SourceScore)
	case f.InspectorScore > 0 && f.CVSS > 0:
		sev += fmt.Sprintf(" (CVSS %.1f, Inspector score %.1f)", f.CVSS, f.InspectorScore)
	case f.CVSS > 0:
		sev += fmt.Sprintf(" (CVSS %.1f)", f.CVSS)
	}
	ev = append(ev, sev)
	fx := a.Factors
	ev = append(ev, fmt.Sprintf("Risk score %.1f/100 → %s: severity %.2f, likelihood %.2f, impact %.2f (asset criticality %s), compliance %.0f",
		a.Score, a.Priority, fx.Severity, fx.Likelihood, fx.Impact, fx.Criticality, fx.Compliance))
	if len(f.Counts) > 0 {
		ev = append(ev, "Findings: "+f.CountsText())
	} else if f.Source != triage.SourceGuardDuty {
		exploit := "no public exploit known"
		switch {
		case f.KnownExploited:
			exploit = "exploited in the wild"
		case f.ExploitAvailable:
			exploit = "public exploit available"
		}
		line := "Exploitability: " + exploit
		if f.EPSS > 0 {
			line += fmt.Sprintf("; EPSS %.3f", f.EPSS)
		}
		ev = append(ev, line)
		if len(f.Vulnerabilities) > 0 || len(f.Packages) > 0 {
			fix := "no fix available yet"
			if f.FixAvailable {
				fix = "fix available"
			}
			ev = append(ev, "Fix: "+fix)
		}
	}
	if f.ActiveThreat {
		ev = append(ev, "Observed activity (not a latent weakness): "+orDash(f.Type))
	}
	if len(f.Vulnerabilities) > 0 {
		ev = append(ev, "Vulnerabilities: "+strings.Join(f.Vulnerabilities, ", "))
	}
	if len(f.Packages) > 0 {
		ev = append(ev, "Packages: "+strings.Join(f.Packages, "; "))
	}
	if len(f.Compliance) > 0 {
		ev = append(ev, "Failed controls: "+strings.Join(f.Compliance, ", "))
	}
	if !f.FirstSeen.IsZero() {
		line := "First seen " + f.FirstSeen.Format(time.RFC3339)
		if !f.LastSeen.IsZero() && !f.LastSeen.Equal(f.FirstSeen) {
			line += ", last seen " + f.LastSeen.Format(time.RFC3339)
		}
		ev = append(ev, line)
	}
	ev = append(ev, "Finding id: "+f.ID)
	return ev
}

func findingLinks(f triage.Finding) []notify.Link {
	r := f.Resource.Region
	var ls []notify.Link
	switch f.Source {
	case triage.SourceInspector:
		ls = append(ls, notify.Link{Label: "Inspector findings", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/inspector/v2/home?region=%s#/findings/all", r, r)})
	case triage.SourceGuardDuty:
		id := f.ID[strings.LastIndex(f.ID, "/")+1:]
		ls = append(ls, notify.Link{Label: "GuardDuty finding", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/guardduty/home?region=%s#/findings?macros=current&fId=%s", r, r, url.QueryEscape(id))})
	case triage.SourceSecurityHub:
		ls = append(ls, notify.Link{Label: "Security Hub findings", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/securityhub/home?region=%s#/findings", r, r)})
	}
	if f.Resource.Repository != "" && f.Resource.ImageDigest != "" && f.Resource.Account != "" {
		ls = append(ls, notify.Link{Label: "Image", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/ecr/repositories/private/%s/%s/_/image/%s/details?region=%s",
			r, f.Resource.Account, f.Resource.Repository, f.Resource.ImageDigest, r)})
	}
	if f.RemediationURL != "" {
		ls = append(ls, notify.Link{Label: "Advisory", URL: f.RemediationURL})
	}
	return ls
}

func where(r triage.Resource) string {
	var parts []string
	if r.Account != "" {
		parts = append(parts, "account "+r.Account)
	}
	if r.Region != "" {
		parts = append(parts, r.Region)
	}
	switch {
	case r.Repository != "":
		s := "image " + r.Repository
		if r.ImageDigest != "" {
			s += "@" + r.ImageDigest
		}
		if len(r.ImageTags) > 0 {
			s += " (tags " + strings.Join(r.ImageTags, ", ") + ")"
		}
		parts = append(parts, s)
	case r.InstanceID != "":
		s := "instance " + r.InstanceID
		if n := r.Tags["Name"]; n != "" {
			s += " (" + n + ")"
		}
		parts = append(parts, s)
	case r.ID != "":
		parts = append(parts, strings.TrimSpace(r.Type+" "+r.ID))
	}
	return strings.Join(parts, ", ")
}

// shortResource names a resource in a subject: digests cut to 12 hex.
func shortResource(r triage.Resource) string {
	switch {
	case r.Repository != "" && r.ImageDigest != "":
		d := r.ImageDigest
		if len(d) > len("sha256:")+12 {
			d = d[:len("sha256:")+12]
		}
		return r.Repository + "@" + d
	case r.Repository != "":
		return r.Repository
	case r.InstanceID != "":
		return r.InstanceID
	}
	id := r.ID
	if i := strings.LastIndexAny(id, ":/"); i >= 0 && i < len(id)-1 {
		id = id[i+1:]
	}
	return id
}

func shortScanner(source string) string {
	if source == triage.SourceECR {
		return "ECR scan of"
	}
	return "Inspector scan of"
}

// compactCounts is the two most severe classes' counts and the rest as
// a number, to fit a subject: "2 CRITICAL, 5 HIGH, 15 more".
func compactCounts(f triage.Finding) string {
	var parts []string
	rest := 0
	for _, sev := range []triage.Severity{triage.Critical, triage.High, triage.Untriaged, triage.Medium, triage.Low, triage.Informational, triage.SeverityUnknown} {
		n := f.Counts[sev]
		switch {
		case n == 0:
		case len(parts) < 2:
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		default:
			rest += n
		}
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("%d more", rest))
	}
	return strings.Join(parts, ", ")
}

// titleOn names the resource after the title unless the title already
// does.
func titleOn(title, res string) string {
	t := strings.TrimSuffix(oneLine(title), ".")
	if res == "" || strings.Contains(t, res) {
		return t
	}
	return t + " on " + res
}

func slaText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
