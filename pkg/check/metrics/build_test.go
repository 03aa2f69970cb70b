package metrics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func TestExpressionCheck(t *testing.T) {
	f := &fakeCW{series: map[string][]fakeSeries{"m0": last(1, 2, 6)}}
	r := newSampler(t, f, ratio("value < 5")).Sample(context.Background(), at)[0]
	if r.Verdict != verdict.Failed {
		t.Errorf("Sample(ratio).Verdict = %v (%s); want Failed", r.Verdict, r.Observed)
	}
	if want := "100*errors/requests where errors = AWS/ApplicationELB HTTPCode_Target_5XX_Count{LoadBalancer=app/prod/1} Sum, requests = AWS/ApplicationELB RequestCount Sum"; r.Target != want {
		t.Errorf("Target = %q; want %q", r.Target, want)
	}
	in := f.inputs[0]
	var got []string
	for _, q := range in.MetricDataQueries {
		s := aws.ToString(q.Id) + " return=" + strconv.FormatBool(aws.ToBool(q.ReturnData))
		if q.Expression != nil {
			s += " expr=" + *q.Expression
		} else {
			s += fmt.Sprintf(" stat=%s period=%d", aws.ToString(q.MetricStat.Stat), aws.ToInt32(q.MetricStat.Period))
		}
		got = append(got, s)
	}
	want := []string{
		"m0_errors return=false stat=Sum period=60",
		"m0_requests return=false stat=Sum period=60",
		"m0 return=true expr=100*m0_errors/m0_requests",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", d)
	}
}

