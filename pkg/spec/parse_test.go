package spec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

const goodYAML = `
bake: 10m
interval: 30s
checks:
  - name: api-health
    http: {url: "https://api.example.com/health", timeout: 3s}
    expect: 'status == 200 && json.status == "UP"'
  - name: no-new-alarms
    alarms: {prefix: "prod-api-", ignorePreexisting: true}
  - name: error-rate
    metric:
      expression: "100*errors/requests"
      metrics:
        errors: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, stat: Sum, dimensions: {LoadBalancer: "app/api/1"}}
        requests: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum, dimensions: {LoadBalancer: "app/api/1"}}
      period: 60s
    expect: "value < 5"
    noData: inconclusive
    minSamples: 3
  - name: latency-vs-baseline
    compare:
      baseline: {namespace: AWS/Lambda, name: Duration, stat: p95, dimensions: {FunctionName: api, Resource: "api:live"}}
      canary: {namespace: AWS/Lambda, name: Duration, stat: p95, dimensions: {FunctionName: api, Resource: "api:canary"}}
      tolerance: 20%
  - name: security-headers
    headers: {url: "https://api.example.com/", require: [hsts, nosniff]}
  - name: image-findings
    imageScan: {repository: app, digest: "#{IMAGE_DIGEST}", maxSeverity: HIGH}
limits: {failureLimit: 1, consecutiveErrorLimit: 2, inconclusive: pass}
`

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(goodYAML), map[string]string{"IMAGE_DIGEST": digest})
	if err != nil {
		t.Fatalf("Parse(good spec) error: %v", err)
	}
	if got, want := s.Bake.D(), 10*time.Minute; got != want {
		t.Errorf("Bake = %v; want %v", got, want)
	}
	if got := len(s.Checks); got != 6 {
		t.Fatalf("len(Checks) = %d; want 6", got)
	}
	kinds := make([]string, len(s.Checks))
	for i, c := range s.Checks {
		kinds[i] = c.Kind()
	}
	if diff := cmp.Diff([]string{"http", "alarms", "metric", "compare", "headers", "imageScan"}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if got := s.Checks[5].ImageScan.Digest; got != digest {
		t.Errorf("imageScan.digest = %q; want the interpolated %q", got, digest)
	}
	if got := float64(s.Checks[3].Compare.Tolerance); got != 0.2 {
		t.Errorf("compare.tolerance = %v; want 0.2", got)
	}
	if got := s.Checks[2].Metric.Metrics["errors"].Dimensions["LoadBalancer"]; got != "app/api/1" {
		t.Errorf("metric dimension = %q; want app/api/1", got)
	}
	if *s.Limits.ConsecutiveErrorLimit != 2 || s.Limits.Inconclusive != "pass" || s.Limits.FailureLimit != 1 {
		t.Errorf("Limits = %+v; want failureLimit 1, consecutiveErrorLimit 2, inconclusive pass", s.Limits)
	}
}

