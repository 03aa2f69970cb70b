package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/postdeploy/postdeploy/pkg/check/alarms
BenchmarkAlarms250-2   	    3000	    402311 ns/op	         3.000 calls/op	  120000 B/op	    1200 allocs/op
PASS
pkg: github.com/postdeploy/postdeploy/pkg/check/httpcheck
BenchmarkSample100Probes-2   	      10	 104000000 ns/op	       104.0 ms/first-sample	       103.5 ms/sample
    bench_test.go:12: a log line from the benchmark
BenchmarkSample100Probes-2   	      12	 103000000 ns/op	       105.0 ms/first-sample	       102.5 ms/sample
--- FAIL: BenchmarkBroken
`
	got, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []benchResult{
		{Package: "github.com/postdeploy/postdeploy/pkg/check/alarms", Name: "BenchmarkAlarms250", N: 3000, Metrics: map[string]float64{"ns/op": 402311, "calls/op": 3, "B/op": 120000, "allocs/op": 1200}},
		{Package: "github.com/postdeploy/postdeploy/pkg/check/httpcheck", Name: "BenchmarkSample100Probes", N: 12, Metrics: map[string]float64{"ns/op": 103000000, "ms/first-sample": 105, "ms/sample": 102.5}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseBench mismatch (-want +got):\n%s", d)
	}
	if b, ok := find(got, "pkg/check/alarms", "BenchmarkAlarms250"); !ok || b.Metrics["calls/op"] != 3 {
		t.Errorf("find(alarms, BenchmarkAlarms250) = %+v, %v; want calls/op 3", b, ok)
	}
}

func TestParseInitTrace(t *testing.T) {
	logs := `{"level":"INFO"}
init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
init github.com/aws/aws-sdk-go-v2/service/ssm/schemas @1.2 ms, 2.5 ms clock, 1234 bytes, 12 allocs
init broken line
`
	got := parseInitTrace(logs)
	want := []initCost{
		{Package: "internal/bytealg"},
		{Package: "github.com/aws/aws-sdk-go-v2/service/ssm/schemas", Clock: 2500 * time.Microsecond, Bytes: 1234},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseInitTrace mismatch (-want +got):\n%s", d)
	}
}

func TestModuleOf(t *testing.T) {
	for sym, want := range map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/ec2.(*Client).RunInstances":    "aws-sdk-go-v2/service/ec2",
		"type:github.com/aws/aws-sdk-go-v2/service/ec2/types.Instance":       "aws-sdk-go-v2/service/ec2",
		"github.com/aws/aws-sdk-go-v2/aws/retry.(*Standard).GetAttemptToken": "aws-sdk-go-v2 (core)",
		"github.com/postdeploy/postdeploy/pkg/check/httpcheck.New":           "postdeploy/pkg/check",
		"github.com/expr-lang/expr/vm.(*VM).Run":                             "github.com/expr-lang/expr",
		"encoding/json.Marshal":                                              "Go standard library",
		"runtime.mallocgc":                                                   "Go runtime",
		"go:func.*":                                                          "Go function metadata (pclntab)",
		"main.main":                                                          "main (functions/<fn>)",
	} {
		if got := moduleOf(sym); got != want {
			t.Errorf("moduleOf(%q) = %q; want %q", sym, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 5}, {90, 9}, {100, 10}, {1, 1}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("percentile(1..10, %d) = %d; want %d", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil, 50) = %d; want 0", got)
	}
}

func TestParseDumpdep(t *testing.T) {
	dump := `runtime.main -> main.main
main.main -> github.com/postdeploy/postdeploy/pkg/remediate.(*Rule).render
github.com/postdeploy/postdeploy/pkg/remediate.(*Rule).render -> text/template.(*Template).Execute
text/template.(*Template).Execute -> text/template.(*state).walk
text/template.(*state).walk -> text/template.(*state).evalField <ReflectMethod>
text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName <ReflectMethod>
`
	got := parseDumpdep(strings.NewReader(dump), "github.com/postdeploy/postdeploy/")
	want := []dceBreaker{{
		Func: "text/template.(*state).evalField",
		From: []string{"text/template.(*state).walk", "text/template.(*Template).Execute", "github.com/postdeploy/postdeploy/pkg/remediate.(*Rule).render"},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseDumpdep mismatch (-want +got):\n%s", d)
	}
	if o := got[0].origin("github.com/postdeploy/postdeploy/"); o != "pkg/remediate.(*Rule).render" {
		t.Errorf("origin = %q; want pkg/remediate.(*Rule).render", o)
	}
}
