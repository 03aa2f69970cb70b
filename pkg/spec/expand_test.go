package spec

import (
	"runtime"
	"strings"
	"testing"
)

// expansionAttack is issue 12's input: 953 bytes of variables and a
// 256 KiB spec of repeated #{A}, which expanded to 59 MB (229 MB of heap).
func expansionAttack() ([]byte, map[string]string) {
	head, tail := "checks:\n  - name: a\n    http: {url: \"https://x/", "\"}\n"
	n := (MaxSpecBytes - len(head) - len(tail)) / len("#{A}")
	return []byte(head + strings.Repeat("#{A}", n) + tail), map[string]string{"A": strings.Repeat("a", 953)}
}

// TestParseExpansionIsBounded: the 256 KiB limit holds after #{VAR}
// substitution, and Parse refuses such a spec without building it. The
// bound on allocation is measured in bytes (runtime.MemStats.TotalAlloc),
// not time: before the fix this Parse allocated over 600 MB and accepted
// the spec.
func TestParseExpansionIsBounded(t *testing.T) {
	data, vars := expansionAttack()
	if len(data) > MaxSpecBytes {
		t.Fatalf("attack spec is %d bytes; want it within the %d-byte limit as written", len(data), MaxSpecBytes)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(data, vars)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "checks[0].http.url: with its #{VAR} variables substituted the spec would be over 262144 bytes (256 KiB") {
		t.Errorf("Parse(%d bytes of #{A}, A=953 bytes) = %.300v; want an error naming the path and the 256 KiB limit", len(data), err)
	}
	// Parsing a 256 KiB spec takes a few MB (YAML to JSON, the tree);
	// building the expansion would take hundreds.
	const bound = 32 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		t.Errorf("Parse allocated %d bytes; want at most %d (the expansion must not be built)", got, bound)
	}
}

func TestInterpolate(t *testing.T) {
	vars := map[string]string{"A": "x", "LONG": strings.Repeat("y", 10), "EMPTY": ""}
	tests := []struct {
		in, want string
		problem  string
	}{
		{"plain", "plain", ""},
		{"#{A}", "x", ""},
		{"a#{A}b#{ A }c", "axbxc", ""},
		{"##{A}", "#{A}", ""},
		{"###{A}", "##{A}", ""},
		{"#{A", "#{A", ""},
		{"#{a{b}", "#{a{b}", ""},
		{"#{EMPTY}!", "!", ""},
		{"#{LONG}", strings.Repeat("y", 10), ""},
		{"#{NOPE}", "#{NOPE}", "unresolved variable #{NOPE}"},
	}
	for _, tt := range tests {
		x := &expansion{}
		got, probs := x.interpolate("p", tt.in, vars)
		switch {
		case tt.problem == "" && (got != tt.want || len(probs) != 0):
			t.Errorf("interpolate(%q) = %q, %v; want %q, nil", tt.in, got, probs, tt.want)
		case tt.problem != "" && (len(probs) != 1 || !strings.Contains(probs[0].Msg, tt.problem)):
			t.Errorf("interpolate(%q) problems = %v; want one containing %q", tt.in, probs, tt.problem)
		}
		if len(probs) == 0 && x.size != len(got)-len(tt.in) {
			t.Errorf("interpolate(%q) counted size %d; want %d", tt.in, x.size, len(got)-len(tt.in))
		}
	}
}

// TestExpansionBudgetSpansStrings: the budget is the whole spec's, not
// one string's: many strings each under the limit still add up.
func TestExpansionBudgetSpansStrings(t *testing.T) {
	var b strings.Builder
	b.WriteString("checks:\n")
	for i := range 40 {
		b.WriteString("  - name: c" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n    http: {url: \"https://x/#{A}\"}\n")
	}
	_, err := Parse([]byte(b.String()), map[string]string{"A": strings.Repeat("a", 8<<10)})
	if err == nil || !strings.Contains(err.Error(), "256 KiB") {
		t.Errorf("Parse(40 × 8 KiB expansions) = %.200v; want the expanded-size error", err)
	}
	if _, err := Parse([]byte(b.String()), map[string]string{"A": strings.Repeat("a", 4<<10)}); err != nil && strings.Contains(err.Error(), "256 KiB") {
		t.Errorf("Parse(40 × 4 KiB expansions) = %.200v; want it within the limit", err)
	}
}

func BenchmarkParseExpansionAttack(b *testing.B) {
	data, vars := expansionAttack()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse(data, vars)
	}
}
