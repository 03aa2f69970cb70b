package expect

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type testEnv struct {
	Context
	Body    string            `expr:"body"`
	JSON    any               `expr:"json"`
	Headers map[string]string `expr:"headers"`
	Latency time.Duration     `expr:"latency"`
	Values  []float64         `expr:"values"`
}

func mustCompile(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Compile(src, testEnv{})
	if err != nil {
		t.Fatalf("Compile(%q) = %v; want nil", src, err)
	}
	return p
}

// The guard must not change what an expression means.
func TestRunResults(t *testing.T) {
	env := testEnv{
		Body:    `{"ok":true,"items":[1,2,3],"name":"api"}`,
		JSON:    map[string]any{"ok": true, "items": []any{1.0, 2.0, 3.0}, "name": "api"},
		Headers: map[string]string{"Content-Type": "application/json"},
		Latency: 20 * time.Millisecond,
		Values:  []float64{1, 2, 3},
	}
	tests := []struct {
		src  string
		want any
	}{
		{`body contains "ok"`, true},
		{`json.ok == true`, true},
		{`all(json.items, # > 0)`, true},
		{`none(1..1000, body contains "nope")`, true},
		{`any(values, # > 2)`, true},
		{`count(values, # >= 2) == 2`, true},
		{`sum(map(values, # * 2)) == 12`, true},
		{`reduce(values, #acc + #, 0) == 6`, true},
		{`reduce(["a","b"], #acc + #, "") == "ab"`, true},
		{`len(filter(json.items, # > 1)) == 2`, true},
		{`headers["Content-Type"] + "; x" == "application/json; x"`, true},
		{`json.name + "-v1" == "api-v1"`, true},
		{`upper(json.name) == "API"`, true},
		{`lower("ABC") == "abc"`, true},
		{`len(split(body, ",")) == 5`, true},
		{`replace("aXb", "X", "-") == "a-b"`, true},
		{`repeat("ab", 3) == "ababab"`, true},
		{`join(["a","b"], "+") == "a+b"`, true},
		{`string(1) == "1"`, true},
		{`toJSON(json.items) == "[\n  1,\n  2,\n  3\n]"`, true},
		{`fromJSON(body).name == "api"`, true},
		{`fromBase64(toBase64("hi")) == "hi"`, true},
		{`latency + duration("1s") > duration("1s")`, true},
		{`sortBy(values, -#)[0] == 3`, true},
		{`len(groupBy(values, # > 1)[true]) == 2`, true},
		{`find(values, # > 1) == 2`, true},
		{`one(values, # == 2)`, true},
		{`json?.missing?.x == nil`, true},
		{`json?.missing`, false}, // AsBool: nil is false
	}
	for _, tt := range tests {
		p := mustCompile(t, tt.src)
		got, err := p.Run(context.Background(), time.Minute, env)
		if err != nil || got != tt.want {
			t.Errorf("Run(%q) = %v, %v; want %v, nil", tt.src, got, err, tt.want)
		}
	}
}

