package state_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/state"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	os.Exit(db.Run(m))
}

// newStore gives each test its own table on the shared dynalite, and a
// clock the test moves.
func newStore(t *testing.T) (*state.Store, *clock) {
	t.Helper()
	c, table := db.StateTable(t, "state")
	s := state.New(c, table)
	clk := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	s.Now = clk.Now
	return s, clk
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestClaim(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps func(t *testing.T, s *state.Store, clk *clock) []bool
		want  []bool
	}{
		{"first claim wins", func(t *testing.T, s *state.Store, _ *clock) []bool {
			return []bool{claim(t, s, "k", time.Minute)}
		}, []bool{true}},
		{"second claim while held loses", func(t *testing.T, s *state.Store, _ *clock) []bool {
			return []bool{claim(t, s, "k", time.Minute), claim(t, s, "k", time.Minute)}
		}, []bool{true, false}},
		{"claim after expiry wins even before TTL deletion", func(t *testing.T, s *state.Store, clk *clock) []bool {
			a := claim(t, s, "k", time.Minute)
			clk.Add(time.Minute + time.Second)
			return []bool{a, claim(t, s, "k", time.Minute)}
		}, []bool{true, true}},
		{"claim just before expiry loses", func(t *testing.T, s *state.Store, clk *clock) []bool {
			a := claim(t, s, "k", time.Minute)
			clk.Add(59 * time.Second)
			return []bool{a, claim(t, s, "k", time.Minute)}
		}, []bool{true, false}},
		{"different keys are independent", func(t *testing.T, s *state.Store, _ *clock) []bool {
			return []bool{claim(t, s, "a", time.Minute), claim(t, s, "b", time.Minute)}
		}, []bool{true, true}},
		{"release frees the key", func(t *testing.T, s *state.Store, _ *clock) []bool {
			a := claim(t, s, "k", time.Hour)
			if err := s.Release(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			return []bool{a, claim(t, s, "k", time.Hour)}
		}, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newStore(t)
			if got := tt.steps(t, s, clk); !cmp.Equal(got, tt.want) {
				t.Errorf("claims = %v; want %v", got, tt.want)
			}
		})
	}
}

func claim(t *testing.T, s *state.Store, key string, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(context.Background(), key, ttl, map[string]string{"by": t.Name()})
	if err != nil {
		t.Fatalf("Claim(%q) error: %v", key, err)
	}
	return ok
}

