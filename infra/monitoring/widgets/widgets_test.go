package widgets

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cloudwatch"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/postdeploy/postdeploy/pkg/delivery"
)

// body renders d for CloudWatch and decodes it back.
func body(t *testing.T, d Dashboard) map[string]any {
	t.Helper()
	s, err := d.CloudWatchBody("us-east-1")
	if err != nil {
		t.Fatalf("CloudWatchBody(%q) = %v", d.Title, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("CloudWatchBody(%q) is not JSON: %v", d.Title, err)
	}
	return out
}

var searchSchema = regexp.MustCompile(`\{([^,}]+)[,}][^']*MetricName="([^"]+)"`)

// bodyMetrics lists namespace/name of every metric a CloudWatch dashboard
// body reads: metric arrays and the SEARCH expressions' schemas.
func bodyMetrics(t *testing.T, b map[string]any) []string {
	t.Helper()
	var out []string
	for _, w := range b["widgets"].([]any) {
		w := w.(map[string]any)
		if w["type"] != "metric" {
			continue
		}
		for _, m := range w["properties"].(map[string]any)["metrics"].([]any) {
			row := m.([]any)
			if opts, ok := row[0].(map[string]any); ok {
				for _, g := range searchSchema.FindAllStringSubmatch(opts["expression"].(string), -1) {
					out = append(out, g[1]+"/"+g[2])
				}
				continue
			}
			out = append(out, row[0].(string)+"/"+row[1].(string))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// The Delivery Performance dashboard reads only metrics pkg/delivery
// emits, in the suite's namespace.
func TestDeliveryDashboardReadsOnlyEmittedMetrics(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pipelines []string
	}{{"every pipeline (SEARCH)", nil}, {"named pipelines", []string{"api", "web"}}} {
		t.Run(tt.name, func(t *testing.T) {
			got := bodyMetrics(t, body(t, DeliveryPerformance("Shop/Delivery", tt.pipelines)))
			if len(got) < 6 {
				t.Fatalf("Delivery Performance reads %v; want the deployments, lead time, change failures, restore, builds and pipeline metrics", got)
			}
			for _, m := range got {
				ns, name, _ := strings.Cut(m, "/Delivery/")
				if ns != "Shop" || !slices.Contains(delivery.Metrics, name) {
					t.Errorf("Delivery Performance reads %s; want only Shop/Delivery/<one of %v>", m, delivery.Metrics)
				}
			}
		})
	}
}

// The DORA bands are drawn as horizontal annotations at the cluster
// edges of the 2021 Accelerate State of DevOps report.
func TestDeliveryDashboardDrawsDORABands(t *testing.T) {
	b := body(t, DeliveryPerformance("Postdeploy", nil))
	want := map[string][]float64{
		"Deployment frequency (production deployments per week)": {7, 1, 12.0 / 52, 1.0 / 26},
		"Lead time for changes (median, hours)":                  {1, 168, 4380},
		"Change failure rate (%)":                                {15, 30},
		"Time to restore service (median, hours)":                {1, 24, 168},
	}
	got := map[string][]float64{}
	for _, w := range b["widgets"].([]any) {
		p, _ := w.(map[string]any)["properties"].(map[string]any)
		ann, ok := p["annotations"].(map[string]any)
		if !ok {
			continue
		}
		for _, h := range ann["horizontal"].([]any) {
			got[p["title"].(string)] = append(got[p["title"].(string)], h.(map[string]any)["value"].(float64))
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("band annotations (-want +got):\n%s", d)
	}
}

var testBusiness = Business{
	DailySignUps:        MetricRef{Namespace: "Shop", Name: "SignUps", Statistic: "Sum"},
	RevenuePerHour:      MetricRef{Namespace: "Shop", Name: "Revenue", Dimensions: map[string]string{"Currency": "EUR"}, Statistic: "Sum"},
	ActiveSubscriptions: MetricRef{Namespace: "Shop", Name: "ActiveSubscriptions", Statistic: "Maximum"},
	ChurnRate:           MetricRef{Namespace: "Shop/Billing", Name: "ChurnRate", Statistic: "Average"},
	ChurnRateMax:        100,
}

// "Dashboard Body Structure and Syntax": view is timeSeries, bar,
// singleValue or gauge; a gauge needs yAxis.left min and max.
func TestBusinessDashboardWidgets(t *testing.T) {
	b := body(t, BusinessMetrics(testBusiness))
	type got struct {
		View, Metric string
		Min, Max     any
	}
	var gs []got
	for _, w := range b["widgets"].([]any) {
		w := w.(map[string]any)
		if w["type"] != "metric" {
			continue
		}
		p := w["properties"].(map[string]any)
		row := p["metrics"].([]any)[0].([]any)
		g := got{View: p["view"].(string), Metric: row[0].(string) + "/" + row[1].(string)}
		if y, ok := p["yAxis"].(map[string]any); ok {
			g.Min, g.Max = y["left"].(map[string]any)["min"], y["left"].(map[string]any)["max"]
		}
		gs = append(gs, g)
	}
	want := []got{
		{View: "bar", Metric: "Shop/SignUps", Min: 0.0},
		{View: "timeSeries", Metric: "Shop/Revenue", Min: 0.0},
		{View: "singleValue", Metric: "Shop/ActiveSubscriptions"},
		{View: "gauge", Metric: "Shop/Billing/ChurnRate", Min: 0.0, Max: 100.0},
	}
	if d := cmp.Diff(want, gs); d != "" {
		t.Errorf("Business Metrics widgets (-want +got):\n%s", d)
	}
	// Only what the team configured.
	if d := cmp.Diff([]string{"Shop/ActiveSubscriptions", "Shop/Billing/ChurnRate", "Shop/Revenue", "Shop/SignUps"}, bodyMetrics(t, b)); d != "" {
		t.Errorf("Business Metrics reads (-want +got):\n%s", d)
	}
}

func TestParseBusiness(t *testing.T) {
	full := `{"dailySignUps":{"namespace":"Shop","name":"SignUps","statistic":"Sum"},
	  "revenuePerHour":{"namespace":"Shop","name":"Revenue","dimensions":{"Currency":"EUR"},"statistic":"Sum"},
	  "activeSubscriptions":{"namespace":"Shop","name":"ActiveSubscriptions","statistic":"Maximum"},
	  "churnRate":{"namespace":"Shop/Billing","name":"ChurnRate","statistic":"Average"}}`
	var asMap map[string]any
	if err := json.Unmarshal([]byte(full), &asMap); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      any
		want    *Business
		wantErr []string
	}{
		{name: "absent", in: nil},
		{name: "empty string", in: " "},
		{name: "JSON string (cdk -c)", in: full, want: &testBusiness},
		{name: "object (cdk.json)", in: asMap, want: &testBusiness},
		{name: "unknown key", in: `{"signups":{}}`, wantErr: []string{`unknown field "signups"`}},
		{name: "every problem named", in: `{"dailySignUps":{"name":"SignUps","statistic":"Total"},"churnRateMax":-1}`, wantErr: []string{
			"businessMetrics.dailySignUps.namespace: required",
			`businessMetrics.dailySignUps.statistic: "Total"`,
			"businessMetrics.revenuePerHour.name: required",
			"businessMetrics.churnRate.statistic",
			"businessMetrics.churnRateMax: -1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBusiness(tt.in)
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("ParseBusiness(%v) error = %v; want it to contain %q", tt.in, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBusiness(%v) = %v; want nil error", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseBusiness(%v) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestGaugeWithoutBoundsRefused(t *testing.T) {
	d := Dashboard{Title: "x", UID: "x", Widgets: []Widget{{Title: "g", View: Gauge, Metrics: []Metric{{Namespace: "N", Name: "M", Stat: "Sum"}}}}}
	if _, err := d.CloudWatchBody("us-east-1"); err == nil || !strings.Contains(err.Error(), "gauge needs Min and Max") {
		t.Errorf("CloudWatchBody(gauge without bounds) = %v; want an error naming Min and Max", err)
	}
}

// Each Grafana dashboard decodes, strictly, into grafana-foundation-sdk's
// dashboard model, with one panel per widget and only CloudWatch queries
// on the data-source variable.
func TestGrafanaDashboardsDecodeIntoTheSDKModel(t *testing.T) {
	plugins.RegisterDefaultPlugins() // panel and data-query variants, for the strict decoder
	for file, d := range GrafanaDashboards("Postdeploy") {
		t.Run(file, func(t *testing.T) {
			g, err := d.Grafana()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			back, err := decodeStrict(raw)
			if err != nil {
				t.Fatalf("UnmarshalJSONStrict(%s) = %v", file, err)
			}
			if back.Title == nil || *back.Title != d.Title || len(back.Panels) != len(d.Widgets) {
				t.Fatalf("decoded %q with %d panels; want %q with %d", *back.Title, len(back.Panels), d.Title, len(d.Widgets))
			}
			for i, p := range back.Panels {
				if p.Panel == nil {
					t.Fatalf("panel %d is not a panel", i)
				}
				for _, q := range p.Panel.Targets {
					mq := metricsQuery(q)
					if mq == nil {
						t.Fatalf("panel %q: target %T; want a CloudWatch metrics query", *p.Panel.Title, q)
					}
					if ds := mq.Datasource; ds == nil || *ds.Type != "cloudwatch" || *ds.Uid != "${datasource}" {
						t.Errorf("panel %q: data source %+v; want cloudwatch ${datasource}", *p.Panel.Title, ds)
					}
				}
			}
		})
	}
}

// decodeStrict checks a Grafana dashboard with the SDK's strict decoder,
// which reports an unknown or mistyped field, and returns it decoded by
// the SDK's ordinary decoder. (v0.0.22's strict decoder returns an empty
// cog.BuildErrors inside a non-nil error when all is well, and so drops
// every panel it decoded without error: the strict pass only validates.)
// The classic model, as Grafana() builds (see there).
//
//nolint:staticcheck // SA1019: the classic dashboard model, on purpose
func decodeStrict(raw []byte) (dashboard.Dashboard, error) {
	var strict dashboard.Dashboard
	err := strict.UnmarshalJSONStrict(raw)
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		err = nil
	}
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return dashboard.Dashboard{}, err
	}
	return d, nil
}

// metricsQuery is the CloudWatch metrics query of a panel target, as
// built (a value) or decoded (a pointer); nil for anything else.
func metricsQuery(q any) *cloudwatch.MetricsQuery {
	switch v := q.(type) {
	case cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQuery:
		return v.MetricsQuery
	case *cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQuery:
		return v.MetricsQuery
	}
	return nil
}

func TestDecodeStrictRefusesUnknownFields(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	if _, err := decodeStrict([]byte(`{"title":"x","panels":[{"type":"timeseries","title":"p","colour":"red"}]}`)); err == nil {
		t.Error("decodeStrict(panel with an unknown field) = nil; want an error")
	}
}

// One model, two renderings: the Grafana queries of a dashboard are the
// CloudWatch body's metrics and expressions.
func TestGrafanaAndCloudWatchShowTheSameMetrics(t *testing.T) {
	for _, d := range []Dashboard{DeliveryPerformance("Postdeploy", []string{"api"}), InfrastructureOverview(), ApplicationDeepDive("Postdeploy"), BusinessMetrics(testBusiness)} {
		t.Run(d.Title, func(t *testing.T) {
			var cw []string
			for _, w := range body(t, d)["widgets"].([]any) {
				p, _ := w.(map[string]any)["properties"].(map[string]any)
				ms, _ := p["metrics"].([]any)
				for _, m := range ms {
					row := m.([]any)
					opts := row[len(row)-1].(map[string]any)
					if e, ok := opts["expression"]; ok {
						cw = append(cw, p["title"].(string)+": "+e.(string))
						continue
					}
					cw = append(cw, p["title"].(string)+": "+row[0].(string)+"/"+row[1].(string)+" "+opts["stat"].(string))
				}
			}
			g, err := d.Grafana()
			if err != nil {
				t.Fatal(err)
			}
			var gr []string
			for _, p := range g.Panels {
				for _, q := range p.Panel.Targets {
					mq := metricsQuery(q)
					if mq.Expression != nil && *mq.Expression != "" {
						gr = append(gr, *p.Panel.Title+": "+*mq.Expression)
						continue
					}
					gr = append(gr, *p.Panel.Title+": "+mq.Namespace+"/"+*mq.MetricName+" "+*mq.Statistic)
				}
			}
			if d := cmp.Diff(cw, gr); d != "" {
				t.Errorf("CloudWatch vs Grafana series (-cloudwatch +grafana):\n%s", d)
			}
		})
	}
}

// The README's Business Metrics example is a configuration ParseBusiness
// accepts, naming every widget.
func TestReadmeBusinessMetricsExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Dashboards\n")
	if !ok {
		t.Fatal("README has no \"## Dashboards\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```json\n")
	if !ok {
		t.Fatal("README's Dashboards section has no json example")
	}
	block, _, _ = strings.Cut(block, "```")
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("README Business Metrics example is not JSON: %v", err)
	}
	got, err := ParseBusiness(doc.Context[BusinessContextKey])
	if err != nil || got == nil {
		t.Fatalf("ParseBusiness(README example) = %v, %v; want a configuration", got, err)
	}
}

// ParseBusiness reads CDK context, which anyone editing cdk.json or the
// command line controls: it never panics, and what it accepts renders.
func FuzzParseBusiness(f *testing.F) {
	f.Add(`{"dailySignUps":{"namespace":"Shop","name":"SignUps","statistic":"Sum"},"revenuePerHour":{"namespace":"Shop","name":"Revenue","statistic":"Sum"},"activeSubscriptions":{"namespace":"Shop","name":"Subs","statistic":"Maximum"},"churnRate":{"namespace":"Shop","name":"Churn","statistic":"p90"}}`)
	f.Add(`{"churnRateMax":-1}`)
	f.Add(`[]`)
	f.Add(`{"dailySignUps":{"dimensions":{"":""}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		b, err := ParseBusiness(in)
		if err != nil || b == nil {
			return
		}
		if _, err := BusinessMetrics(*b).CloudWatchBody("us-east-1"); err != nil {
			t.Errorf("ParseBusiness(%q) accepted a configuration that does not render: %v", in, err)
		}
	})
}
