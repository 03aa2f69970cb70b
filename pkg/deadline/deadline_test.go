package deadline

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMargin(t *testing.T) {
	tests := []struct {
		name           string
		remaining, max time.Duration
		want           time.Duration
	}{
		{"none left", 0, 2 * time.Second, 0},
		{"past the deadline", -time.Second, 2 * time.Second, 0},
		{"no cap", time.Minute, 0, 0},
		{"1s left, 2s cap: a quarter", time.Second, 2 * time.Second, 250 * time.Millisecond},
		{"3s left, 2s cap: a quarter", 3 * time.Second, 2 * time.Second, 750 * time.Millisecond},
		{"10s left, 2s cap: the cap", 10 * time.Second, 2 * time.Second, 2 * time.Second},
		{"15min left, 10s cap: the cap", 15 * time.Minute, 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Margin(tt.remaining, tt.max); got != tt.want {
				t.Errorf("Margin(%v, %v) = %v; want %v", tt.remaining, tt.max, got, tt.want)
			}
		})
	}
}

type stopped struct{ margin time.Duration }

func (s stopped) Error() string { return "stopped " + s.margin.String() + " early" }

func TestWithCutoff(t *testing.T) {
	now := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(400*time.Millisecond))
	defer cancel()
	work, stop := WithCutoff(ctx, now, 2*time.Second, func(m time.Duration) error { return stopped{m} })
	defer stop()
	d, ok := work.Deadline()
	if want := now.Add(300 * time.Millisecond); !ok || !d.Equal(want) {
		t.Fatalf("WithCutoff deadline = %v, %v; want %v (400ms less a quarter)", d, ok, want)
	}
	<-work.Done()
	var s stopped
	if !errors.As(context.Cause(work), &s) || s.margin != 100*time.Millisecond {
		t.Errorf("Cause = %v; want stopped{100ms}", context.Cause(work))
	}
	if ctx.Err() != nil {
		t.Errorf("the invocation's context ended with the work's: %v", ctx.Err())
	}
}

func TestWithCutoffWithoutDeadline(t *testing.T) {
	work, stop := WithCutoff(context.Background(), time.Now(), time.Second, func(time.Duration) error { return errors.New("unused") })
	if _, ok := work.Deadline(); ok {
		t.Error("WithCutoff(no deadline) has a deadline; want none")
	}
	stop()
	if !errors.Is(context.Cause(work), context.Canceled) {
		t.Errorf("Cause after cancel = %v; want context.Canceled", context.Cause(work))
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v; want nil after the full wait", err)
	}
	cause := errors.New("stopped")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	if err := Sleep(ctx, time.Hour); !errors.Is(err, cause) {
		t.Errorf("Sleep(1h) on an ended context = %v; want its cause at once", err)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, cause) {
		t.Errorf("Sleep(0) on an ended context = %v; want its cause", err)
	}
}
