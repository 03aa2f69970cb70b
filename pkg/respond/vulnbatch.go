package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// Triage at scale: one Security Hub event carries up to 100 findings, a
// new CVE thousands in an hour. The findings of one event are claimed,
// then notified, a bounded number at a time; their notifications go out
// with SNS PublishBatch, ten a call.

// FindingOptions tune respond's security path for events of many
// findings. The zero value claims and publishes one finding after
// another with Publish.
type FindingOptions struct {
	// Concurrency is how many dedupe claims, and then how many Publish or
	// PublishBatch calls, of one event run at once (≤ 1: one at a time).
	Concurrency int
	// Batch publishes with SNS PublishBatch (up to ten messages a call)
	// when the Sender can (a notify.Router on an *sns.Client).
	Batch bool
}

// BatchSender is the batch side of notify.Router.
type BatchSender interface {
	CanBatch() bool
	Batches(ms []notify.Message) ([][]int, error)
	SendBatch(ctx context.Context, ms []notify.Message) ([]notify.BatchResult, error)
}

var _ BatchSender = notify.Router{}

// maxBatchRounds is how many PublishBatch calls one message gets: the
// first and two more for an entry SNS reports Failed through no fault of
// the sender (SenderFault false). A Failed entry was not published, so
// sending it again cannot duplicate it.
const maxBatchRounds = 3

// batchRetryPause is the pause before each retry round, times the round.
const batchRetryPause = 100 * time.Millisecond

// candidate is a scored finding above the notification floor.
type candidate struct {
	f     triage.Finding
	a     triage.Assessment
	log   *slog.Logger
	first bool // this invocation holds its dedupe claim
	// digest says whether it goes out alone or in its vulnerability's
	// digest (vulnmanage.go).
	digest vuln.DigestDecision
}

// outgoing is a notification under the claims it was sent under: the
// finding's dedupe claim and, for a digest, the digest's.
type outgoing struct {
	alert notify.Alert
	keys  []string
	log   *slog.Logger
}

func (h *Handler) concurrency() int { return max(1, h.Findings.Concurrency) }

