package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestReportMarksUnexpectedOutcomes(t *testing.T) {
	ps := []played{
		{scenario: scenario{Name: "passes", Expected: "Succeeded"}, result: result{Got: "Succeeded", Invocations: 2, AWSCalls: 9, Elapsed: 3 * time.Second}},
		{scenario: scenario{Name: "fails", Expected: "Failed (JobFailed)"}, result: result{Got: "Succeeded", Invocations: 1, Problems: []string{"the action ended Succeeded; want Failed (JobFailed)"},
			NoteTitle: "What verify told CodePipeline", Note: "line one\nline two"}},
	}
	var out bytes.Buffer
	writeReport(&out, ps, 5*time.Second, time.Second)
	got := out.String()
	for _, want := range []string{
		"SCENARIO", "EXPECTED", "INVOCATIONS", "AWS CALLS",
		"passes", "ok",
		"UNEXPECTED",
		"What verify told CodePipeline:\n  │ line one\n  │ line two",
		`"fails" did not go as expected:` + "\n  - the action ended Succeeded; want Failed (JobFailed)",
		"1 of 2 scenarios did NOT go as expected",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report does not contain %q:\n%s", want, got)
		}
	}
	if !ps[0].ok() || ps[1].ok() {
		t.Errorf("ok() = %v, %v; want true, false", ps[0].ok(), ps[1].ok())
	}
}

func TestReportAllExpected(t *testing.T) {
	var out bytes.Buffer
	writeReport(&out, []played{{scenario: scenario{Name: "a"}, result: result{Got: "x"}}}, time.Second, time.Second)
	if !strings.Contains(out.String(), "All 1 scenarios went as expected") {
		t.Errorf("report = %q; want the all-clear line", out.String())
	}
}

func TestRunExitsNonZeroOnUnexpectedOutcome(t *testing.T) {
	defer func(old func() []scenario) { playList = old }(playList)
	playList = func() []scenario {
		return []scenario{
			{Name: "as expected", Expected: "x", Function: "verify", Run: func(context.Context, *rig) result { return result{Got: "x", Invocations: 1} }},
			{Name: "not as expected", Expected: "x", Function: "verify", Run: func(context.Context, *rig) result {
				return result{Got: "y", Invocations: 1, Problems: []string{"got y"}}
			}},
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != 1 {
		t.Fatalf("run with an unexpected outcome = %d; want 1\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "1 of 2 scenarios did NOT go as expected") {
		t.Errorf("report does not say which went wrong:\n%s", out.String())
	}

	playList = func() []scenario { return playListOK }
	out.Reset()
	if code := run(context.Background(), nil, &out, &errOut); code != 0 {
		t.Errorf("run with every outcome expected = %d; want 0\n%s", code, out.String())
	}
}

var playListOK = []scenario{{Name: "fine", Expected: "x", Function: "verify", Run: func(context.Context, *rig) result { return result{Got: "x"} }}}
