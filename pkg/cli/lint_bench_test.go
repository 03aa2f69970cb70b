package cli

import (
	"fmt"
	"strings"
	"testing"
)

// spec50 is a spec of 50 checks (the most one verification takes), every
// kind, as a team's real spec would mix them.
func spec50() []byte {
	var b strings.Builder
	b.WriteString("bake: 10m\ninterval: 1m\nchecks:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  - name: check-%02d\n", i)
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "    http: {url: \"https://api.example.com/health/%d\", timeout: 3s, status: [200, 204]}\n    expect: 'status == 200 && latency < duration(\"500ms\") && json.status == \"UP\"'\n", i)
		case 1:
			b.WriteString("    alarms: {prefix: \"prod-api-\", ignorePreexisting: true}\n")
		case 2:
			b.WriteString("    metric:\n      expression: \"100*errors/requests\"\n      metrics:\n        errors: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, stat: Sum}\n        requests: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum}\n    expect: \"value < 5\"\n")
		case 3:
			b.WriteString("    compare:\n      baseline: {namespace: AWS/Lambda, name: Duration, stat: p95, beforeBake: true}\n      canary: {namespace: AWS/Lambda, name: Duration, stat: p95}\n      tolerance: 20%\n")
		case 4:
			b.WriteString("    headers: {url: \"https://api.example.com/\", require: [hsts, nosniff]}\n")
		default:
			b.WriteString("    imageScan: {repository: app, digest: \"sha256:" + strings.Repeat("0a", 32) + "\", maxSeverity: HIGH}\n")
		}
	}
	b.WriteString("limits: {failureLimit: 0, consecutiveErrorLimit: 3, inconclusive: fail}\n")
	return []byte(b.String())
}

// BenchmarkLint50Checks is `postdeploy lint` on a 50-check spec: strict
// parse, positions, every kind's sampler built, the token-size check.
func BenchmarkLint50Checks(b *testing.B) {
	data := spec50()
	if r := LintFile("spec50.yaml", data, nil); !r.Valid || r.Checks != 50 {
		b.Fatalf("LintFile(spec50) = valid %t, %d checks, %v; want a clean 50-check spec", r.Valid, r.Checks, r.Problems)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		LintFile("spec50.yaml", data, nil)
	}
}

// BenchmarkLint50ChecksWithProblems is the same spec with a problem in
// every sixth check: the positions are read too.
func BenchmarkLint50ChecksWithProblems(b *testing.B) {
	data := []byte(strings.ReplaceAll(string(spec50()), "url: \"https://api.example.com/health/", "url: \"ftp://api.example.com/health/"))
	if r := LintFile("spec50.yaml", data, nil); len(r.Problems) != 9 {
		b.Fatalf("LintFile(spec50 with bad urls) = %d problems; want 9", len(r.Problems))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		LintFile("spec50.yaml", data, nil)
	}
}

// FuzzLintFile: lint reads untrusted files. It never panics, a file is
// valid exactly when it has no problem, and every problem names the file
// and says what is wrong, at a line inside the file.
func FuzzLintFile(f *testing.F) {
	for _, s := range []string{string(spec50()), "checks: [{name: a, http: {url: 'ftp://x'}}]", "checks:\n  - name: a\n   http: x\n", "{\"checks\": [{\"name\": \"a\", \"alarms\": {}}]}", "checks: [{name: a, http: {url: 'https://x'}, expect: 'status =='}]", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := LintFile("f.yaml", data, map[string]string{"V": "1"})
		if r.Valid != (len(r.Problems) == 0) {
			t.Fatalf("LintFile(%q) valid = %t with %d problems", data, r.Valid, len(r.Problems))
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range r.Problems {
			if p.File != "f.yaml" || p.Message == "" || p.Line < 0 || p.Line > lines+1 {
				t.Fatalf("LintFile(%q) problem %+v: want the file, a message and a line within %d", data, p, lines)
			}
		}
	})
}
