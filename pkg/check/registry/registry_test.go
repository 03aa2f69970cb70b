package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

type noCloudWatch struct{}

var _ CloudWatch = noCloudWatch{}

func (noCloudWatch) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return nil, errors.New("not in this test")
}

func (noCloudWatch) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, errors.New("not in this test")
}

func TestEverySpecKindIsRegistered(t *testing.T) {
	for _, k := range spec.Kinds {
		if _, ok := factories[k]; !ok {
			t.Errorf("spec kind %q has no factory in the registry (registered: %v)", k, Available())
		}
	}
	for k := range factories {
		found := false
		for _, sk := range spec.Kinds {
			found = found || sk == k
		}
		if !found {
			t.Errorf("registry has %q, which the spec cannot express", k)
		}
	}
}

func TestBuildGroupsByKindInSpecOrder(t *testing.T) {
	s, err := spec.Parse([]byte(`
checks:
  - {name: a, http: {url: "https://a.example.com/"}}
  - {name: b, alarms: {prefix: p-}}
  - {name: c, http: {url: "https://c.example.com/"}, expect: "status == 200"}
  - {name: d, metric: {namespace: NS, name: M, stat: Sum}, expect: "value < 1"}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	suite, err := Build(s, Clients{CloudWatch: noCloudWatch{}})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	var got []string
	for _, g := range suite.Groups {
		var idx []string
		for _, it := range g.Items {
			idx = append(idx, it.Check.Name)
		}
		got = append(got, g.Kind+":"+strings.Join(idx, ","))
	}
	if want := "http:a,c alarms:b metric:d"; strings.Join(got, " ") != want {
		t.Errorf("groups = %q; want %q", strings.Join(got, " "), want)
	}
	if suite.Count != 4 {
		t.Errorf("Count = %d; want 4", suite.Count)
	}
}

func TestBuildReportsEveryKindsProblems(t *testing.T) {
	s, err := spec.Parse([]byte(`
checks:
  - {name: a, http: {url: "https://a.example.com/"}, expect: "status ==="}
  - {name: b, metric: {namespace: NS, name: M}, expect: "value <"}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(s, Clients{CloudWatch: noCloudWatch{}})
	var errs spec.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Build error = %v (%T); want spec.Errors", err, err)
	}
	for _, p := range []string{"checks[0].expect", "checks[1].expect"} {
		found := false
		for _, e := range errs {
			found = found || e.Path == p
		}
		if !found {
			t.Errorf("Build: no problem reported at %s; got %v", p, err)
		}
	}
}

func TestLocalProbes(t *testing.T) {
	tests := []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"loopback", true, false},
		{"Loopback", false, true},
		{"true", false, true},
		{"1", false, true},
	}
	for _, tt := range tests {
		got, err := LocalProbes(func(k string) string {
			if k == config.EnvLocalProbes {
				return tt.value
			}
			return ""
		})
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("LocalProbes(%s=%q) = %t, %v; want %t, error %t", config.EnvLocalProbes, tt.value, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), config.EnvLocalProbes) {
			t.Errorf("LocalProbes(%q) error %q; want it to name %s", tt.value, err, config.EnvLocalProbes)
		}
	}
}

// TestAllowLoopbackReachesTheProbes: the switch on Clients is what opens
// loopback to http and headers checks; without it they are refused.
func TestAllowLoopbackReachesTheProbes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}))
	defer srv.Close()
	s, err := spec.Parse([]byte(`checks:
  - name: up
    http: {url: "`+srv.URL+`"}
  - name: hdr
    headers: {url: "`+srv.URL+`", require: [nosniff]}
`), nil)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	for _, allow := range []bool{false, true} {
		suite, err := Build(s, Clients{CloudWatch: noCloudWatch{}, AllowLoopback: allow})
		if err != nil {
			t.Fatalf("Build = %v", err)
		}
		for i, r := range suite.Run(t.Context(), check.Sample{}) {
			refused := strings.Contains(r.Observed, "refused to connect to 127.0.0.1")
			if refused == allow || (allow && r.Verdict != verdict.Succeeded) {
				t.Errorf("AllowLoopback %t: check %d = %v %q; want refused %t", allow, i, r.Verdict, r.Observed, !allow)
			}
		}
	}
}

// TestSuiteRedactsAcrossChecks: one check's secret never shows in another
// check's evidence, even of another kind — here a server reflects the
// Authorization an http check sends in the X-Powered-By a headers check
// quotes — nor in Build's errors.
func TestSuiteRedactsAcrossChecks(t *testing.T) {
	const token = "tok-CrossCheck-4242"
	var last atomic.Value
	last.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			last.Store(a)
			return
		}
		w.Header().Set("X-Powered-By", "debug; last authorization: "+last.Load().(string))
	}))
	defer srv.Close()
	s, err := spec.Parse([]byte(`checks:
  - name: api
    http: {url: "`+srv.URL+`/api", headers: {Authorization: "Bearer `+token+`"}}
  - name: debug
    headers: {url: "`+srv.URL+`/debug", require: [powered-by]}
`), nil)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	suite, err := Build(s, Clients{CloudWatch: noCloudWatch{}, AllowLoopback: true})
	if err != nil {
		t.Fatalf("Build = %v", err)
	}
	_ = suite.Run(t.Context(), check.Sample{}) // the api check sends the token
	rs := suite.Run(t.Context(), check.Sample{})
	if !strings.Contains(rs[1].Observed, "last authorization: [redacted] discloses the stack") {
		t.Errorf("debug check observed %q; want the reflected token redacted", rs[1].Observed)
	}
	for i, r := range rs {
		if strings.Contains(r.Observed+r.Target+r.Expected, token) {
			t.Errorf("result %d = %+v; holds the other check's token", i, r)
		}
	}

	// A kind's build error quoting a value the spec sets is redacted too.
	bad, err := spec.Parse([]byte(`checks:
  - name: api
    http: {url: "https://x/", method: "tok-Method-5151", headers: {X-Api-Key: "tok-Method-5151"}}
`), nil)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if _, err := Build(bad, Clients{CloudWatch: noCloudWatch{}}); err == nil || strings.Contains(err.Error(), "tok-Method-5151") || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("Build(method equal to a header value) = %v; want the unknown-method error without the value", err)
	}
}