// The reproduction from issue 12: a predicate loop scanning a 1 MiB body a
// million times runs for minutes unguarded. Guarded, it is that sample's
// Error, named as such, at the deadline.
func TestRunStopsAtTimeout(t *testing.T) {
	env := testEnv{Body: strings.Repeat("a", 1<<20)}
	tests := []struct {
		name, src string
	}{
		{"predicate loop over the body", `none(1..999999, body contains "x")`},
		{"nested loops", `all(1..999, all(1..999, body contains "x" || true))`},
		{"map", `len(map(1..999999, body contains "x")) > 0`},
		{"reduce", `reduce(1..999999, #acc || body contains "x", false)`},
		{"sortBy", `len(sortBy(1..999999, indexOf(body, "x"))) > 0`},
		{"nested loops over one range", `let r = 1..999999; all(r, none(r, # < 0))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := p.Run(ctx, 50*time.Millisecond, env)
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("Run(%q) = %v; want a *TimeoutError", tt.src, err)
			}
			if !strings.HasPrefix(err.Error(), "expect expression did not finish within 50ms (the check's timeout)") {
				t.Errorf("Run(%q) error = %q; want it to name the expression and the limit", tt.src, err)
			}
		})
	}
}

func TestRunStopsAtContextDeadline(t *testing.T) {
	p := mustCompile(t, `none(1..999999, body contains "x")`)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Run(ctx, time.Hour, testEnv{Body: strings.Repeat("a", 1<<20)})
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Deadline {
		t.Fatalf("Run with a 50ms context = %v; want a *TimeoutError naming the deadline", err)
	}
	if !strings.Contains(err.Error(), "the time left before the sample's deadline") {
		t.Errorf("error = %q; want it to name the sample's deadline", err)
	}
}

// A stopped evaluation does not run on: the goroutine Run started ends at
// its next guarded step. Unguarded, this one scans 4 TB (minutes of CPU);
// the generous bound below only catches an evaluation that was not
// stopped.
func TestRunawayEvaluationStops(t *testing.T) {
	p := mustCompile(t, `none(1..999999, body contains "x")`)
	finished := make(chan struct{})
	p.onDone = func() { close(finished) }
	_, err := p.Run(context.Background(), 10*time.Millisecond, testEnv{Body: strings.Repeat("a", 4<<20)})
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Run = %v; want a *TimeoutError", err)
	}
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatalf("the evaluation was still running 20s after Run returned; want it stopped at its next iteration")
	}
}

func TestRunBudget(t *testing.T) {
	env := testEnv{Body: strings.Repeat("a", 1<<20), Headers: map[string]string{"doc": `"` + strings.Repeat("a", 1<<20) + `"`}}
	tests := []struct {
		name, src, fn string
	}{
		{"repeat of the body", `len(repeat(body, 999999)) > 0`, "repeat"},
		{"replace that grows", `len(replace(body, "", body)) > 0`, "replace"},
		{"join of aliases", `len(join(map(1..999, body), ",")) > 0`, "join"},
		{"toJSON of aliases", `len(toJSON(map(1..999, body))) > 0`, "toJSON"},
		{"string of aliases", `len(string(map(1..999, body))) > 0`, "string"},
		{"concatenation in a loop", `len(reduce(1..999, #acc + body, "")) > 0`, "+"},
		{"upper in a loop", `len(map(1..999, upper(body))) > 0`, "upper"},
		{"fromJSON in a loop", `len(map(1..999, fromJSON(headers.doc))) > 0`, "fromJSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src)
			_, err := p.Run(context.Background(), time.Minute, env)
			var be *BudgetError
			if !errors.As(err, &be) {
				t.Fatalf("Run(%q) = %v; want a *BudgetError", tt.src, err)
			}
			if be.Func != tt.fn {
				t.Errorf("Run(%q) budget error names %q; want %q", tt.src, be.Func, tt.fn)
			}
			if !strings.Contains(err.Error(), "more than 16 MiB of text") {
				t.Errorf("error = %q; want it to name the limit", err)
			}
		})
	}
}

func TestCompileRefusesReservedNames(t *testing.T) {
	for _, src := range []string{`_ctx == nil`, `_tick(_ctx, true)`, `_add(_ctx, "a", "b") == "ab"`} {
		if _, err := Compile(src, testEnv{}); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("Compile(%q) = %v; want a reserved-name error", src, err)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, src := range []string{`status ==`, `1 + 2`, `upper(1) == "1"`} {
		if _, err := Compile(src, testEnv{}); err == nil {
			t.Errorf("Compile(%q) = nil; want an error", src)
		}
	}
	if _, err := Compile(`true`, struct{ X int }{}); err == nil {
		t.Errorf("Compile with an environment without Context = nil; want an error")
	}
}

// FuzzRun compiles and runs arbitrary expressions against an arbitrary
// body: every evaluation returns (an error is fine), none panics or runs
// on past its timeout.
func FuzzRun(f *testing.F) {
	for _, src := range []string{
		`body contains "x"`, `none(1..999999, body contains "x")`, `len(repeat(body, 999999)) > 0`,
		`reduce(1..99, #acc + body, "") != ""`, `toJSON(map(1..99, body)) != ""`, `upper(body) == body`,
		`let r = 1..999; all(r, none(r, # < 0))`, `json?.a?.b == 1`, `split(body, "") != nil`,
	} {
		f.Add(src, "aaaa")
	}
	f.Fuzz(func(t *testing.T, src, body string) {
		p, err := Compile(src, testEnv{})
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = p.Run(ctx, 20*time.Millisecond, testEnv{Body: body, JSON: map[string]any{"a": body}})
	})
}
