package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/golden"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// The exit statuses the README documents, for every way a command ends
// without AWS.
func TestExitStatus(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, ExitUsage},
		{"unknown command", []string{"deploy"}, ExitUsage},
		{"help", []string{"help"}, ExitOK},
		{"lint clean", []string{"lint", "--var", "IMAGE_DIGEST=sha256:" + strings.Repeat("ab", 32), "testdata/good.yaml"}, ExitOK},
		{"lint without the variable", []string{"lint", "testdata/good.yaml"}, ExitProblems},
		{"lint problems", []string{"lint", "testdata/bad.yaml"}, ExitProblems},
		{"lint one bad of two", []string{"lint", "--var", "IMAGE_DIGEST=sha256:" + strings.Repeat("ab", 32), "testdata/good.yaml", "testdata/bad.json"}, ExitProblems},
		{"lint syntax error", []string{"lint", "testdata/syntax.yaml"}, ExitProblems},
		{"lint no file", []string{"lint"}, ExitUsage},
		{"lint missing file", []string{"lint", "testdata/nope.yaml"}, ExitUsage},
		{"lint bad format", []string{"lint", "--format", "xml", "testdata/bad.yaml"}, ExitUsage},
		{"lint bad var", []string{"lint", "--var", "NOVALUE", "testdata/good.yaml"}, ExitUsage},
		{"lint var twice", []string{"lint", "--var", "A=1", "--var", "A=2", "testdata/good.yaml"}, ExitUsage},
		{"lint unknown flag", []string{"lint", "--strict", "testdata/good.yaml"}, ExitUsage},
		{"run invalid spec", []string{"run", "testdata/bad.yaml"}, ExitUsage},
		{"run two specs", []string{"run", "testdata/good.yaml", "testdata/bad.yaml"}, ExitUsage},
		{"schema", []string{"schema"}, ExitOK},
		{"schema with an argument", []string{"schema", "x"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, stdout, stderr := run(t, tt.args...); code != tt.want {
				t.Errorf("Main(%q) = %d; want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.want, stdout, stderr)
			}
		})
	}
}

// lint's output names file, line, column and field of every problem; the
// golden files are the documented text and JSON shapes.
func TestLintOutput(t *testing.T) {
	tests := []struct {
		name, golden string
		args         []string
	}{
		{"text", "lint.golden", []string{"lint", "testdata/bad.yaml", "testdata/bad.json", "testdata/syntax.yaml"}},
		{"json", "lint.json.golden", []string{"lint", "--format", "json", "testdata/bad.yaml", "testdata/syntax.yaml"}},
		{"clean", "lint-clean.golden", []string{"lint", "--var", "IMAGE_DIGEST=sha256:" + strings.Repeat("ab", 32), "testdata/good.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stdout, stderr := run(t, tt.args...)
			if stderr != "" {
				t.Errorf("Main(%q) wrote to stderr: %s", tt.args, stderr)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden), stdout)
		})
	}
}

// The JSON report decodes into LintReport with nothing unknown, and every
// problem has a line.
func TestLintJSONShape(t *testing.T) {
	_, stdout, _ := run(t, "lint", "--format", "json", "testdata/bad.yaml", "testdata/bad.json")
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var rep LintReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decode lint --format json: %v\n%s", err, stdout)
	}
	if rep.Version != LintVersion || rep.Valid || len(rep.Files) != 2 {
		t.Fatalf("report = version %d, valid %t, %d files; want %d, false, 2", rep.Version, rep.Valid, len(rep.Files), LintVersion)
	}
	for _, f := range rep.Files {
		if f.Valid || len(f.Problems) == 0 {
			t.Errorf("%s: valid %t with %d problems; want invalid with problems", f.File, f.Valid, len(f.Problems))
		}
		for _, p := range f.Problems {
			if p.Line == 0 || p.File != f.File || p.Message == "" {
				t.Errorf("problem %+v: want its file, a line and a message", p)
			}
		}
	}
}

// Kind-level problems (an expression that does not compile) are reported
// with the parser's, at the check's own path, in the same round — for a
// check the parser found problems in too.
func TestLintReportsKindProblems(t *testing.T) {
	res := LintFile("x.yaml", []byte("checks:\n  - name: a\n    alarms: {names: [x]}\n  - name: b\n    http: {url: 'https://example.com'}\n    expect: 'status =='\n  - name: c\n    http: {url: 'ftp://example.com'}\n    expect: 'json..x'\n"), nil)
	var paths []string
	for _, p := range res.Problems {
		paths = append(paths, fmt.Sprintf("%d:%s", p.Line, p.Path))
	}
	want := "6:checks[1].expect 8:checks[2].http.url 9:checks[2].expect"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("LintFile problems at %q; want %q", got, want)
	}
}

