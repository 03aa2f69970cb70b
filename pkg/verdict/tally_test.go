package verdict

import "testing"

func tally(vs ...Verdict) Tally {
	var t Tally
	for _, v := range vs {
		t.Add(v)
	}
	return t
}

func TestTallyFinal(t *testing.T) {
	S, F, I, E := Succeeded, Failed, Inconclusive, Error
	tests := []struct {
		name    string
		samples []Verdict
		limits  Limits
		want    Verdict
	}{
		{"all pass", []Verdict{S, S, S}, Limits{}, S},
		{"one failure, limit 0", []Verdict{S, F, S}, Limits{}, F},
		{"one failure, limit 1", []Verdict{S, F, S}, Limits{FailureLimit: 1}, S},
		{"two failures, limit 1", []Verdict{F, S, F}, Limits{FailureLimit: 1}, F},
		{"errors below the consecutive limit", []Verdict{E, S, E, S}, Limits{ConsecutiveErrorLimit: 1}, S},
		{"errors over the consecutive limit", []Verdict{S, E, E}, Limits{ConsecutiveErrorLimit: 1}, E},
		{"only errors, under the limit", []Verdict{E, E}, Limits{ConsecutiveErrorLimit: 3}, E},
		{"only inconclusive", []Verdict{I, I}, Limits{}, I},
		{"inconclusive then pass", []Verdict{I, S}, Limits{}, S},
		{"errors and inconclusive", []Verdict{E, I}, Limits{ConsecutiveErrorLimit: 3}, I},
		{"no samples", nil, Limits{}, I},
		{"failure outranks errors", []Verdict{E, E, F}, Limits{ConsecutiveErrorLimit: 5}, F},
		{"invalid value counts as error", []Verdict{Verdict(0)}, Limits{}, E},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tally(tt.samples...).Final(tt.limits); got != tt.want {
				t.Errorf("tally(%v).Final(%+v) = %v; want %v", tt.samples, tt.limits, got, tt.want)
			}
		})
	}
}

func TestTallyDecided(t *testing.T) {
	tl := tally(Succeeded, Failed)
	if v, ok := tl.Decided(Limits{}); !ok || v != Failed {
		t.Errorf("Decided(limit 0) after a failure = %v, %v; want Failed, true", v, ok)
	}
	if v, ok := tl.Decided(Limits{FailureLimit: 1}); ok {
		t.Errorf("Decided(limit 1) after one failure = %v, true; want not decided", v)
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []Verdict
		want Verdict
	}{
		{nil, Inconclusive},
		{[]Verdict{Succeeded}, Succeeded},
		{[]Verdict{Succeeded, Inconclusive}, Inconclusive},
		{[]Verdict{Inconclusive, Error, Succeeded}, Error},
		{[]Verdict{Error, Failed, Inconclusive}, Failed},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, v := range []Verdict{Succeeded, Failed, Inconclusive, Error} {
		b, err := v.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText() error: %v", v, err)
		}
		var got Verdict
		if err := got.UnmarshalText(b); err != nil || got != v {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v, nil", b, got, err, v)
		}
	}
	if _, err := Verdict(0).MarshalText(); err == nil {
		t.Error("Verdict(0).MarshalText() error = nil; want an error")
	}
	var v Verdict
	if err := v.UnmarshalText([]byte("Passed")); err == nil {
		t.Error(`UnmarshalText("Passed") error = nil; want an error`)
	}
}
