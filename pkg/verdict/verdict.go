package verdict

import (
	"encoding/json"
	"fmt"
	"time"
)

// Verdict is the outcome of one sample of a check, of one check over the
// bake, or of a whole verification.
type Verdict int

// The four outcomes. The zero value is not a verdict, so a forgotten
// assignment is caught rather than read as success.
const (
	Succeeded Verdict = iota + 1
	Failed
	Inconclusive
	Error
)

var names = map[Verdict]string{
	Succeeded:    "Succeeded",
	Failed:       "Failed",
	Inconclusive: "Inconclusive",
	Error:        "Error",
}

// String returns the verdict's name, e.g. "Failed".
func (v Verdict) String() string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Parse turns a name back into a Verdict.
func Parse(s string) (Verdict, error) {
	for v, n := range names {
		if n == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q (want Succeeded, Failed, Inconclusive or Error)", s)
}

// MarshalText encodes the verdict by name.
func (v Verdict) MarshalText() ([]byte, error) {
	if _, ok := names[v]; !ok {
		return nil, fmt.Errorf("marshal verdict: invalid value %d", int(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText decodes a verdict name.
func (v *Verdict) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// severity orders verdicts for Worst: evidence of a bad release outranks
// not being able to tell, which outranks not having enough data.
var severity = map[Verdict]int{Succeeded: 0, Inconclusive: 1, Error: 2, Failed: 3}

// Worst returns the most severe of vs (Failed > Error > Inconclusive >
// Succeeded). With no arguments it returns Inconclusive: nothing was judged.
func Worst(vs ...Verdict) Verdict {
	if len(vs) == 0 {
		return Inconclusive
	}
	w := vs[0]
	for _, v := range vs[1:] {
		if severity[v] > severity[w] {
			w = v
		}
	}
	return w
}

// Result is the outcome of one sample of one check, with the evidence a
// person needs to act on it.
type Result struct {
	// Check is the check's name from the spec.
	Check string `json:"check"`
	// Kind is the check kind (http, alarms, metric, …).
	Kind string `json:"kind"`
	// Target is what was checked: a URL, an alarm prefix, a metric expression.
	Target string `json:"target,omitempty"`
	// Verdict is the outcome of this sample.
	Verdict Verdict `json:"verdict"`
	// Observed is what was seen, e.g. "status 503 after 120ms".
	Observed string `json:"observed,omitempty"`
	// Expected is what would have passed, e.g. "status == 200".
	Expected string `json:"expected,omitempty"`
	// Values are the key measured numbers, exported as output variables
	// and metrics (e.g. "latency_ms": 120).
	Values map[string]float64 `json:"values,omitempty"`
	// Duration is how long the sample took.
	Duration time.Duration `json:"-"`
}

// Evidence renders the observed/expected pair in one line for messages.
func (r Result) Evidence() string {
	switch {
	case r.Observed != "" && r.Expected != "":
		return fmt.Sprintf("observed %s; expected %s", r.Observed, r.Expected)
	case r.Observed != "":
		return "observed " + r.Observed
	case r.Expected != "":
		return "expected " + r.Expected
	}
	return ""
}

// MarshalJSON adds the duration in milliseconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"durationMs"`
	}{plain(r), r.Duration.Milliseconds()})
}
