package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// Vulnerability management in respond: every finding respond notifies is
// recorded in the log and ticketed (pkg/vuln); findings that close are
// resolved once the service that owns them confirms it; the daily and
// weekly EventBridge Scheduler runs are respond invocations too.

// InspectorAPI is the part of *inspector2.Client respond reads findings
// with.
type InspectorAPI interface {
	ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error)
}

// ScanAPI is the part of *ecr.Client respond reads basic scans with.
type ScanAPI interface {
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

var (
	_ InspectorAPI = (*inspector2.Client)(nil)
	_ ScanAPI      = (*ecr.Client)(nil)
)

// VulnManagement is respond's vulnerability management; a nil
// *VulnManagement turns it off.
type VulnManagement struct {
	Manager *vuln.Manager
	// Inspector and ECR confirm resolutions with the service that owns
	// the finding.
	Inspector InspectorAPI
	ECR       ScanAPI
}

// observe records c in the log (and opens or updates its ticket). A
// failure is logged; it never stops the notification.
func (h *Handler) observe(ctx context.Context, c *candidate) {
	if h.Vuln == nil {
		return
	}
	if _, err := h.Vuln.Manager.Observe(ctx, c.f, c.a); err != nil {
		c.log.ErrorContext(ctx, "vulnerability log write failed; the finding is still notified", "error", err.Error())
	}
}

// digest decides, for a finding this invocation claimed, whether it goes
// out on its own, as (an update of) its vulnerability's digest, or folded
// into one.
func (h *Handler) digest(ctx context.Context, c *candidate) {
	c.digest = vuln.DigestDecision{Action: vuln.Individual}
	if h.Vuln == nil {
		return
	}
	d, err := h.Vuln.Manager.Digest(ctx, c.f, c.a)
	if err != nil {
		c.log.ErrorContext(ctx, "digest failed; the finding is notified on its own", "error", err.Error())
	}
	c.digest = d
}

// outgoingFor is c's notification: its own alert, the digest or its
// update, or nothing when the digest names it.
func (h *Handler) outgoingFor(ctx context.Context, c candidate, ev events.EventBridgeEvent) (outgoing, bool) {
	own := outgoing{alert: findingAlert(c.f, c.a, ev, h.RunbookBaseURL), keys: []string{triage.Key(c.f)}, log: c.log}
	switch c.digest.Action {
	case vuln.Folded:
		c.log.InfoContext(ctx, "finding folded into its vulnerability's digest; not notified on its own", "digest", c.digest.Key, "resources", c.digest.Count)
		h.Metrics.Emit(map[string]string{"Action": "folded"}, telemetry.Value{Name: telemetry.MetricDigests, Unit: telemetry.UnitCount, Value: 1})
		return outgoing{}, false
	case vuln.SendDigest, vuln.UpdateDigest:
		d, err := h.Vuln.Manager.ReadDigest(ctx, c.digest.Key)
		if err != nil {
			c.log.ErrorContext(ctx, "digest unreadable; the finding is notified on its own", "error", err.Error())
			return own, true
		}
		update := c.digest.Action == vuln.UpdateDigest
		c.log.InfoContext(ctx, "sending the vulnerability's digest", "digest", c.digest.Key, "update", update, "resources", len(d.Resources))
		h.Metrics.Emit(map[string]string{"Action": c.digest.Action.String()}, telemetry.Value{Name: telemetry.MetricDigests, Unit: telemetry.UnitCount, Value: 1})
		return outgoing{alert: vuln.DigestAlert(d, update, h.Vuln.Manager.DigestWindow), keys: append(own.keys, c.digest.Claims...), log: c.log}, true
	}
	return own, true
}

// resolveClosed resolves the findings an event reports closed, each
// once the service that owns it confirms it. A closed finding that
// cannot be read is a malformed resolution: counted and dropped with a
// log line.
func (h *Handler) resolveClosed(ctx context.Context, ev events.EventBridgeEvent, closed []triage.Finding, log *slog.Logger) {
	if h.Vuln == nil {
		return
	}
	for _, f := range closed {
		flog := log.With("findingId", f.ID, "status", f.Status)
		if f.ID == "" || f.Resource.Name() == "" {
			h.malformedResolution(ctx, ev, flog, errors.New("a closed finding names no finding id or resource"))
			continue
		}
		why, ok, err := h.confirmClosed(ctx, f)
		if err != nil {
			flog.ErrorContext(ctx, "could not confirm the finding closed with the service that owns it; left open for its next event", "error", err.Error())
			continue
		}
		if !ok {
			flog.WarnContext(ctx, "event says the finding closed; the service that owns it does not confirm it: left open", "reason", why)
			continue
		}
		if _, won, err := h.Vuln.Manager.Resolve(ctx, vuln.Key(f), h.eventTime(ev), why); err != nil {
			flog.ErrorContext(ctx, "resolve the finding in the log", "error", err.Error())
		} else if !won {
			flog.InfoContext(ctx, "closed finding is not open in the log (resolved already, or never notified)")
		}
	}
}

// eventTime is when AWS says the event happened (now when it does not
// say), in UTC: a resolution's time.
func (h *Handler) eventTime(ev events.EventBridgeEvent) time.Time {
	if ev.Time.IsZero() {
		return h.now().UTC()
	}
	return ev.Time.UTC()
}

func (h *Handler) malformedResolution(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger, err error) {
	log.ErrorContext(ctx, "malformed resolution event dropped", "error", err.Error())
	h.Metrics.Emit(map[string]string{"Source": ev.Source}, telemetry.Value{Name: telemetry.MetricResolutionsMalformed, Unit: telemetry.UnitCount, Value: 1})
}

// confirmClosed asks the service that owns f whether it is closed.
// Inspector2 findings (directly or through Security Hub) are read back
// with ListFindings by ARN and must be CLOSED. Other Security Hub
// findings (its controls, third parties) are taken from Security Hub's
// own event: respond does not link the Security Hub client (its size
// would take the package over its budget); the event comes from AWS
// (source aws.securityhub on the default bus), and the record must be
// open in the log.
func (h *Handler) confirmClosed(ctx context.Context, f triage.Finding) (string, bool, error) {
	arn := f.ID
	if f.Source == triage.SourceInspector || strings.HasPrefix(arn, "arn:aws:inspector2:") {
		if h.Vuln.Inspector == nil {
			return "no Inspector2 client to confirm with", false, nil
		}
		out, err := h.Vuln.Inspector.ListFindings(ctx, &inspector2.ListFindingsInput{
			FilterCriteria: &i2types.FilterCriteria{FindingArn: []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String(arn)}}},
			MaxResults:     aws.Int32(1),
		})
		if err != nil {
			return "", false, fmt.Errorf("Inspector2 ListFindings %s: %w", arn, err)
		}
		if len(out.Findings) == 0 {
			return "Inspector2 does not know the finding", false, nil
		}
		if st := out.Findings[0].Status; st != i2types.FindingStatusClosed {
			return "Inspector2 reports it " + string(st), false, nil
		}
		return "Inspector2 reports the finding CLOSED", true, nil
	}
	if f.Source == triage.SourceSecurityHub {
		return "Security Hub reports it " + f.Status, true, nil
	}
	return "closing " + f.Source + " findings is not tracked", false, nil
}

