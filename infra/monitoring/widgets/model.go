package widgets

import (
	"fmt"
	"regexp"
	"sort"
)

// View is how a metric widget draws: the CloudWatch metric widget's
// "view" property (timeSeries, bar, singleValue, gauge).
type View string

// The views.
const (
	TimeSeries  View = "timeSeries"
	Bar         View = "bar"
	SingleValue View = "singleValue"
	Gauge       View = "gauge"
)

// Metric is one series of a widget: a metric (Namespace, Name,
// Dimensions, Stat) or an expression (metric math, SEARCH) over others.
type Metric struct {
	// ID names the series for expressions (CloudWatch: lowercase first
	// letter, letters, digits, underscore).
	ID         string
	Namespace  string
	Name       string
	Dimensions map[string]string
	Stat       string
	// Expression, when set, makes this series metric math; Namespace,
	// Name, Dimensions and Stat are then unused.
	Expression string
	Label      string
	// Hidden series feed expressions and are not drawn.
	Hidden bool
}

// Band is a horizontal annotation: a labelled value line, shading the
// side Fill names ("above", "below" or "").
type Band struct {
	Label string
	Value float64
	Fill  string
	Color string
}

// Widget is one dashboard widget: a metric widget, or a text widget when
// Markdown is set.
type Widget struct {
	Title    string
	Markdown string
	View     View
	Metrics  []Metric
	// Period in seconds (default 300).
	Period int
	// Unit labels the left axis (CloudWatch) and sets the field unit
	// (Grafana: "s", "h", "percent", "short", "currencyUSD", ...).
	Unit     string
	AxisText string
	Bands    []Band
	// Min and Max bound the left axis; a gauge needs both.
	Min, Max *float64
	Stacked  bool
	// Width (of 24) and Height; defaults 12 × 6 (text: 24 × 2).
	Width, Height int
}

// Dashboard is a titled list of widgets laid out left to right, top to
// bottom.
type Dashboard struct {
	Title string
	// UID is the Grafana dashboard uid and the CloudWatch name's stem.
	UID         string
	Description string
	Widgets     []Widget
}

// F is a float pointer, for Min and Max.
func F(v float64) *float64 { return &v }

func (w Widget) size() (int, int) {
	wd, ht := w.Width, w.Height
	if wd == 0 {
		wd = 12
		if w.Markdown != "" {
			wd = 24
		}
	}
	if ht == 0 {
		ht = 6
		if w.Markdown != "" {
			ht = 2
		}
	}
	return wd, ht
}

func (w Widget) period() int {
	if w.Period > 0 {
		return w.Period
	}
	return 300
}

// layout places widgets on a 24-wide grid, row by row.
func layout(ws []Widget) [][4]int {
	out := make([][4]int, len(ws))
	x, y, rowH := 0, 0, 0
	for i, w := range ws {
		wd, ht := w.size()
		if x+wd > 24 {
			x, y, rowH = 0, y+rowH, 0
		}
		out[i] = [4]int{x, y, wd, ht}
		x += wd
		rowH = max(rowH, ht)
	}
	return out
}

var metricNameInSearch = regexp.MustCompile(`MetricName="([^"]+)"`)

// MetricNames lists every metric name the dashboard reads, per namespace
// ("" for names found in SEARCH expressions, whose namespace is inside
// the expression), sorted.
func (d Dashboard) MetricNames() map[string][]string {
	set := map[string]map[string]bool{}
	add := func(ns, name string) {
		if set[ns] == nil {
			set[ns] = map[string]bool{}
		}
		set[ns][name] = true
	}
	for _, w := range d.Widgets {
		for _, m := range w.Metrics {
			if m.Expression != "" {
				for _, g := range metricNameInSearch.FindAllStringSubmatch(m.Expression, -1) {
					add("", g[1])
				}
				continue
			}
			add(m.Namespace, m.Name)
		}
	}
	out := map[string][]string{}
	for ns, names := range set {
		for n := range names {
			out[ns] = append(out[ns], n)
		}
		sort.Strings(out[ns])
	}
	return out
}

// Validate reports the first widget that cannot be rendered.
func (d Dashboard) Validate() error {
	if d.Title == "" || d.UID == "" {
		return fmt.Errorf("dashboard %q: title and uid are required", d.Title)
	}
	for i, w := range d.Widgets {
		if w.Markdown != "" {
			continue
		}
		if len(w.Metrics) == 0 {
			return fmt.Errorf("dashboard %q widget %d (%q): no metrics", d.Title, i, w.Title)
		}
		if w.View == Gauge && (w.Min == nil || w.Max == nil) {
			return fmt.Errorf("dashboard %q widget %d (%q): a gauge needs Min and Max (CloudWatch requires yAxis.left min and max for view gauge)", d.Title, i, w.Title)
		}
		for j, m := range w.Metrics {
			if m.Expression == "" && (m.Namespace == "" || m.Name == "" || m.Stat == "") {
				return fmt.Errorf("dashboard %q widget %q metric %d: namespace, name and stat are required", d.Title, w.Title, j)
			}
		}
	}
	return nil
}
