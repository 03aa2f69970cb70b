package widgets

import (
	"fmt"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/delivery"
)

// DeliveryPerformanceTitle is the "Delivery Performance" dashboard.
const DeliveryPerformanceTitle = "Delivery Performance"

// Periods.
const (
	day  = 86400
	week = 7 * day
)

// The DORA performance bands, as the 2021 Accelerate State of DevOps
// report (DORA, Google Cloud) gives them in its table of software
// delivery performance clusters:
//
//	                  Elite                 High                      Medium                      Low
//	deploy frequency  on demand (multiple   once per week to once     once per month to once      fewer than once per
//	                  deploys per day)      per month                 every six months            six months
//	lead time         less than one hour    one day to one week       one month to six months     more than six months
//	time to restore   less than one hour    less than one day         one day to one week         more than six months
//	change failure    0–15%                 16–30%                    16–30%                      16–30%
//
// Each band's line is drawn at the edge of its cluster, in the unit of
// its widget (deployments per week, hours, percent).
var (
	FrequencyBands = []Band{
		{Label: "Elite: on demand, daily or more (≥ 7/week)", Value: 7, Color: "green"},
		{Label: "High: at least weekly (≥ 1/week)", Value: 1, Color: "blue"},
		{Label: "Medium: at least monthly (≥ 0.23/week)", Value: 12.0 / 52, Color: "yellow"},
		{Label: "Low: less than every six months (< 0.038/week)", Value: 1.0 / 26, Color: "red"},
	}
	LeadTimeBands = []Band{
		{Label: "Elite: < 1 hour", Value: 1, Color: "blue"},
		{Label: "High: ≤ 1 week (168 h)", Value: 168, Color: "yellow"},
		{Label: "Medium: ≤ 6 months (4380 h); Low above", Value: 4380, Color: "red"},
	}
	RestoreBands = []Band{
		{Label: "Elite: < 1 hour", Value: 1, Color: "blue"},
		{Label: "High: < 1 day (24 h)", Value: 24, Color: "yellow"},
		{Label: "Medium: ≤ 1 week (168 h); Low: months", Value: 168, Color: "red"},
	}
	ChangeFailureBands = []Band{
		{Label: "Elite: ≤ 15%", Value: 15, Color: "yellow"},
		{Label: "High, medium, low: 16–30%", Value: 30, Color: "red"},
	}
)