// StillOpen asks Inspector2 whether an overdue Inspector2 finding of the
// log is still open, for the daily run (vuln.Manager.StillOpen): a
// finding whose CLOSED event was lost is resolved instead of alerted.
// Findings of other sources are taken as the log has them.
func (v *VulnManagement) StillOpen(ctx context.Context, r vuln.Record) (bool, string, error) {
	if v.Inspector == nil || !strings.HasPrefix(r.FindingID, "arn:aws:inspector2:") {
		return true, "", nil
	}
	h := &Handler{Vuln: v}
	why, closed, err := h.confirmClosed(ctx, triage.Finding{ID: r.FindingID, Source: triage.SourceInspector})
	if err != nil {
		return true, "", err
	}
	return !closed, why, nil
}

// scanDetail is what a clean-scan resolution reads of an "ECR Image
// Scan" or "Inspector2 Scan" event.
type scanDetail struct {
	Repository string         `json:"repository-name"`
	Digest     string         `json:"image-digest"`
	Status     string         `json:"scan-status"`
	Counts     map[string]int `json:"finding-severity-counts"`
}

// cleanScan resolves the open findings of an image whose re-scan found
// nothing, once the scanner confirms it: ECR basic scanning's
// DescribeImageScanFindings, or Inspector2's ListFindings of the image's
// active findings. Only findings of the scanner that scanned are
// resolved.
func (h *Handler) cleanScan(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) {
	if h.Vuln == nil || (ev.DetailType != triage.DetailECRScan && ev.DetailType != triage.DetailInspectorScan) {
		return
	}
	var d scanDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		h.malformedResolution(ctx, ev, log, fmt.Errorf("scan event detail: %w", err))
		return
	}
	if d.Repository == "" || d.Digest == "" {
		h.malformedResolution(ctx, ev, log, errors.New("scan event without detail.repository-name and detail.image-digest"))
		return
	}
	repo := d.Repository
	if i := strings.LastIndex(repo, "/"); strings.HasPrefix(repo, "arn:") && i >= 0 {
		repo = repo[i+1:]
	}
	source, clean, why, err := h.confirmClean(ctx, ev.DetailType, repo, d.Digest)
	if err != nil {
		log.ErrorContext(ctx, "could not confirm the clean re-scan; findings left open", "error", err.Error())
		return
	}
	if !clean {
		log.InfoContext(ctx, "re-scan not confirmed clean; findings left open", "reason", why)
		return
	}
	recs, err := h.Vuln.Manager.Store.List(ctx)
	if err != nil {
		log.ErrorContext(ctx, "read the vulnerability log for the image's findings", "error", err.Error())
		return
	}
	at := h.eventTime(ev)
	image := repo + "@" + d.Digest
	for _, r := range recs {
		if r.Status != vuln.StatusOpen || r.Source != source || r.Resource != image {
			continue
		}
		if _, _, err := h.Vuln.Manager.Resolve(ctx, r.Key, at, why); err != nil {
			log.ErrorContext(ctx, "resolve the finding in the log", "finding", r.Key, "error", err.Error())
		}
	}
}