func TestSchemaCommandPrintsTheSchema(t *testing.T) {
	code, stdout, _ := run(t, "schema")
	if code != ExitOK || stdout != string(spec.JSONSchema) {
		t.Errorf("postdeploy schema = %d, %d bytes; want 0 and the %d bytes of spec.JSONSchema", code, len(stdout), len(spec.JSONSchema))
	}
}

// A run against the local AWS stand-in, reached the way a user's run
// reaches AWS: the SDK's default chain reading AWS_ENDPOINT_URL,
// AWS_REGION and the credentials from the environment.
func TestRunAgainstTheStandIn(t *testing.T) {
	si := standin.StartT(t, standin.Scenario{Alarms: []standin.Alarm{
		{Name: "prod-api-5xx", State: "OK"},
		{Name: "prod-db-cpu", State: "ALARM", Reason: "Threshold Crossed", Since: standin.Duration{Duration: time.Minute}},
	}})
	for _, kv := range si.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv(config.EnvLocalProbes, "loopback")
	t.Setenv(config.EnvCloudWatchProtocol, "")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"UP"}`)
	}))
	defer app.Close()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	healthy := write("healthy.yaml", "bake: 0s\nchecks:\n  - name: health\n    http: {url: '#{APP}/health'}\n    expect: 'json.status == \"UP\"'\n  - name: api-alarms\n    alarms: {prefix: prod-api-}\n")
	broken := write("broken.yaml", "bake: 0s\nchecks:\n  - name: health\n    http: {url: '#{APP}/health'}\n  - name: db-alarms\n    alarms: {prefix: prod-db-}\n")
	undecided := write("undecided.yaml", "bake: 0s\nchecks:\n  - name: missing-alarm\n    alarms: {names: [no-such-alarm]}\n")
	tests := []struct {
		name       string
		spec       string
		want       int
		wantOut    string
		wantJUnit  [4]int // tests, failures, errors, skipped
		wantSample string
	}{
		{"passes", healthy, ExitOK, "Verified: 2 checks passed", [4]int{2, 0, 0, 0}, ": health Succeeded, api-alarms Succeeded\n"},
		{"fails", broken, ExitProblems, "Post-deploy verification FAILED: 1 of 2 checks failed", [4]int{2, 1, 0, 0}, "db-alarms Failed"},
		{"inconclusive", undecided, ExitUndecided, "INCONCLUSIVE", [4]int{1, 0, 0, 1}, "missing-alarm Inconclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			junit := filepath.Join(dir, tt.name+".xml")
			code, stdout, stderr := run(t, "run", "--var", "APP="+app.URL, "--junit", junit, tt.spec)
			if code != tt.want {
				t.Errorf("postdeploy run %s = %d; want %d\nstdout: %s\nstderr: %s", tt.name, code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantOut) {
				t.Errorf("postdeploy run %s printed %q; want verify's message containing %q", tt.name, stdout, tt.wantOut)
			}
			if !strings.Contains(stderr, tt.wantSample) {
				t.Errorf("postdeploy run %s progress %q; want a sample line containing %q", tt.name, stderr, tt.wantSample)
			}
			b, err := os.ReadFile(junit)
			if err != nil {
				t.Fatalf("read the JUnit report: %v", err)
			}
			s := decodeJUnit(t, b)
			if got := [4]int{s.Tests, s.Failures, s.Errors, s.Skipped}; got != tt.wantJUnit {
				t.Errorf("JUnit tests, failures, errors, skipped = %v; want %v\n%s", got, tt.wantJUnit, b)
			}
		})
	}
	if n := len(si.CallsTo(standin.CloudWatch, "DescribeAlarms")); n == 0 {
		t.Error("no DescribeAlarms call reached the stand-in: the run did not use AWS_ENDPOINT_URL")
	}
}

// Without a region the run cannot look anywhere: it says so and exits 3.
func TestRunWithoutARegion(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code, _, stderr := run(t, "run", "--var", "IMAGE_DIGEST=sha256:"+strings.Repeat("ab", 32), "testdata/good.yaml")
	if code != ExitUndecided || !strings.Contains(stderr, "AWS_REGION") {
		t.Errorf("postdeploy run without a region = %d, %q; want %d and a message naming AWS_REGION", code, stderr, ExitUndecided)
	}
}

func TestRunIsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	si := standin.StartT(t, standin.Scenario{})
	a := &App{Stdout: &out, Stderr: &errOut, AWSConfig: func(context.Context) (aws.Config, error) { return si.Config(), nil }}
	code := a.Run(ctx, []string{"run", "--var", "IMAGE_DIGEST=sha256:" + strings.Repeat("ab", 32), "testdata/good.yaml"})
	if code != ExitUndecided || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("run with a cancelled context = %d, %q; want %d and a message saying it was interrupted", code, out.String(), ExitUndecided)
	}
}

// lint refuses what verify would refuse at load time: a spec whose state
// cannot fit CodePipeline's continuation token over its bake, reported
// with the spec's other problems.
func TestLintReportsTheTokenLimit(t *testing.T) {
	data := strings.Replace(string(spec50()), "bake: 10m\ninterval: 1m\n", "bake: 24h\ninterval: 1s\nlimits: {inconclusive: sometimes}\n", 1)
	data = strings.Replace(data, "limits: {failureLimit: 0, consecutiveErrorLimit: 3, inconclusive: fail}\n", "", 1)
	res := LintFile("big.yaml", []byte(data), nil)
	var got []string
	for _, p := range res.Problems {
		got = append(got, p.Path)
	}
	if want := []string{"limits.inconclusive", "checks"}; !slices.Equal(got, want) { // in line order
		t.Errorf("LintFile(50 checks, 24h at 1s) problems at %q; want %q (the token limit among them)", got, want)
	}
}

// A JUnit report that cannot be written is an error of the command, named
// with the file, after verify's message.
func TestRunCannotWriteTheJUnitReport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	si := standin.StartT(t, standin.Scenario{})
	a := &App{Stdout: &out, Stderr: &errOut, AWSConfig: func(context.Context) (aws.Config, error) { return si.Config(), nil }}
	junit := filepath.Join(t.TempDir(), "no-such-dir", "report.xml")
	code := a.Run(ctx, []string{"run", "--junit", junit, "--var", "IMAGE_DIGEST=sha256:" + strings.Repeat("ab", 32), "testdata/good.yaml"})
	if code != ExitUsage || !strings.Contains(errOut.String(), junit) || out.Len() == 0 {
		t.Errorf("run --junit %s = %d, stderr %q, stdout %d bytes; want %d, the file named, verify's message printed", junit, code, errOut.String(), out.Len(), ExitUsage)
	}
}

// An editor lints its unsaved buffer through standard input, naming it.
func TestLintReadsStandardInput(t *testing.T) {
	var out, errOut bytes.Buffer
	a := &App{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader("checks:\n  - name: a\n    http: {url: 'ftp://x'}\n")}
	code := a.Run(context.Background(), []string{"lint", "--stdin-name", "deploy/verify.yaml", "-"})
	want := "deploy/verify.yaml:3:12: checks[0].http.url: must be https or http, got \"ftp://x\"\ndeploy/verify.yaml: 1 problem\n"
	if code != ExitProblems || out.String() != want {
		t.Errorf("lint - = %d, %q; want %d, %q", code, out.String(), ExitProblems, want)
	}
}

// A file over the spec limit is refused before it is read whole.
func TestLintRefusesAnOversizedFile(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), spec.MaxSpecBytes/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "lint", big)
	if code != ExitUsage || !strings.Contains(stderr, big) || !strings.Contains(stderr, "256 KiB") {
		t.Errorf("lint of a file over 256 KiB = %d, %q; want %d and a message naming the file and the limit", code, stderr, ExitUsage)
	}
}

// A bake of several samples prints one line per sample as it is taken.
func TestRunPrintsEverySample(t *testing.T) {
	si := standin.StartT(t, standin.Scenario{Alarms: []standin.Alarm{{Name: "prod-api-5xx", State: "OK"}}})
	var out, errOut bytes.Buffer
	// A clock that moves only when the run sleeps: the schedule, not the
	// machine's speed, decides what is printed.
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	a := &App{Stdout: &out, Stderr: &errOut, AWSConfig: func(context.Context) (aws.Config, error) { return si.Config(), nil },
		Now:   func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }}
	spec := filepath.Join(t.TempDir(), "bake.yaml")
	if err := os.WriteFile(spec, []byte("bake: 2m\ninterval: 1m\nchecks:\n  - name: api-alarms\n    alarms: {prefix: prod-api-}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := a.Run(context.Background(), []string{"run", spec}); code != ExitOK {
		t.Fatalf("run = %d; want %d\n%s%s", code, ExitOK, errOut.String(), out.String())
	}
	for _, want := range []string{"sample 1/3 at +0s: api-alarms Succeeded\n", "sample 2/3 at +1m0s: api-alarms Succeeded\n", "sample 3/3 at +2m0s: api-alarms Succeeded\n"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("run progress %q; want the line %q", errOut.String(), want)
		}
	}
	if !strings.HasPrefix(out.String(), "Verified: 1 check passed (3 samples over 2m0s)") {
		t.Errorf("run message %q; want verify's summary of 3 samples over 2m0s", out.String())
	}
}
