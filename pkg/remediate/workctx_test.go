package remediate

import (
	"context"
	"testing"
	"time"
)

// The engine's work ends Margin before the invocation's deadline, but
// never takes more than a quarter of the time left (a 4 s function still
// gets about 3 s to act).
func TestWorkContextKeepsTheMargin(t *testing.T) {
	tests := []struct {
		name     string
		margin   time.Duration
		left     time.Duration
		min, max time.Duration // of the margin kept
	}{
		{"default, long timeout", 0, time.Hour, DefaultMargin, DefaultMargin},
		{"set, long timeout", 2 * time.Second, time.Hour, 2 * time.Second, 2 * time.Second},
		{"short timeout: a quarter of the time left", 0, 4 * time.Second, time.Nanosecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer, cancel := context.WithDeadline(context.Background(), time.Now().Add(tt.left))
			defer cancel()
			work, stop := (&Engine{Margin: tt.margin}).SetDefaults().workContext(outer)
			defer stop()
			od, _ := outer.Deadline()
			wd, ok := work.Deadline()
			if !ok {
				t.Fatalf("workContext(deadline in %s) has no deadline; want one", tt.left)
			}
			if got := od.Sub(wd); got < tt.min || got > tt.max {
				t.Errorf("workContext(deadline in %s, Margin %s) keeps %s before the deadline; want between %s and %s", tt.left, tt.margin, got, tt.min, tt.max)
			}
		})
	}
	work, stop := (&Engine{}).SetDefaults().workContext(context.Background())
	defer stop()
	if d, ok := work.Deadline(); ok {
		t.Errorf("workContext(no deadline) has deadline %s; want none", d)
	}
}