// claimAll records each candidate in the vulnerability log and takes
// its dedupe claim (and, when it is first, its digest decision),
// h.concurrency() candidates at a time; one finding's log write and
// claim run side by side. A claim that fails says "first"
// (a duplicate is better than a lost alert), as Deduper.First does.
func (h *Handler) claimAll(ctx context.Context, d triage.Deduper, cs []candidate) {
	var g errgroup.Group
	g.SetLimit(h.concurrency())
	for i := range cs {
		g.Go(func() error {
			// The log write and the claim are independent: they run
			// side by side (so up to 2 × Concurrency calls are in flight).
			var logged sync.WaitGroup
			logged.Go(func() { h.observe(ctx, &cs[i]) })
			first, err := d.First(ctx, cs[i].f, cs[i].a)
			if err != nil {
				cs[i].log.ErrorContext(ctx, "dedupe failed; notifying anyway", "error", err.Error())
			}
			logged.Wait()
			cs[i].first = first
			if first {
				h.digest(ctx, &cs[i])
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil
}

// sendAll publishes every outgoing notification. Each one that SNS did
// not take is counted and comes back as an unsent error naming its
// claim, joined, for HandleEvent to release every such claim and return
// the error so Lambda's retry sends them (and only them: the others'
// claims hold).
func (h *Handler) sendAll(ctx context.Context, out []outgoing) error {
	if len(out) == 0 {
		return nil
	}
	if bs, ok := h.Notify.(BatchSender); ok && h.Findings.Batch && bs.CanBatch() {
		return h.sendBatches(ctx, bs, out)
	}
	errs := make([]error, len(out))
	var g errgroup.Group
	g.SetLimit(h.concurrency())
	for i, o := range out {
		g.Go(func() error {
			if err := h.send(ctx, o.alert, "", o.log); err != nil {
				errs[i] = h.failed(o, err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// sendBatches publishes out with PublishBatch: grouped by topic, ten
// (and at most 256 KiB) a call, the calls h.concurrency() at a time.
// Each entry is judged on its own: published; Failed and retryable (sent
// again in the next round, up to maxBatchRounds); Failed for good, or in
// a call that failed as a whole (what SNS did with it is unknown), it is
// unsent.
func (h *Handler) sendBatches(ctx context.Context, bs BatchSender, out []outgoing) error {
	pending := make([]int, len(out))
	for i := range pending {
		pending[i] = i
	}
	var errs []error
	for round := 1; len(pending) > 0; round++ {
		if round > 1 {
			if err := h.wait(ctx, time.Duration(round-1)*batchRetryPause); err != nil {
				for _, i := range pending {
					errs = append(errs, h.failed(out[i], fmt.Errorf("notify %s: retry of a failed PublishBatch entry: %w", out[i].alert.Kind, err)))
				}
				break
			}
		}
		msgs := make([]notify.Message, len(pending))
		for j, i := range pending {
			msgs[j] = out[i].alert.Message()
		}
		groups, err := bs.Batches(msgs)
		if err != nil {
			for _, i := range pending {
				errs = append(errs, h.failed(out[i], err))
			}
			break
		}
		retry := make([][]int, len(groups))
		gerrs := make([][]error, len(groups))
		var g errgroup.Group
		g.SetLimit(h.concurrency())
		for gi, grp := range groups {
			g.Go(func() error {
				batch := make([]notify.Message, len(grp))
				for j, k := range grp {
					batch[j] = msgs[k]
				}
				res, err := bs.SendBatch(ctx, batch)
				for j, k := range grp {
					i := pending[k]
					switch {
					case err != nil:
						gerrs[gi] = append(gerrs[gi], h.failed(out[i], err))
					case res[j].Err == nil:
						h.sent(ctx, out[i], res[j].MessageID)
					case res[j].Retryable && round < maxBatchRounds:
						out[i].log.WarnContext(ctx, "PublishBatch entry failed; sending it again", "round", round, "error", res[j].Err.Error())
						retry[gi] = append(retry[gi], i)
					default:
						gerrs[gi] = append(gerrs[gi], h.failed(out[i], res[j].Err))
					}
				}
				return nil
			})
		}
		_ = g.Wait()
		pending = pending[:0:0]
		for gi := range groups {
			pending = append(pending, retry[gi]...)
			errs = append(errs, gerrs[gi]...)
		}
	}
	return errors.Join(errs...)
}

// sent logs and counts one published notification.
func (h *Handler) sent(ctx context.Context, o outgoing, id string) {
	a := o.alert
	o.log.InfoContext(ctx, "notification sent", "kind", a.Kind, "severity", a.Severity, "priority", a.Priority, "subject", notify.Subject(a.Message().Subject), "messageId", id, "batch", true)
	h.Metrics.Emit(map[string]string{"Kind": string(a.Kind)}, telemetry.Value{Name: telemetry.MetricNotificationsSent, Unit: telemetry.UnitCount, Value: 1})
}

// failed counts a notification SNS did not take and returns it as
// unsent under each of its claims.
func (h *Handler) failed(o outgoing, err error) error {
	h.Metrics.Emit(map[string]string{"Kind": string(o.alert.Kind)}, telemetry.Value{Name: telemetry.MetricNotificationsFailed, Unit: telemetry.UnitCount, Value: 1})
	var errs []error
	for _, k := range o.keys {
		errs = append(errs, unsent{key: k, err: err})
	}
	if len(errs) == 0 {
		return err
	}
	return errors.Join(errs...)
}

// unsentKeys lists the claim keys of every unsent error in err's tree
// (sendAll joins one per notification).
func unsentKeys(err error) []string {
	var keys []string
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) { //nolint:errorlint // walks the tree itself: every unsent of a join, where errors.As finds only the first
		case nil:
		case unsent:
			if x.key != "" {
				keys = append(keys, x.key)
			}
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return keys
}
