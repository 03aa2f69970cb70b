package cli

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/verdict"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// The JUnit XML report, in the common (Ant / Maven Surefire) shape that
// CodeBuild report groups read ("Test reports in AWS CodeBuild",
// https://docs.aws.amazon.com/codebuild/latest/userguide/test-reporting.html,
// lists JUnit XML among the formats) and most CI systems show. CodeBuild
// gives each test case one of SUCCEEDED, FAILED, ERROR, SKIPPED
// ("Test report statuses",
// https://docs.aws.amazon.com/codebuild/latest/userguide/test-report.html);
// a check maps to them as: Succeeded → a plain testcase, Failed →
// <failure>, Error → <error>, Inconclusive → <skipped> (the check could
// not be judged).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit renders a finished run as a JUnit XML report: one test suite for
// the spec file, one test case per check (classname postdeploy.<kind>).
// The suite's system-out holds the message verify would send.
func JUnit(file string, started time.Time, rep verify.Report) ([]byte, error) {
	secs := fmt.Sprintf("%.3f", rep.Elapsed.Seconds())
	suite := junitSuite{Name: file, Time: secs, Timestamp: started.UTC().Format("2006-01-02T15:04:05"), SystemOut: rep.Message,
		Properties: []junitProperty{
			{Name: "verdict", Value: rep.Verdict.String()},
			{Name: "passed", Value: fmt.Sprint(rep.Passed)},
			{Name: "samples", Value: fmt.Sprint(rep.Samples)},
		}}
	for _, c := range rep.Checks {
		tc := junitCase{Name: c.Name, Classname: "postdeploy." + c.Kind, Time: secs}
		t := c.Tally
		detail := fmt.Sprintf("%s: %d samples: %d passed, %d failed, %d errored, %d inconclusive\nlast: %s",
			c.Target, t.Samples(), t.Succeeded, t.Failed, t.Errors, t.Inconclusive, c.Evidence)
		label := ""
		if !c.Critical {
			label = " (non-critical: does not fail the verification)"
		}
		switch c.Verdict {
		case verdict.Succeeded:
			tc.SystemOut = detail
		case verdict.Failed:
			tc.Failure = &junitProblem{Message: firstLine(c.Evidence) + label, Type: "Failed", Text: detail}
			suite.Failures++
		case verdict.Inconclusive:
			tc.Skipped = &junitSkipped{Message: "inconclusive" + label + ": " + firstLine(c.Evidence)}
			tc.SystemOut = detail
			suite.Skipped++
		default:
			tc.Error = &junitProblem{Message: firstLine(c.Evidence) + label, Type: c.Verdict.String(), Text: detail}
			suite.Errors++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "postdeploy", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped, Time: secs, Suites: []junitSuite{suite}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render JUnit XML: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	const maxMessage = 500
	if r := []rune(line); len(r) > maxMessage {
		return string(r[:maxMessage-1]) + "…"
	}
	return line
}
