package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Claimer is the part of the state table dedupe uses (pkg/state's
// *Store): Claim records key for ttl and reports whether this call was the
// first to claim it.
type Claimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration, attrs map[string]string) (bool, error)
}

// DefaultDedupeWindow is how long a notified finding stays quiet.
const DefaultDedupeWindow = 24 * time.Hour

// Deduper suppresses findings already notified within a window.
type Deduper struct {
	// Store is the state table; nil notifies everything.
	Store Claimer
	// Window is how long a notified finding is not notified again
	// (default 24h).
	Window time.Duration
}

// Key identifies a finding for dedupe: the source, the finding's id, the
// resource and its severity class, so a finding that escalates is
// notified again. Summary findings (scan counts) add the counts, so a
// rescan that finds something new is notified.
func Key(f Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", f.Source, f.ID, f.Resource.Name(), f.Severity)
	if len(f.Counts) > 0 {
		fmt.Fprintf(h, "\x00%s", f.CountsText())
	}
	return "finding#" + f.Source + "#" + hex.EncodeToString(h.Sum(nil)[:16])
}

// First reports whether f should be notified: true the first time within
// the window. When the state table fails, First returns true with the
// error — a duplicate notification is better than a lost P1.
func (d Deduper) First(ctx context.Context, f Finding, a Assessment) (bool, error) {
	if d.Store == nil {
		return true, nil
	}
	w := d.Window
	if w <= 0 {
		w = DefaultDedupeWindow
	}
	key := Key(f)
	first, err := d.Store.Claim(ctx, key, w, map[string]string{
		"kind":      "finding",
		"source":    f.Source,
		"findingId": truncate(f.ID, 512),
		"resource":  truncate(f.Resource.Name(), 512),
		"severity":  f.Severity.String(),
		"priority":  a.Priority.String(),
	})
	if err != nil {
		return true, fmt.Errorf("dedupe claim %s for finding %q: %w", key, f.ID, err)
	}
	return first, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
