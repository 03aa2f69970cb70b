package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

type samplerFunc func(context.Context, Sample) []verdict.Result

func (f samplerFunc) Sample(ctx context.Context, s Sample) []verdict.Result { return f(ctx, s) }

func items(idx ...int) []Item {
	out := make([]Item, len(idx))
	for i, x := range idx {
		out[i] = Item{Index: x, Check: spec.Check{Name: "c" + string(rune('0'+x))}}
	}
	return out
}

func TestSuiteRun(t *testing.T) {
	ok := samplerFunc(func(context.Context, Sample) []verdict.Result {
		return []verdict.Result{{Verdict: verdict.Succeeded}, {Verdict: verdict.Failed, Observed: "503"}}
	})
	boom := samplerFunc(func(context.Context, Sample) []verdict.Result { panic("index out of range") })
	short := samplerFunc(func(context.Context, Sample) []verdict.Result { return nil })
	unset := samplerFunc(func(context.Context, Sample) []verdict.Result { return []verdict.Result{{}} })
	var panicked []string
	s := Suite{
		Count: 6,
		Groups: []Group{
			{Kind: "http", Items: items(0, 3), Sampler: ok},
			{Kind: "alarms", Items: items(1), Sampler: boom},
			{Kind: "metric", Items: items(2, 4), Sampler: short},
			{Kind: "headers", Items: items(5), Sampler: unset},
		},
		OnPanic: func(kind string, _ any, stack []byte) {
			if len(stack) == 0 {
				t.Error("OnPanic got no stack")
			}
			panicked = append(panicked, kind)
		},
	}
	got := s.Run(context.Background(), Sample{})
	want := []struct {
		check, kind string
		v           verdict.Verdict
		observed    string
	}{
		{"c0", "http", verdict.Succeeded, ""},
		{"c1", "alarms", verdict.Error, "check panicked: index out of range"},
		{"c2", "metric", verdict.Error, "internal error: metric sampler returned 0 results for 2 checks"},
		{"c3", "http", verdict.Failed, "503"},
		{"c4", "metric", verdict.Error, "internal error"},
		{"c5", "headers", verdict.Error, "no verdict set"},
	}
	for i, w := range want {
		r := got[i]
		if r.Check != w.check || r.Kind != w.kind || r.Verdict != w.v || !strings.Contains(r.Observed, w.observed) {
			t.Errorf("result[%d] = %s/%s %v %q; want %s/%s %v containing %q", i, r.Check, r.Kind, r.Verdict, r.Observed, w.check, w.kind, w.v, w.observed)
		}
	}
	if len(panicked) != 1 || panicked[0] != "alarms" {
		t.Errorf("OnPanic calls = %v; want [alarms]", panicked)
	}
}

func TestUnused(t *testing.T) {
	it := Item{Index: 2, Check: spec.Check{Name: "a", Alarms: &spec.Alarms{Prefix: "p"}, Expect: "x", MinSamples: 3}}
	errs := Unused(it, "it fails on ALARM", "expect", "noData", "minSamples")
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"checks[2].expect: alarms checks take no expect (it fails on ALARM); remove it",
		"checks[2].minSamples: alarms checks take no minSamples (it fails on ALARM); remove it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unused = %q; want %q", got, want)
	}
}

// TestSuiteRunReturnsAtDeadline: a sampler that ignores its context does
// not hold the sample past the deadline; its checks are Errors naming
// why, and the other groups keep their results.
func TestSuiteRunReturnsAtDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := samplerFunc(func(context.Context, Sample) []verdict.Result {
		<-release
		return []verdict.Result{{Verdict: verdict.Succeeded}}
	})
	ok := samplerFunc(func(context.Context, Sample) []verdict.Result {
		return []verdict.Result{{Verdict: verdict.Succeeded}}
	})
	s := Suite{Count: 2, Groups: []Group{
		{Kind: "http", Items: items(0), Sampler: ok},
		{Kind: "metric", Items: items(1), Sampler: stuck},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	got := s.Run(ctx, Sample{})
	if got[0].Verdict != verdict.Succeeded {
		t.Errorf("result[0] = %v %q; want Succeeded (its group answered)", got[0].Verdict, got[0].Observed)
	}
	if want := "metric check did not finish before the sample's deadline"; got[1].Verdict != verdict.Error || !strings.Contains(got[1].Observed, want) || got[1].Check != "c1" {
		t.Errorf("result[1] = %s %v %q; want c1 Error containing %q", got[1].Check, got[1].Verdict, got[1].Observed, want)
	}
}
