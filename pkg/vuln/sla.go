package vuln

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// DailyResult is what the daily run did.
type DailyResult struct {
	Open, Overdue, Breaches, TicketsOpened, TicketsClosed int
	// Resolved counts overdue findings the owning service said were
	// closed (their resolution event was lost).
	Resolved int
}

// releaser is implemented by pkg/state's *Store.
type releaser interface {
	Release(ctx context.Context, key string) error
}

// BreachKey is the claim of one finding's SLA-breach alert on one UTC
// day: the daily run may run twice (EventBridge Scheduler delivers at
// least once, and retries), the alert goes out once a day.
func BreachKey(k string, day time.Time) string {
	return "vuln-breach#" + k + "#" + day.UTC().Format("2006-01-02")
}

// Daily is the daily run: every open finding past its due date gets one
// SLA-breach alert per UTC day — to the security topic and, as a note,
// its ticket — and tickets that could not be opened or closed are tried
// again. An alert that could not be published has its day's claim
// released and the run returns the error, so the Scheduler's retry sends
// it (and only it).
func (m *Manager) Daily(ctx context.Context) (DailyResult, error) {
	var res DailyResult
	now := m.Now()
	recs, err := m.Store.List(ctx)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, r := range recs {
		switch {
		case r.Status == StatusOpen:
			res.Open++
			if m.wantsTicket(r.Priority) && r.TicketID == "" {
				m.openTicket(ctx, r)
				res.TicketsOpened++
			}
			if r.Overdue(now) {
				if m.StillOpen != nil {
					open, why, err := m.StillOpen(ctx, r)
					if err != nil {
						m.Log.WarnContext(ctx, "could not ask the owning service whether the overdue finding is still open; alerting on the log's word", "finding", r.Key, "error", err.Error())
					} else if !open {
						if _, _, err := m.Resolve(ctx, r.Key, now, why); err != nil {
							errs = append(errs, err)
						}
						res.Resolved++
						continue
					}
				}
				res.Overdue++
				sent, err := m.breach(ctx, r, now)
				if err != nil {
					errs = append(errs, err)
				}
				if sent {
					res.Breaches++
				}
			}
		case r.Status == StatusResolved && r.TicketState == TicketOpen && r.TicketID != "":
			m.closeTicket(ctx, r)
			res.TicketsClosed++
		}
	}
	m.Log.InfoContext(ctx, "daily vulnerability run done", "open", res.Open, "overdue", res.Overdue, "breachAlerts", res.Breaches, "ticketsRetried", res.TicketsOpened, "ticketsClosed", res.TicketsClosed)
	return res, errors.Join(errs...)
}

// breach sends r's SLA-breach alert unless today's was sent.
func (m *Manager) breach(ctx context.Context, r Record, now time.Time) (bool, error) {
	key := BreachKey(r.Key, now)
	if m.Claims != nil {
		first, err := m.Claims.Claim(ctx, key, 48*time.Hour, map[string]string{"kind": "sla-breach", "finding": r.Key})
		if err != nil {
			return false, fmt.Errorf("claim today's SLA-breach alert of %s: %w", r.Key, err)
		}
		if !first {
			return false, nil
		}
	}
	if _, err := m.Notify.Send(ctx, BreachAlert(r, now).Message()); err != nil {
		if rl, ok := m.Claims.(releaser); ok {
			if rerr := rl.Release(ctx, key); rerr != nil {
				m.Log.ErrorContext(ctx, "release the SLA-breach claim after a failed alert: today's alert for this finding is lost", "finding", r.Key, "error", rerr.Error())
			}
		}
		return false, fmt.Errorf("SLA-breach alert for %s: %w", r.Key, err)
	}
	m.Metrics.Emit(map[string]string{"Priority": r.Priority.String()}, telemetry.Value{Name: telemetry.MetricSLABreaches, Unit: telemetry.UnitCount, Value: 1})
	if r.BreachedAt.IsZero() {
		if err := m.Store.MarkBreached(ctx, r.Key, now); err != nil {
			m.Log.ErrorContext(ctx, "record the breach", "finding", r.Key, "error", err.Error())
		}
	}
	if m.Tickets != nil && r.TicketID != "" {
		note := fmt.Sprintf("SLA breached: due %s, overdue %s on %s.", r.Due.Format(time.RFC3339), days(now.Sub(r.Due)), now.UTC().Format("2006-01-02"))
		if err := m.Tickets.Comment(ctx, r.TicketID, "slaBreach", note); err != nil {
			m.Log.ErrorContext(ctx, "note the SLA breach on the ticket", "ticket", r.TicketID, "error", err.Error())
			m.count(telemetry.MetricTicketFailures, "Operation", "comment")
		}
	}
	return true, nil
}

// BreachAlert is the SLA-breach notification of r.
func BreachAlert(r Record, now time.Time) notify.Alert {
	return notify.Alert{
		Kind:     notify.Security,
		Severity: r.Severity,
		Priority: r.Priority.String(),
		Service:  r.Resource,
		Title:    fmt.Sprintf("SLA breached (%s overdue): %s on %s", days(now.Sub(r.Due)), r.Title, r.Resource),
		What:     fmt.Sprintf("%s %s finding %s is still open past its remediation deadline.", r.Priority, r.Severity, r.Vuln),
		Where:    r.Resource,
		Why:      fmt.Sprintf("First seen %s; due %s (risk score %.1f). It stays on the weekly report's breaches until it is resolved.", r.FirstSeen.Format(time.RFC3339), r.Due.Format(time.RFC3339), r.Score),
		Evidence: []string{"Finding id: " + r.FindingID, "Source: " + r.Source, "Ticket: " + orDash(r.TicketID)},
		Event:    "Vulnerability SLA Breach",
		ThreadID: "vuln-sla-" + r.Key,
		Attributes: map[string]string{
			"source": r.Source, "findingType": "SLA_BREACH",
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// days renders a duration in whole days (at least 1) or hours.
func days(d time.Duration) string {
	if d < 24*time.Hour {
		h := int(d.Hours())
		if h < 1 {
			h = 1
		}
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