func TestParseJSONDefaults(t *testing.T) {
	s, err := Parse([]byte(`{"checks":[{"name":"h","http":{"url":"http://localhost:8080/"}}]}`), nil)
	if err != nil {
		t.Fatalf("Parse(minimal JSON) error: %v", err)
	}
	if s.Interval.D() != DefaultInterval || *s.Limits.ConsecutiveErrorLimit != 3 || s.Limits.Inconclusive != PolicyFail || !*s.Limits.FailFast {
		t.Errorf("defaults = interval %v, limits %+v; want 30s, 3, fail, failFast", s.Interval, s.Limits)
	}
	if !s.Checks[0].IsCritical() {
		t.Error("IsCritical() = false; want true by default")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		vars map[string]string
		want []string // every one of these paths must be reported
	}{
		{
			name: "every problem at once",
			in: `
bake: ten minutes
checks:
  - name: api
    http: {url: "ftp://x", timeout: 3 seconds, retries: -1}
    colour: blue
  - name: api
    htp: {url: "https://x"}
  - alarms: {}
limits: {inconclusive: maybe}
`,
			want: []string{"bake", "checks[0].http.url", "checks[0].http.timeout", "checks[0].http.retries", "checks[0].colour", "checks[1].htp", "checks[1].name", "checks[2].name", "checks[2].alarms", "limits.inconclusive"},
		},
		{"empty", "  ", nil, []string{""}},
		{"not yaml", "checks: [", nil, []string{""}},
		{"no checks", "bake: 1m", nil, []string{"checks"}},
		{"wrong types", `{"bake": 5, "checks": {"a": 1}}`, nil, []string{"bake", "checks"}},
		{"two kinds", `checks: [{name: a, http: {url: "https://x"}, headers: {url: "https://x"}}]`, nil, []string{"checks[0]"}},
		{"unresolved variable", `checks: [{name: a, http: {url: "https://#{HOST}/"}}]`, map[string]string{"ENV": "prod"}, []string{"checks[0].http.url"}},
		{"bad digest and severity", `checks: [{name: a, imageScan: {repository: r, digest: "latest", maxSeverity: SEVERE}}]`, nil, []string{"checks[0].imageScan.digest", "checks[0].imageScan.maxSeverity"}},
		{"metric without stat fields", `checks: [{name: m, metric: {expression: "a+b", period: 45s}}]`, nil, []string{"checks[0].metric.metrics", "checks[0].metric.period"}},
		{"interval longer than bake", `{bake: 10s, interval: 1m, checks: [{name: a, alarms: {prefix: p}}]}`, nil, []string{"interval"}},
		{"bake over 24h", `{bake: 25h, checks: [{name: a, alarms: {prefix: p}}]}`, nil, []string{"bake"}},
		{"credentials in url", `checks: [{name: a, http: {url: "https://u:p@x/"}}]`, nil, []string{"checks[0].http.url"}},
		{"bad percent", `checks: [{name: c, compare: {baseline: {namespace: n, name: m}, canary: {namespace: n, name: m}, tolerance: lots}}]`, nil, []string{"checks[0].compare.tolerance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), tt.vars)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse(%q) error = %v (%T); want spec.Errors", tt.in, err, err)
			}
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Path] = true
				if e.Msg == "" {
					t.Errorf("error at %q has no message", e.Path)
				}
			}
			for _, p := range tt.want {
				if !got[p] {
					t.Errorf("Parse(%q): no error at %q; got:\n%v", tt.in, p, err)
				}
			}
		})
	}
}

func TestParseMessagesNameTheFix(t *testing.T) {
	_, err := Parse([]byte(`checks: [{name: a, htpp: {url: "https://x"}}]`), nil)
	if err == nil {
		t.Fatal("Parse(typo kind) error = nil; want one")
	}
	for _, want := range []string{`checks[0].htpp`, `did you mean "http"?`, "kinds: http, alarms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(typo kind) error = %q; want it to contain %q", err, want)
		}
	}
	_, err = Parse([]byte(`checks: [{name: a, http: {url: "https://#{HOST}/"}}]`), nil)
	if err == nil || !strings.Contains(err.Error(), `define it under "variables"`) {
		t.Errorf("Parse(unresolved variable) error = %v; want it to say where to define the variable", err)
	}
}

func TestInterpolateEscape(t *testing.T) {
	s, err := Parse([]byte(`checks: [{name: a, http: {url: "https://x/", headers: {X-Tmpl: "##{literal} #{A}"}}}]`), map[string]string{"A": "1"})
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	if got, want := s.Checks[0].HTTP.Headers["X-Tmpl"], "#{literal} 1"; got != want {
		t.Errorf("header = %q; want %q", got, want)
	}
}

