package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string: "30s",
// "10m", "1h30m".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders the duration as Go does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string like \"30s\" or \"10m\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("must be a duration like \"30s\" or \"10m\", got %q", s)
	}
	if v < 0 {
		return fmt.Errorf("must not be negative, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// Percent is a relative amount written "20%" (or the number 20). Its
// value is the fraction: "20%" is 0.2.
type Percent float64

// MarshalJSON writes the percentage as a string, e.g. "20%".
func (p Percent) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatFloat(float64(p)*100, 'f', -1, 64) + "%")
}

// UnmarshalJSON reads "20%" or 20 as 0.2.
func (p *Percent) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*p = Percent(f / 100)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a percentage like \"20%%\", got %s", b)
	}
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return fmt.Errorf("must be a percentage like \"20%%\", got %q", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return fmt.Errorf("must be a percentage like \"20%%\", got %q", s)
	}
	*p = Percent(f / 100)
	return nil
}
