package widgets

import (
	"encoding/json"
	"fmt"
	"sort"
)

// CloudWatchBody renders d as a CloudWatch DashboardBody ("Dashboard Body
// Structure and Syntax", CloudWatch API Reference): each metric widget's
// properties carry view (timeSeries, bar, singleValue, gauge), region,
// period, title, yAxis.left (min/max, required for a gauge) and
// annotations.horizontal; each metric is an array [namespace, name,
// dimension name, value, ..., {rendering options}] or [{expression}].
// region may be a CDK token string (Aws.REGION).
func (d Dashboard) CloudWatchBody(region string) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	pos := layout(d.Widgets)
	widgets := make([]map[string]any, 0, len(d.Widgets))
	for i, w := range d.Widgets {
		p := pos[i]
		cw := map[string]any{"x": p[0], "y": p[1], "width": p[2], "height": p[3]}
		if w.Markdown != "" {
			cw["type"] = "text"
			cw["properties"] = map[string]any{"markdown": w.Markdown}
			widgets = append(widgets, cw)
			continue
		}
		props := map[string]any{
			"view":    string(w.View),
			"region":  region,
			"period":  w.period(),
			"title":   w.Title,
			"metrics": cloudWatchMetrics(w.Metrics),
		}
		if w.View == TimeSeries || w.View == Bar {
			props["stacked"] = w.Stacked
		}
		if w.View == SingleValue || w.View == Gauge {
			props["setPeriodToTimeRange"] = true
		}
		left := map[string]any{}
		if w.Min != nil {
			left["min"] = *w.Min
		}
		if w.Max != nil {
			left["max"] = *w.Max
		}
		if w.AxisText != "" {
			left["label"] = w.AxisText
			left["showUnits"] = false
		}
		if len(left) > 0 {
			props["yAxis"] = map[string]any{"left": left}
		}
		if len(w.Bands) > 0 {
			var hs []map[string]any
			for _, b := range w.Bands {
				h := map[string]any{"label": b.Label, "value": b.Value}
				if b.Fill != "" {
					h["fill"] = b.Fill
				}
				if b.Color != "" {
					h["color"] = b.Color
				}
				hs = append(hs, h)
			}
			props["annotations"] = map[string]any{"horizontal": hs}
		}
		cw["type"] = "metric"
		cw["properties"] = props
		widgets = append(widgets, cw)
	}
	b, err := json.Marshal(map[string]any{"start": "-P7D", "periodOverride": "inherit", "widgets": widgets})
	if err != nil {
		return "", fmt.Errorf("render dashboard %q: %w", d.Title, err)
	}
	return string(b), nil
}

func cloudWatchMetrics(ms []Metric) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		opts := map[string]any{}
		if m.ID != "" {
			opts["id"] = m.ID
		}
		if m.Label != "" {
			opts["label"] = m.Label
		}
		if m.Hidden {
			opts["visible"] = false
		}
		if m.Expression != "" {
			opts["expression"] = m.Expression
			out = append(out, []any{opts})
			continue
		}
		opts["stat"] = m.Stat
		row := []any{m.Namespace, m.Name}
		keys := make([]string, 0, len(m.Dimensions))
		for k := range m.Dimensions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			row = append(row, k, m.Dimensions[k])
		}
		out = append(out, append(row, opts))
	}
	return out
}
