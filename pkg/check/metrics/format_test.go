package metrics

import (
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:            "5m",
		time.Hour:                  "1h",
		90 * time.Second:           "1m30s",
		90 * time.Minute:           "1h30m",
		24 * time.Hour:             "24h",
		time.Hour + 30*time.Second: "1h0m30s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q; want %q", d, got, want)
		}
	}
}
