package vuln

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Sender publishes a notification (notify.Router).
type Sender interface {
	Send(ctx context.Context, m notify.Message) (string, error)
}

// KindReport is the alert kind of the weekly status report: its own
// SNS topic, with email subscribers.
const KindReport notify.Kind = "vuln-report"

// Manager closes the loop of vulnerability management: it keeps the log
// (Store), opens one ticket per finding at or above TicketMin, updates
// it when the finding's priority or score changes, resolves findings and
// closes their tickets, and runs the daily SLA check and the weekly
// report. Build it with New.
type Manager struct {
	Store *Store
	// Claims is the state table's claim (pkg/state's *Store): one SLA
	// breach alert per finding per day, one digest per vulnerability.
	Claims triage.Claimer
	// Tickets files tickets; nil: none.
	Tickets   Ticketer
	TicketMin triage.Priority
	Notify    Sender
	Metrics   *telemetry.Metrics
	Log       *slog.Logger
	Now       func() time.Time
	// DigestThreshold is how many resources one vulnerability reaches in
	// DigestWindow before its findings go out as one digest (0: never).
	DigestThreshold int
	DigestWindow    time.Duration
	// TicketStale is how long a ticket being opened stays claimed before
	// another delivery may try (default 15 minutes: past the longest
	// Lambda run).
	TicketStale time.Duration
	// StillOpen, when set, asks the service that owns a finding whether
	// it is still open before the daily run alerts on it: a resolution
	// whose event was lost is resolved then instead of alerted (closed
	// false, with why, when the service says it is closed).
	StillOpen func(ctx context.Context, r Record) (open bool, why string, err error)
}

// New settles m's defaults once.
func New(m Manager) *Manager {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.TicketMin == 0 {
		m.TicketMin = triage.P2
	}
	if m.DigestWindow <= 0 {
		m.DigestWindow = triage.DefaultDedupeWindow
	}
	if m.TicketStale <= 0 {
		m.TicketStale = 15 * time.Minute
	}
	return &m
}

func (m *Manager) count(name, dim, val string) {
	m.Metrics.Emit(map[string]string{dim: val}, telemetry.Value{Name: name, Unit: telemetry.UnitCount, Value: 1})
}

// wantsTicket reports whether a finding of priority p gets a ticket.
func (m *Manager) wantsTicket(p triage.Priority) bool {
	return m.Tickets != nil && p >= triage.P1 && p <= m.TicketMin
}

// Observe records a delivery of f in the log and opens or updates its
// ticket. A ticket that cannot be opened or updated is logged and
// counted (TicketFailures) and left for the daily run: it never stops
// the finding's notification, so Observe returns only the log's error.
func (m *Manager) Observe(ctx context.Context, f triage.Finding, a triage.Assessment) (Record, error) {
	rec := FromFinding(f, a, m.Now())
	old, existed, err := m.Store.Observe(ctx, rec)
	if err != nil {
		return rec, err
	}
	if existed && old.Status == StatusResolved && old.TicketID != "" {
		// The finding came back after it was resolved: its closed ticket
		// stays as history and the finding gets a new one.
		if err := m.Store.forgetTicket(ctx, rec.Key, old.TicketID); err != nil {
			m.Log.ErrorContext(ctx, "forget the resolved finding's closed ticket", "finding", rec.Key, "error", err.Error())
		}
		old.TicketID = ""
	}
	if !m.wantsTicket(rec.Priority) {
		return rec, nil
	}
	if !existed || old.TicketID == "" {
		m.openTicket(ctx, rec)
		return rec, nil
	}
	if old.TicketState == TicketOpen && (old.TicketPriority != rec.Priority || old.TicketScore != rec.Score) {
		m.updateTicket(ctx, rec, old.TicketID)
	}
	return rec, nil
}

// openTicket opens rec's ticket when this caller wins the claim.
func (m *Manager) openTicket(ctx context.Context, rec Record) {
	log := m.Log.With("finding", rec.Key, "priority", rec.Priority.String())
	won, err := m.Store.ClaimTicket(ctx, rec.Key, m.Now(), m.TicketStale)
	if err != nil {
		log.ErrorContext(ctx, "ticket claim failed; the daily run opens the ticket", "error", err.Error())
		m.count(telemetry.MetricTicketFailures, "Operation", "open")
		return
	}
	if !won {
		return // another delivery opens it, or has
	}
	id, err := m.Tickets.Open(ctx, TicketFromRecord(rec))
	if err != nil {
		log.ErrorContext(ctx, "ticket could not be opened; the notification still goes out and the daily run tries again", "error", err.Error())
		m.count(telemetry.MetricTicketFailures, "Operation", "open")
		if ferr := m.Store.TicketFailed(ctx, rec.Key, err); ferr != nil {
			log.ErrorContext(ctx, "record the failed ticket", "error", ferr.Error())
		}
		return
	}
	if err := m.Store.SetTicket(ctx, rec, id); err != nil {
		// The OpsItem exists; the retry finds it through OpsCenter's
		// deduplication and records it then.
		log.ErrorContext(ctx, "ticket opened but not recorded; the daily run records it", "ticket", id, "error", err.Error())
		m.count(telemetry.MetricTicketFailures, "Operation", "record")
		return
	}
	log.InfoContext(ctx, "ticket opened", "ticket", id)
	m.count(telemetry.MetricTickets, "Operation", "open")
}