func TestMetricsFunctionAcrossChecks(t *testing.T) {
	sum := func(ids ...string) spec.Check {
		c := ratio("value >= 0")
		c.Metric.Metrics = map[string]spec.MetricStat{}
		for _, id := range ids {
			c.Metric.Metrics[id] = errorsMetric
		}
		c.Metric.Expression = "SUM(METRICS())"
		return c
	}
	tests := []struct {
		name   string
		checks []spec.Check
		want   string // checks[0]'s expression as sent
	}{
		{"own ids only: filter by prefix", []spec.Check{sum("a", "b"), sum("c")}, "SUM(METRICS('m0_'))"},
		{"another check's id contains the prefix: explicit list", []spec.Check{sum("a", "b"), sum("xm0_y")}, "SUM([m0_a, m0_b])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{}
			newSampler(t, f, tt.checks...).Sample(context.Background(), at)
			var got string
			for _, q := range f.inputs[0].MetricDataQueries {
				if aws.ToString(q.Id) == "m0" {
					got = aws.ToString(q.Expression)
				}
			}
			if got != tt.want {
				t.Errorf("expression sent for checks[0] = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	m := func(mod func(*spec.Check)) spec.Check {
		c := ratio("value < 5")
		mod(&c)
		return c
	}
	s := func(mod func(*spec.Check)) spec.Check {
		c := single("value < 5")
		mod(&c)
		return c
	}
	tests := []struct {
		name  string
		check spec.Check
		want  []string // paths
	}{
		{"valid expression", ratio("value < 5"), nil},
		{"valid single", single("avg < 5 && count >= 3"), nil},
		{"no expect", s(func(c *spec.Check) { c.Expect = "" }), []string{"checks[0].expect"}},
		{"expect does not compile", s(func(c *spec.Check) { c.Expect = "value <" }), []string{"checks[0].expect"}},
		{"expect unknown variable", s(func(c *spec.Check) { c.Expect = "p99 < 5" }), []string{"checks[0].expect"}},
		{"expect not a bool", s(func(c *spec.Check) { c.Expect = "value" }), []string{"checks[0].expect"}},
		{"bad stat", s(func(c *spec.Check) { c.Metric.Stat = "avg" }), []string{"checks[0].metric.stat"}},
		{"bad unit", s(func(c *spec.Check) { c.Metric.Unit = "ms" }), []string{"checks[0].metric.unit"}},
		{"period not whole minutes", s(func(c *spec.Check) { c.Metric.Period = spec.Duration(90 * time.Second) }), []string{"checks[0].metric.period"}},
		{"window shorter than period", s(func(c *spec.Check) { c.Metric.Period = spec.Duration(10 * time.Minute) }), []string{"checks[0].metric.window"}},
		{"window not whole periods", s(func(c *spec.Check) {
			c.Metric.Period, c.Metric.Window = spec.Duration(2*time.Minute), spec.Duration(5*time.Minute)
		}), []string{"checks[0].metric.window"}},
		{"window too long", s(func(c *spec.Check) { c.Metric.Window = spec.Duration(400 * time.Hour) }), []string{"checks[0].metric.window"}},
		{"bad noData", s(func(c *spec.Check) { c.NoData = "ignore" }), []string{"checks[0].noData"}},
		{"negative minSamples", s(func(c *spec.Check) { c.MinSamples = -1 }), []string{"checks[0].minSamples"}},
		{"both kinds of metric", s(func(c *spec.Check) { c.Metric.Expression = "a" }), []string{"checks[0].metric"}},
		{"neither", s(func(c *spec.Check) { c.Metric.MetricStat = spec.MetricStat{} }), []string{"checks[0].metric"}},
		{"no namespace", s(func(c *spec.Check) { c.Metric.Namespace = "" }), []string{"checks[0].metric.namespace"}},
		{"bad metric id", m(func(c *spec.Check) { c.Metric.Metrics["Errors"] = errorsMetric }), []string{"checks[0].metric.metrics.Errors"}},
		{"unknown id in expression", m(func(c *spec.Check) { c.Metric.Expression = "errors/reqs" }), []string{"checks[0].metric.expression"}},
		{"no metrics", m(func(c *spec.Check) { c.Metric.Metrics = nil }), []string{"checks[0].metric.metrics", "checks[0].metric.expression"}},
		{"bad stat in metrics", m(func(c *spec.Check) {
			c.Metric.Metrics["errors"] = spec.MetricStat{Namespace: "N", Name: "n", Stat: "p999"}
		}), []string{"checks[0].metric.metrics.errors.stat"}},
		{"metrics insights", m(func(c *spec.Check) { c.Metric.Expression = "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")" }), []string{"checks[0].metric.expression"}},
		{"expression too long", m(func(c *spec.Check) { c.Metric.Expression = strings.Repeat("errors+", 300) + "errors" }), []string{"checks[0].metric.expression"}},
		{"every problem at once", m(func(c *spec.Check) {
			c.Expect, c.NoData = "", "x"
			c.Metric.Period = spec.Duration(30 * time.Second)
			c.Metric.Metrics["requests"] = spec.MetricStat{Namespace: "N", Name: "n", Unit: "furlongs"}
		}), []string{"checks[0].noData", "checks[0].metric.period", "checks[0].expect", "checks[0].metric.metrics.requests.unit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := New(Options{API: &fakeCW{}}, itemsOf(tt.check))
			var got []string
			for _, e := range errs {
				got = append(got, e.Path)
				if e.Msg == "" {
					t.Errorf("error at %s has no message", e.Path)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("New(%s) error paths mismatch (-want +got):\n%s\nerrors: %v", tt.name, d, errs)
			}
			if (s == nil) != (len(tt.want) > 0) {
				t.Errorf("New(%s) sampler = %v with %d errors; want a sampler exactly when there are no errors", tt.name, s, len(errs))
			}
		})
	}
}

func TestTooManyMetricsForOneCheck(t *testing.T) {
	c := ratio("value > 0")
	c.Metric.Metrics = map[string]spec.MetricStat{}
	for i := range 500 {
		c.Metric.Metrics[fmt.Sprintf("q%d", i)] = errorsMetric
	}
	c.Metric.Expression = "SUM(METRICS())"
	_, errs := New(Options{API: &fakeCW{}}, itemsOf(c))
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	if !slices.Contains(paths, "checks[0].metric.metrics") {
		t.Errorf("New(500 metrics and an expression) errors = %v; want one at checks[0].metric.metrics", errs)
	}
}

func TestNewWithoutClient(t *testing.T) {
	_, errs := New(Options{}, itemsOf(single("value < 1")))
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "Options.API is nil") {
		t.Errorf("New(no API) errors = %v; want one naming the missing client", errs)
	}
}
