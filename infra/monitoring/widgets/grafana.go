package widgets

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cloudwatch"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DatasourceVariable is the dashboard variable that picks the CloudWatch
// data source, so the same JSON imports into any Grafana workspace
// (Amazon Managed Grafana included) whatever its data source's uid.
const DatasourceVariable = "datasource"

// Grafana renders d as a Grafana dashboard built with
// grafana-foundation-sdk: a time series panel (bars for View Bar), stat
// panel (singleValue) or gauge panel (gauge) per metric widget, a text
// panel per text widget, and one CloudWatch query per metric, on the data
// source the DatasourceVariable picks. Bands become thresholds drawn as
// lines; the period, statistic, dimensions and expressions are the
// CloudWatch dashboard's.
//
// It builds the classic dashboard JSON model (dashboard.Dashboard), which
// the SDK marks deprecated in favour of dashboardv2, the v2 schema of
// Grafana 12's dashboard API: the classic model is the one every Grafana
// version Amazon Managed Grafana runs imports from a JSON file.
//
//nolint:staticcheck // SA1019: see above
func (d Dashboard) Grafana() (dashboard.Dashboard, error) {
	if err := d.Validate(); err != nil {
		return dashboard.Dashboard{}, err
	}
	ds := common.DataSourceRef{Type: strPtr("cloudwatch"), Uid: strPtr("${" + DatasourceVariable + "}")}
	b := dashboard.NewDashboardBuilder(d.Title).
		Uid(d.UID).
		Description(d.Description).
		Tags([]string{"postdeploy", "cloudwatch"}).
		Time("now-7d", "now").
		Refresh("5m").
		Timezone(common.TimeZoneBrowser).
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVariable).Label("CloudWatch data source").Type("cloudwatch"))
	pos := layout(d.Widgets)
	for i, w := range d.Widgets {
		gp := dashboard.GridPos{X: uint32(pos[i][0]), Y: uint32(pos[i][1]), W: uint32(pos[i][2]), H: uint32(pos[i][3])} //nolint:gosec // G115: grid cells from layout, 0..24 wide and a few hundred tall
		if w.Markdown != "" {
			b.WithPanel(text.NewPanelBuilder().Title(w.Title).Mode(text.TextModeMarkdown).Content(w.Markdown).GridPos(gp))
			continue
		}
		period := strconv.Itoa(w.period())
		var targets []*cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQueryBuilder
		for j, m := range w.Metrics {
			targets = append(targets, cloudwatch.NewMetricsQueryOrLogsQueryOrAnnotationQueryBuilder().MetricsQuery(query(m, j, period, ds)))
		}
		switch w.View {
		case SingleValue:
			p := stat.NewPanelBuilder().Title(w.Title).Datasource(ds).GridPos(gp).Unit(w.Unit).GraphMode(common.BigValueGraphModeArea).
				ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
			if t := thresholds(w.Bands); t != nil {
				p.Thresholds(t)
			}
			for _, t := range targets {
				p.WithTarget(t)
			}
			b.WithPanel(p)
		case Gauge:
			p := gauge.NewPanelBuilder().Title(w.Title).Datasource(ds).GridPos(gp).Unit(w.Unit).Min(*w.Min).Max(*w.Max).ShowThresholdMarkers(true).
				ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
			if t := thresholds(w.Bands); t != nil {
				p.Thresholds(t)
			}
			for _, t := range targets {
				p.WithTarget(t)
			}
			b.WithPanel(p)
		default:
			p := timeseries.NewPanelBuilder().Title(w.Title).Datasource(ds).GridPos(gp).Unit(w.Unit)
			if w.View == Bar {
				p.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
			}
			if w.Stacked {
				p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
			}
			if w.Min != nil {
				p.Min(*w.Min)
			}
			if w.Max != nil {
				p.Max(*w.Max)
			}
			if t := thresholds(w.Bands); t != nil {
				p.Thresholds(t).ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))
			}
			for _, t := range targets {
				p.WithTarget(t)
			}
			b.WithPanel(p)
		}
	}
	out, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("build Grafana dashboard %q: %w", d.Title, err)
	}
	return out, nil
}

// query is one CloudWatch data-source query: metric search in builder
// mode for a metric, code mode for an expression (metric math, SEARCH),
// in the data source's default region.
func query(m Metric, i int, period string, ds common.DataSourceRef) *cloudwatch.MetricsQueryBuilder {
	id := m.ID
	if id == "" {
		id = fmt.Sprintf("q%d", i)
	}
	q := cloudwatch.NewMetricsQueryBuilder().
		Datasource(ds).
		RefId(string(rune('A'+i%26)) + strconv.Itoa(i/26)).
		Id(id).
		QueryMode(cloudwatch.QueryModeMetrics).
		MetricQueryType(cloudwatch.MetricQueryTypeSearch).
		Region("default").
		Period(period).
		Hide(m.Hidden)
	if m.Label != "" {
		q.Label(m.Label)
	}
	if m.Expression != "" {
		return q.MetricEditorMode(cloudwatch.MetricEditorModeCode).Expression(m.Expression)
	}
	dims := cloudwatch.Dimensions{}
	keys := make([]string, 0, len(m.Dimensions))
	for k := range m.Dimensions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m.Dimensions[k]
		dims[k] = cloudwatch.StringOrArrayOfString{String: &v}
	}
	return q.MetricEditorMode(cloudwatch.MetricEditorModeBuilder).
		Namespace(m.Namespace).MetricName(m.Name).Dimensions(dims).MatchExact(true).Statistic(m.Stat)
}

// thresholds turns bands into Grafana thresholds: green below the first
// band, each band's colour from its value up.
func thresholds(bands []Band) *dashboard.ThresholdsConfigBuilder {
	if len(bands) == 0 {
		return nil
	}
	sorted := append([]Band(nil), bands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Value < sorted[j].Value })
	steps := []dashboard.Threshold{{Color: "green"}}
	for _, b := range sorted {
		c := b.Color
		if c == "" {
			c = "red"
		}
		steps = append(steps, dashboard.Threshold{Value: F(b.Value), Color: c})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func strPtr(s string) *string { return &s }
