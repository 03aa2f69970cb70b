package widgets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// BusinessMetricsTitle is the "Business Metrics" dashboard.
const BusinessMetricsTitle = "Business Metrics"

// BusinessContextKey is the CDK context key of the Business Metrics
// configuration (cdk.json "context" or `cdk synth -c businessMetrics='{...}'`).
const BusinessContextKey = "businessMetrics"

// MetricRef names one of the team's own CloudWatch metrics.
type MetricRef struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Statistic is a CloudWatch statistic: Sum, Average, Minimum,
	// Maximum, SampleCount or a percentile/trimmed statistic (p90, tm99).
	Statistic string `json:"statistic"`
}

// Business is the Business Metrics configuration: the metric behind each
// widget the monitoring plan lists.
type Business struct {
	// DailySignUps: daily new user sign-ups, drawn as bars of one day.
	DailySignUps MetricRef `json:"dailySignUps"`
	// RevenuePerHour: revenue per hour, a line of one-hour points.
	RevenuePerHour MetricRef `json:"revenuePerHour"`
	// ActiveSubscriptions: the latest value, as a number.
	ActiveSubscriptions MetricRef `json:"activeSubscriptions"`
	// ChurnRate: customer churn rate, a gauge from 0 to ChurnRateMax
	// (default 100, for a percentage).
	ChurnRate    MetricRef `json:"churnRate"`
	ChurnRateMax float64   `json:"churnRateMax,omitempty"`
}

var statistic = regexp.MustCompile(`^(Sum|Average|Minimum|Maximum|SampleCount|IQM|(p|tm|wm|tc|ts)\d{1,2}(\.\d+)?)$`)

// ParseBusiness reads the Business Metrics configuration from a CDK
// context value: nil when absent; a JSON object, or a string holding one
// (from -c on the command line). Every problem is reported, with its path.
func ParseBusiness(v any) (*Business, error) {
	if v == nil {
		return nil, nil
	}
	var raw []byte
	switch t := v.(type) {
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
		raw = []byte(t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BusinessContextKey, err)
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b Business
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w (want {\"dailySignUps\": {\"namespace\": ..., \"name\": ..., \"dimensions\": {...}, \"statistic\": \"Sum\"}, \"revenuePerHour\": ..., \"activeSubscriptions\": ..., \"churnRate\": ...})", BusinessContextKey, err)
	}
	var errs []error
	for _, f := range []struct {
		path string
		m    MetricRef
	}{{"dailySignUps", b.DailySignUps}, {"revenuePerHour", b.RevenuePerHour}, {"activeSubscriptions", b.ActiveSubscriptions}, {"churnRate", b.ChurnRate}} {
		p := BusinessContextKey + "." + f.path
		if f.m.Namespace == "" {
			errs = append(errs, fmt.Errorf("%s.namespace: required, e.g. \"Shop\"", p))
		}
		if f.m.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required: the metric's name", p))
		}
		if !statistic.MatchString(f.m.Statistic) {
			errs = append(errs, fmt.Errorf("%s.statistic: %q: must be Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p90", p, f.m.Statistic))
		}
		for k, v := range f.m.Dimensions {
			if k == "" || v == "" {
				errs = append(errs, fmt.Errorf("%s.dimensions: %q=%q: names and values must not be empty", p, k, v))
			}
		}
	}
	if b.ChurnRateMax < 0 {
		errs = append(errs, fmt.Errorf("%s.churnRateMax: %v: must be above 0", BusinessContextKey, b.ChurnRateMax))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if b.ChurnRateMax == 0 {
		b.ChurnRateMax = 100
	}
	return &b, nil
}

func (m MetricRef) metric(id, label string) Metric {
	return Metric{ID: id, Namespace: m.Namespace, Name: m.Name, Dimensions: m.Dimensions, Stat: m.Statistic, Label: label}
}

// BusinessMetrics is the "Business Metrics" dashboard: daily sign-ups as
// bars, revenue per hour as a line, active subscriptions as a number and
// churn rate as a gauge.
func BusinessMetrics(b Business) Dashboard {
	return Dashboard{
		Title:       BusinessMetricsTitle,
		UID:         "postdeploy-business-metrics",
		Description: "The team's business metrics, as configured in the CDK context key " + BusinessContextKey + ".",
		Widgets: []Widget{
			{Title: "About", Markdown: "# " + BusinessMetricsTitle + "\nThe team's own metrics, named in the CDK context key `" + BusinessContextKey + "`."},
			{Title: "Daily new user sign-ups", View: Bar, Period: day, Unit: "short", Metrics: []Metric{b.DailySignUps.metric("signups", "sign-ups per day")}, Min: F(0)},
			{Title: "Revenue per hour", View: TimeSeries, Period: 3600, Unit: "short", Metrics: []Metric{b.RevenuePerHour.metric("revenue", "revenue per hour")}, Min: F(0)},
			{Title: "Active subscriptions", View: SingleValue, Period: 3600, Unit: "short", Metrics: []Metric{b.ActiveSubscriptions.metric("subs", "active subscriptions")}},
			{Title: "Customer churn rate", View: Gauge, Period: day, Unit: "percent", Metrics: []Metric{b.ChurnRate.metric("churn", "churn rate")}, Min: F(0), Max: F(b.ChurnRateMax)},
		},
	}
}
