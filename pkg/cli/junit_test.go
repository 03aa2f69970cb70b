package cli

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/verdict"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// junitShape is the JUnit XML shape CI systems read (the Ant / Maven
// Surefire schema, the "JUnit XML" of "Test reports in AWS CodeBuild",
// https://docs.aws.amazon.com/codebuild/latest/userguide/test-reporting.html):
// each element, the parents it may have and the attributes it may carry.
var junitShape = map[string]struct {
	parents []string
	attrs   []string
}{
	"testsuites": {[]string{""}, []string{"name", "tests", "failures", "errors", "skipped", "disabled", "time"}},
	"testsuite":  {[]string{"testsuites", ""}, []string{"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp", "hostname", "id", "package"}},
	"properties": {[]string{"testsuite"}, nil},
	"property":   {[]string{"properties"}, []string{"name", "value"}},
	"testcase":   {[]string{"testsuite"}, []string{"name", "classname", "time", "assertions", "status"}},
	"failure":    {[]string{"testcase"}, []string{"message", "type"}},
	"error":      {[]string{"testcase"}, []string{"message", "type"}},
	"skipped":    {[]string{"testcase"}, []string{"message"}},
	"system-out": {[]string{"testcase", "testsuite"}, nil},
	"system-err": {[]string{"testcase", "testsuite"}, nil},
}

// decodeJUnit checks b against junitShape token by token with
// encoding/xml, decodes it, checks the counts add up, and returns the
// one test suite.
func decodeJUnit(t *testing.T, b []byte) junitSuite {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("JUnit report is not well-formed XML: %v\n%s", err, b)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			shape, ok := junitShape[e.Name.Local]
			if !ok || !contains(shape.parents, parent) {
				t.Errorf("JUnit report: <%s> inside <%s> is not in the JUnit shape", e.Name.Local, parent)
			}
			for _, a := range e.Attr {
				if !contains(shape.attrs, a.Name.Local) {
					t.Errorf("JUnit report: <%s %s=…> is not a JUnit attribute", e.Name.Local, a.Name.Local)
				}
				if contains([]string{"tests", "failures", "errors", "skipped"}, a.Name.Local) {
					if _, err := strconv.Atoi(a.Value); err != nil {
						t.Errorf("JUnit report: <%s %s=%q> is not a count", e.Name.Local, a.Name.Local, a.Value)
					}
				}
				if a.Name.Local == "time" {
					if _, err := strconv.ParseFloat(a.Value, 64); err != nil {
						t.Errorf("JUnit report: <%s time=%q> is not seconds", e.Name.Local, a.Value)
					}
				}
			}
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("decode the JUnit report: %v", err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("JUnit report has %d test suites; want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	var f, e, sk int
	for _, c := range s.Cases {
		if c.Name == "" || c.Classname == "" {
			t.Errorf("test case %+v: want a name and a classname", c)
		}
		if c.Failure != nil {
			f++
			if c.Failure.Message == "" {
				t.Errorf("failure of %s has no message", c.Name)
			}
		}
		if c.Error != nil {
			e++
		}
		if c.Skipped != nil {
			sk++
		}
	}
	if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e || s.Skipped != sk || doc.Tests != s.Tests || doc.Failures != f || doc.Errors != e || doc.Skipped != sk {
		t.Errorf("JUnit counts (suites %d/%d/%d/%d, suite %d/%d/%d/%d) do not match the %d cases (%d failed, %d errors, %d skipped)",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), f, e, sk)
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// One test case per check, each verdict as CodeBuild's test case statuses
// have it (https://docs.aws.amazon.com/codebuild/latest/userguide/test-report.html),
// and text that is not XML-safe escaped.
func TestJUnitMapsEachVerdict(t *testing.T) {
	rep := verify.Report{Verdict: verdict.Failed, Samples: 3, Elapsed: 90 * time.Second, Message: "Post-deploy verification FAILED <&>",
		Checks: []verify.CheckReport{
			{Name: "ok", Kind: "http", Critical: true, Verdict: verdict.Succeeded, Tally: verdict.Tally{Succeeded: 3}},
			{Name: "bad", Kind: "http", Critical: true, Verdict: verdict.Failed, Tally: verdict.Tally{Failed: 1}, Evidence: "status 503 <html>\x00\nsecond line"},
			{Name: "broken", Kind: "alarms", Critical: true, Verdict: verdict.Error, Evidence: "AccessDenied"},
			{Name: "quiet", Kind: "metric", Critical: false, Verdict: verdict.Inconclusive, Evidence: "no data"},
		}}
	b, err := JUnit("deploy/verify.yaml", time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC), rep)
	if err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	s := decodeJUnit(t, b)
	got := map[string]string{}
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			got[c.Name] = "failure:" + c.Failure.Message
		case c.Error != nil:
			got[c.Name] = "error:" + c.Error.Message
		case c.Skipped != nil:
			got[c.Name] = "skipped:" + c.Skipped.Message
		default:
			got[c.Name] = "passed"
		}
	}
	want := map[string]string{
		"ok":     "passed",
		"bad":    "failure:status 503 <html>\uFFFD",
		"broken": "error:AccessDenied",
		"quiet":  "skipped:inconclusive (non-critical: does not fail the verification): no data",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("JUnit case %s = %q; want %q", k, got[k], w)
		}
	}
	if !strings.Contains(s.SystemOut, "FAILED <&>") || s.Timestamp != "2026-12-05T03:00:00" {
		t.Errorf("JUnit suite system-out %q, timestamp %q; want verify's message and 2026-12-05T03:00:00", s.SystemOut, s.Timestamp)
	}
}