func TestParseTooLarge(t *testing.T) {
	big := []byte("checks: []\n# " + strings.Repeat("x", MaxSpecBytes))
	if _, err := Parse(big, nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Parse(%d bytes) error = %v; want a size-limit error", len(big), err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodYAML))
	f.Add([]byte(`{"checks":[{"name":"h","http":{"url":"http://localhost/"}}]}`))
	f.Add([]byte(`checks: [{name: a, metric: {expression: "#{X}", metrics: {a: {namespace: n, name: m}}}}]`))
	f.Add([]byte("bake: [1, {a: b}]\nchecks: ~"))
	f.Add([]byte("checks:\n  - name: a\n    name: b\n    http: {url: \"https://x/\", headers: {A: x, A: y}}"))
	f.Add([]byte(`{"checks":[{"name":"h","http":{"url":"https://x/"}}],"checks":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, map[string]string{"X": "1"})
		if err == nil && len(data) <= MaxSpecBytes && len(strict.DuplicateKeys(data)) > 0 {
			t.Fatalf("Parse(%q) accepted a spec with a duplicated key: %v", data, strict.DuplicateKeys(data))
		}
		if err != nil {
			if !errors.As(err, new(Errors)) {
				t.Fatalf("Parse error is %T; want spec.Errors", err)
			}
			return
		}
		if len(s.Validate()) != 0 {
			t.Fatalf("Parse accepted a spec that Validate rejects: %v", s.Validate())
		}
		for _, c := range s.Checks {
			if c.Kind() == "" {
				t.Fatalf("Parse accepted check %q with no single kind", c.Name)
			}
		}
	})
}

func TestParseErrorsInSpecOrderWithoutEchoes(t *testing.T) {
	_, err := Parse([]byte(`
limits: {inconclusive: maybe}
checks:
  - {name: a, http: {url: "https://x/"}}
  - {name: b, htpp: {url: "https://x/"}}
  - {name: c, alarms: {}}
  - {name: d, alarms: {}}
  - {name: e, alarms: {}}
  - {name: f, alarms: {}}
  - {name: g, alarms: {}}
  - {name: h, alarms: {}}
  - {name: i, alarms: {}}
  - {name: j, alarms: {}}
bake: nope
`), nil)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %v; want spec.Errors", err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
		if e.Path == "checks[1]" {
			t.Errorf("a typo'd kind is also reported as %q: %s", e.Path, e.Msg)
		}
	}
	want := []string{"bake", "checks[1].htpp", "checks[2].alarms", "checks[3].alarms", "checks[4].alarms", "checks[5].alarms", "checks[6].alarms", "checks[7].alarms", "checks[8].alarms", "checks[9].alarms", "limits.inconclusive"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("error paths (-want +got):\n%s", diff)
	}
}

// TestParseRefusesDuplicateKeys: strict means strict — a key set twice in
// one object is an error naming the key and its path, in YAML and JSON,
// and the message does not repeat either value.
func TestParseRefusesDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"yaml header set twice", `
checks:
  - name: api
    http:
      url: https://api.example.com/health
      headers:
        Authorization: Bearer first-secret-value
        Authorization: Bearer second-secret-value
`, []string{`checks[0].http.headers.Authorization: duplicate key "Authorization"`}},
		{"yaml top-level and check fields", `
bake: 10m
checks:
  - {name: a, name: b, http: {url: "https://x/"}}
bake: 1m
`, []string{`bake: duplicate key "bake"`, `checks[0].name: duplicate key "name"`}},
		{"json", `{"checks":[{"name":"a","http":{"url":"https://x/","headers":{"X-Api-Key":"k1-secret-value","X-Api-Key":"k2-secret-value"}}}],"interval":"10s","interval":"20s"}`,
			[]string{`checks[0].http.headers.X-Api-Key: duplicate key "X-Api-Key"`, `interval: duplicate key "interval"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), nil)
			if err == nil {
				t.Fatalf("Parse(%s) = nil; want duplicate-key errors", tt.name)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%s) = %v; want it to contain %q", tt.name, err, w)
				}
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("Parse(%s) = %v; echoes a header value", tt.name, err)
			}
		})
	}
}