func (h *Handler) confirmClean(ctx context.Context, detailType, repo, digest string) (source string, clean bool, why string, err error) {
	if detailType == triage.DetailECRScan {
		if h.Vuln.ECR == nil {
			return triage.SourceECR, false, "no ECR client to confirm with", nil
		}
		out, err := h.Vuln.ECR.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{
			RepositoryName: aws.String(repo), ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
		})
		if err != nil {
			return triage.SourceECR, false, "", fmt.Errorf("ECR DescribeImageScanFindings %s@%s: %w", repo, digest, err)
		}
		if out.ImageScanStatus == nil || out.ImageScanStatus.Status != ecrtypes.ScanStatusComplete {
			return triage.SourceECR, false, "the scan is not COMPLETE", nil
		}
		if f := out.ImageScanFindings; f != nil && (len(f.Findings) > 0 || len(f.EnhancedFindings) > 0 || sum(f.FindingSeverityCounts) > 0) {
			return triage.SourceECR, false, "ECR still lists findings", nil
		}
		return triage.SourceECR, true, "ECR basic re-scan of the image found nothing", nil
	}
	if h.Vuln.Inspector == nil {
		return triage.SourceInspector, false, "no Inspector2 client to confirm with", nil
	}
	out, err := h.Vuln.Inspector.ListFindings(ctx, &inspector2.ListFindingsInput{
		FilterCriteria: &i2types.FilterCriteria{
			EcrImageHash:           []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String(digest)}},
			EcrImageRepositoryName: []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String(repo)}},
			FindingStatus:          []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String(string(i2types.FindingStatusActive))}},
		},
		MaxResults: aws.Int32(1),
	})
	if err != nil {
		return triage.SourceInspector, false, "", fmt.Errorf("Inspector2 ListFindings of %s@%s: %w", repo, digest, err)
	}
	if len(out.Findings) > 0 {
		return triage.SourceInspector, false, "Inspector2 still lists active findings on the image", nil
	}
	return triage.SourceInspector, true, "Inspector2 re-scan of the image found nothing active", nil
}

func sum(m map[string]int32) int32 {
	var n int32
	for _, v := range m {
		n += v
	}
	return n
}

// The scheduled runs: EventBridge Scheduler invokes respond with an
// EventBridge-shaped payload (README "Vulnerability management"):
//
//	{"version":"0","id":"<aws.scheduler.execution-id>","source":"postdeploy.vuln",
//	 "detail-type":"Vulnerability SLA Check","time":"<aws.scheduler.scheduled-time>","detail":{}}
//
// and "Vulnerability Status Report" for the weekly report. The payload
// only says which run; the run reads everything from the state table.
const kindSchedule = "schedule"

func isVulnSchedule(src, dt string) bool {
	return src == vuln.ScheduleSource && (dt == vuln.DetailTypeDaily || dt == vuln.DetailTypeWeekly)
}

// vulnScheduled runs the daily SLA check or the weekly report. Its error
// (an alert or the report not sent) fails the invocation, so the
// Scheduler's retry policy runs it again; what was sent is not sent
// again (one breach alert per finding per day).
func (h *Handler) vulnScheduled(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	if h.Vuln == nil {
		log.WarnContext(ctx, "scheduled vulnerability run, but vulnerability management is off; nothing done")
		return nil
	}
	start := time.Now()
	switch ev.DetailType {
	case vuln.DetailTypeDaily:
		res, err := h.Vuln.Manager.Daily(ctx)
		log.InfoContext(ctx, "daily SLA check", "open", res.Open, "overdue", res.Overdue, "breachAlerts", res.Breaches, "took", time.Since(start).String())
		return err
	case vuln.DetailTypeWeekly:
		_, err := h.Vuln.Manager.Weekly(ctx)
		return err
	}
	return nil
}