func TestClaimRejectsBadInput(t *testing.T) {
	s, _ := newStore(t)
	for _, tc := range []struct {
		key string
		ttl time.Duration
	}{{"", time.Minute}, {"k", 0}, {"k", -time.Second}} {
		if ok, err := s.Claim(context.Background(), tc.key, tc.ttl, nil); err == nil || ok {
			t.Errorf("Claim(%q, %s) = %v, %v; want false and an error", tc.key, tc.ttl, ok, err)
		}
	}
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	s, _ := newStore(t)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Claim(context.Background(), "same", time.Hour, nil)
			if err != nil {
				t.Errorf("Claim: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("64 concurrent claims of one key: %d won; want exactly 1", n)
	}
}

func TestHolder(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.Holder(ctx, "k"); err != nil || ok {
		t.Fatalf("Holder of unclaimed key = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.Claim(ctx, "k", 90*time.Second, map[string]string{"rule": "r1"}); err != nil {
		t.Fatal(err)
	}
	h, ok, err := s.Holder(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("Holder = %v, %v; want a hold", ok, err)
	}
	want := state.Hold{Key: "k", ClaimedAt: clk.Now(), ExpiresAt: clk.Now().Add(90 * time.Second), Attrs: map[string]string{"rule": "r1"}}
	if d := cmp.Diff(want, h); d != "" {
		t.Errorf("Holder mismatch (-want +got):\n%s", d)
	}
	clk.Add(2 * time.Minute)
	if _, ok, _ := s.Holder(ctx, "k"); ok {
		t.Errorf("Holder after expiry reports a hold; want none")
	}
}

func TestTake(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	var got []bool
	for i := 0; i < 4; i++ {
		ok, _, err := s.Take(ctx, "rate#rule#r1", 3, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	if want := []bool{true, true, true, false}; !cmp.Equal(got, want) {
		t.Errorf("4 takes with limit 3 = %v; want %v", got, want)
	}
	_, n, _ := s.Take(ctx, "rate#rule#r1", 3, time.Hour)
	if n != 3 {
		t.Errorf("refused Take reports count %d; want 3", n)
	}
	if ok, _, _ := s.Take(ctx, "rate#rule#r2", 3, time.Hour); !ok {
		t.Errorf("Take of another key refused; want allowed")
	}
	clk.Add(time.Hour)
	if ok, n, _ := s.Take(ctx, "rate#rule#r1", 3, time.Hour); !ok || n != 1 {
		t.Errorf("Take in the next window = %v, %d; want true, 1", ok, n)
	}
	if ok, _, err := s.Take(ctx, "zero", 0, time.Hour); ok || err != nil {
		t.Errorf("Take with limit 0 = %v, %v; want false, nil", ok, err)
	}
}

func TestConcurrentTakesNeverExceedLimit(t *testing.T) {
	s, _ := newStore(t)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := s.Take(context.Background(), "global", 5, time.Hour)
			if err != nil {
				t.Errorf("Take: %v", err)
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 5 {
		t.Errorf("40 concurrent takes with limit 5: %d allowed; want 5", n)
	}
}

func TestIncidentLifecycle(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	opened := clk.Now()
	in, created, err := s.OpenIncident(ctx, "arn:alarm", opened, map[string]string{"rule": "r"})
	if err != nil || !created || !in.Open {
		t.Fatalf("OpenIncident = %+v, %v, %v; want a new open incident", in, created, err)
	}
	clk.Add(time.Minute)
	again, created, err := s.OpenIncident(ctx, "arn:alarm", clk.Now(), nil)
	if err != nil || created || !again.OpenedAt.Equal(opened) {
		t.Fatalf("second OpenIncident = %+v, %v, %v; want the existing one opened at %s", again, created, err, opened)
	}
	for want := 1; want <= 2; want++ {
		n, err := s.RecordAttempt(ctx, "arn:alarm")
		if err != nil || n != want {
			t.Fatalf("RecordAttempt = %d, %v; want %d", n, err, want)
		}
	}
	if ok, err := s.MarkEscalated(ctx, "arn:alarm"); !ok || err != nil {
		t.Fatalf("first MarkEscalated = %v, %v; want true", ok, err)
	}
	if ok, err := s.MarkEscalated(ctx, "arn:alarm"); ok || err != nil {
		t.Fatalf("second MarkEscalated = %v, %v; want false (escalate once)", ok, err)
	}
	closedAt := opened.Add(7 * time.Minute)
	closed, ok, err := s.CloseIncident(ctx, "arn:alarm", closedAt)
	if err != nil || !ok {
		t.Fatalf("CloseIncident = %v, %v; want closed", ok, err)
	}
	want := state.Incident{ID: "arn:alarm", OpenedAt: opened, ClosedAt: closedAt, Attempts: 2, Escalated: true, Attrs: map[string]string{"rule": "r"}}
	if d := cmp.Diff(want, closed); d != "" {
		t.Errorf("closed incident mismatch (-want +got):\n%s", d)
	}
	if _, ok, _ := s.CloseIncident(ctx, "arn:alarm", closedAt); ok {
		t.Errorf("second CloseIncident closed again; want false")
	}
	if _, err := s.RecordAttempt(ctx, "arn:alarm"); err == nil {
		t.Errorf("RecordAttempt on a closed incident succeeded; want an error")
	}
	// A new ALARM after recovery opens a fresh incident.
	fresh, created, err := s.OpenIncident(ctx, "arn:alarm", closedAt.Add(time.Hour), nil)
	if err != nil || !created || fresh.Attempts != 0 || fresh.Escalated {
		t.Errorf("OpenIncident after close = %+v, %v, %v; want a fresh incident", fresh, created, err)
	}
}

func TestCloseWithoutIncident(t *testing.T) {
	s, clk := newStore(t)
	if _, ok, err := s.CloseIncident(context.Background(), "none", clk.Now()); ok || err != nil {
		t.Errorf("CloseIncident of unknown = %v, %v; want false, nil", ok, err)
	}
}

func TestAuditTrail(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	base := clk.Now()
	for i, d := range []string{"skipped", "acted", "verified"} {
		if err := s.Audit(ctx, "arn:alarm", base.Add(time.Duration(i)*time.Second), map[string]string{"decision": d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Audit(ctx, "other", base, map[string]string{"decision": "x"}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Trail(ctx, "arn:alarm", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range recs {
		got = append(got, r.Attrs["decision"])
		if !r.At.Equal(base.Add(time.Duration(i) * time.Second)) {
			t.Errorf("record %d at %s; want %s", i, r.At, base.Add(time.Duration(i)*time.Second))
		}
	}
	if want := []string{"skipped", "acted", "verified"}; !cmp.Equal(got, want) {
		t.Errorf("Trail decisions = %v; want %v", got, want)
	}
}