// DeliveryPerformance is the "Delivery Performance" dashboard over the
// metrics pkg/delivery emits in namespace: the four keys per service
// (pipeline) with the DORA bands, and the build and pipeline success
// rates. With pipelines named, each key has one series per pipeline
// (change failure rate as 100 × ChangeFailures / Deployments of each);
// without, SEARCH expressions find every pipeline and the change failure
// rate is over all of them.
func DeliveryPerformance(namespace string, pipelines []string) Dashboard {
	d := Dashboard{
		Title:       DeliveryPerformanceTitle,
		UID:         "postdeploy-delivery-performance",
		Description: "The four DORA keys per service and the build and pipeline success rates, from postdeploy respond's delivery metrics.",
	}
	scope := "every pipeline with a production stage"
	if len(pipelines) > 0 {
		scope = "pipelines " + strings.Join(pipelines, ", ")
	}
	d.Widgets = append(d.Widgets, Widget{Title: "About", Markdown: fmt.Sprintf("# %s\nThe four DORA keys of %s, from namespace **%s** (postdeploy respond). Band lines: the 2021 Accelerate State of DevOps report's elite / high / medium / low clusters. Definitions: README, \"Delivery performance (DORA)\".", DeliveryPerformanceTitle, scope, namespace)})

	// perPipeline is one series of metric per pipeline (a SEARCH for
	// every pipeline when none is named), in hours when hours is set.
	perPipeline := func(metric, stat string, period int, hours bool) []Metric {
		if len(pipelines) == 0 {
			e := fmt.Sprintf("SEARCH('{%s,%s} MetricName=\"%s\"', '%s', %d)", namespace, delivery.DimPipeline, metric, stat, period)
			if hours {
				e += "/3600"
			}
			return []Metric{{ID: "s0", Expression: e}}
		}
		var ms []Metric
		for i, p := range pipelines {
			m := Metric{ID: fmt.Sprintf("m%d", i), Namespace: namespace, Name: metric, Dimensions: map[string]string{delivery.DimPipeline: p}, Stat: stat, Label: p}
			if hours {
				m.Hidden = true
				ms = append(ms, m, Metric{ID: fmt.Sprintf("h%d", i), Expression: fmt.Sprintf("m%d/3600", i), Label: p})
				continue
			}
			ms = append(ms, m)
		}
		return ms
	}
	d.Widgets = append(d.Widgets,
		Widget{Title: "Deployment frequency (production deployments per week)", View: Bar, Period: week, Unit: "short", AxisText: "deployments / week",
			Metrics: perPipeline(delivery.MetricDeployments, "Sum", week, false), Bands: FrequencyBands, Min: F(0)},
		Widget{Title: "Lead time for changes (median, hours)", View: TimeSeries, Period: day, Unit: "h", AxisText: "hours",
			Metrics: perPipeline(delivery.MetricLeadTime, "p50", day, true), Bands: LeadTimeBands, Min: F(0)},
		Widget{Title: "Change failure rate (%)", View: TimeSeries, Period: week, Unit: "percent", AxisText: "% of deployments",
			Metrics: changeFailureRate(namespace, pipelines), Bands: ChangeFailureBands, Min: F(0), Max: F(100)},
		Widget{Title: "Time to restore service (median, hours)", View: TimeSeries, Period: day, Unit: "h", AxisText: "hours",
			Metrics: perPipeline(delivery.MetricTimeToRestore, "p50", day, true), Bands: RestoreBands, Min: F(0)},
		Widget{Title: "Build success rate, all projects (%)", View: TimeSeries, Period: day, Unit: "percent", Min: F(0), Max: F(100),
			Metrics: successRate(namespace, delivery.MetricBuilds, delivery.DimProject, day)},
		Widget{Title: "Pipeline success rate, all pipelines (%)", View: TimeSeries, Period: day, Unit: "percent", Min: F(0), Max: F(100),
			Metrics: successRate(namespace, delivery.MetricPipelineExecutions, delivery.DimPipeline, day)},
		Widget{Title: "Builds by project and outcome", View: Bar, Period: day, Unit: "short", Stacked: true,
			Metrics: []Metric{{ID: "s0", Expression: fmt.Sprintf("SEARCH('{%s,%s,%s} MetricName=\"%s\"', 'Sum', %d)", namespace, delivery.DimOutcome, delivery.DimProject, delivery.MetricBuilds, day)}}},
		Widget{Title: "Events left out of the delivery metrics, by reason", View: Bar, Period: day, Unit: "short", Stacked: true,
			Metrics: []Metric{{ID: "s0", Expression: fmt.Sprintf("SEARCH('{%s,%s} MetricName=\"%s\"', 'Sum', %d)", namespace, delivery.DimReason, delivery.MetricEventsIgnored, day)}}},
	)
	return d
}

func changeFailureRate(namespace string, pipelines []string) []Metric {
	if len(pipelines) == 0 {
		s := func(metric string) string {
			return fmt.Sprintf("SUM(SEARCH('{%s,%s} MetricName=\"%s\"', 'Sum', %d))", namespace, delivery.DimPipeline, metric, week)
		}
		return []Metric{{ID: "cfr", Expression: fmt.Sprintf("100*FILL(%s,0)/%s", s(delivery.MetricChangeFailures), s(delivery.MetricDeployments)), Label: "all pipelines"}}
	}
	var ms []Metric
	for i, p := range pipelines {
		dims := map[string]string{delivery.DimPipeline: p}
		ms = append(ms,
			Metric{ID: fmt.Sprintf("d%d", i), Namespace: namespace, Name: delivery.MetricDeployments, Dimensions: dims, Stat: "Sum", Hidden: true},
			Metric{ID: fmt.Sprintf("f%d", i), Namespace: namespace, Name: delivery.MetricChangeFailures, Dimensions: dims, Stat: "Sum", Hidden: true},
			Metric{ID: fmt.Sprintf("cfr%d", i), Expression: fmt.Sprintf("100*FILL(f%d,0)/d%d", i, i), Label: p},
		)
	}
	return ms
}

// successRate is 100 × Succeeded / (Succeeded + Failed) of metric over
// every value of dim.
func successRate(namespace, metric, dim string, period int) []Metric {
	s := func(outcome string) string {
		q := fmt.Sprintf("{%s,%s,%s} MetricName=\"%s\"", namespace, delivery.DimOutcome, dim, metric)
		if outcome != "" {
			q += fmt.Sprintf(" %s=\"%s\"", delivery.DimOutcome, outcome)
		}
		return fmt.Sprintf("SUM(SEARCH('%s', 'Sum', %d))", q, period)
	}
	return []Metric{{ID: "rate", Expression: fmt.Sprintf("100*FILL(%s,0)/%s", s(string(delivery.Succeeded)), s("")), Label: "success rate"}}
}