// updateTicket updates the ticket when this caller is the one that
// recorded the change.
func (m *Manager) updateTicket(ctx context.Context, rec Record, id string) {
	log := m.Log.With("finding", rec.Key, "ticket", id)
	won, err := m.Store.ClaimTicketUpdate(ctx, rec)
	if err != nil || !won {
		if err != nil {
			log.ErrorContext(ctx, "ticket update claim failed", "error", err.Error())
			m.count(telemetry.MetricTicketFailures, "Operation", "update")
		}
		return
	}
	if err := m.Tickets.Update(ctx, id, TicketFromRecord(rec)); err != nil {
		log.ErrorContext(ctx, "ticket could not be updated with the new priority and score", "error", err.Error())
		m.count(telemetry.MetricTicketFailures, "Operation", "update")
		return
	}
	log.InfoContext(ctx, "ticket updated", "priority", rec.Priority.String(), "score", rec.Score)
	m.count(telemetry.MetricTickets, "Operation", "update")
}

// Resolve marks the finding k resolved at `at` (why says what AWS
// confirmed), records its time to remediate against its SLA (metrics
// TimeToRemediate and RemediatedWithinSLA per priority) and closes its
// ticket. Of concurrent deliveries one resolves; false for the others
// and for a finding the log does not hold open.
func (m *Manager) Resolve(ctx context.Context, k string, at time.Time, why string) (Record, bool, error) {
	rec, ok, err := m.Store.Resolve(ctx, k, at, why)
	if err != nil || !ok {
		return rec, ok, err
	}
	p := rec.Priority.String()
	within := 0.0
	if !at.After(rec.Due) {
		within = 1
	}
	m.Metrics.Emit(map[string]string{"Priority": p},
		telemetry.Value{Name: telemetry.MetricTimeToRemediate, Unit: telemetry.UnitSeconds, Value: at.Sub(rec.FirstSeen).Seconds()},
		telemetry.Value{Name: telemetry.MetricRemediatedWithinSLA, Unit: telemetry.UnitCount, Value: within})
	m.Log.InfoContext(ctx, "finding resolved", "finding", k, "priority", p, "timeToRemediate", at.Sub(rec.FirstSeen).Round(time.Second).String(), "withinSla", within == 1, "resolution", why)
	m.closeTicket(ctx, rec)
	return rec, true, nil
}

// closeTicket closes rec's ticket when this caller wins the close.
func (m *Manager) closeTicket(ctx context.Context, rec Record) {
	if m.Tickets == nil || rec.TicketID == "" {
		return
	}
	won, err := m.Store.ClaimTicketClose(ctx, rec.Key)
	if err != nil || !won {
		if err != nil {
			m.Log.ErrorContext(ctx, "ticket close claim failed; the daily run closes it", "ticket", rec.TicketID, "error", err.Error())
			m.count(telemetry.MetricTicketFailures, "Operation", "close")
		}
		return
	}
	note := fmt.Sprintf("Resolved %s: %s. Time to remediate %s (SLA due %s).", rec.ResolvedAt.Format(time.RFC3339), rec.Resolution,
		rec.Age(rec.ResolvedAt).Round(time.Minute), rec.Due.Format(time.RFC3339))
	if err := m.Tickets.Close(ctx, rec.TicketID, note); err != nil {
		m.Log.ErrorContext(ctx, "ticket could not be closed; the daily run tries again", "ticket", rec.TicketID, "error", err.Error())
		m.count(telemetry.MetricTicketFailures, "Operation", "close")
		if rerr := m.Store.reopenTicketState(ctx, rec.Key); rerr != nil {
			m.Log.ErrorContext(ctx, "record the failed close", "error", rerr.Error())
		}
		return
	}
	m.Log.InfoContext(ctx, "ticket closed", "ticket", rec.TicketID)
	m.count(telemetry.MetricTickets, "Operation", "close")
}
