// Package dashboard reads CloudWatch dashboard bodies: the widgets and,
// for each metric widget, the series it plots, in the syntax the
// CloudWatch API Reference documents ("Dashboard Body Structure and
// Syntax": https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
// The runbook generator (infra/runbook) explains each widget from it and
// the alert drill (pkg/drill) asks GetMetricData whether each widget's
// series have data.
package dashboard

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Body is a dashboard body.
type Body struct {
	Widgets []Widget
}

// Widget is one widget.
type Widget struct {
	Type  string // metric, text, alarm, log, explorer, custom
	View  string // timeSeries, singleValue, gauge, bar, pie, table
	Title string
	// Series are a metric widget's series, in order.
	Series []Series
	// Annotations are a metric widget's horizontal annotations.
	Annotations []Annotation
	// Alarms are an alarm widget's alarm ARNs.
	Alarms []string
	// Markdown is a text widget's text.
	Markdown string
	// Period is the widget's period in seconds (0: not set; CloudWatch's
	// default is 300).
	Period int
}

// Annotation is a horizontal line on a graph.
type Annotation struct {
	Label string
	Value float64
}

// Series is one entry of a metric widget's "metrics" array: a metric
// (Namespace, Name, Dimensions, Stat) or a math expression (Expression).
type Series struct {
	ID, Label  string
	Expression string
	Namespace  string
	Name       string
	Dimensions [][2]string // in the widget's order
	Stat       string
	Period     int
	// Hidden is set for a series the widget computes from but does not
	// show ("visible": false).
	Hidden bool
}

// String is one line for a person: "label: namespace/name {dims}, stat"
// or "label: expression …".
func (s Series) String() string {
	var line string
	if s.Expression != "" {
		line = "expression " + s.Expression
	} else {
		line = s.Namespace + "/" + s.Name
		if len(s.Dimensions) > 0 {
			ds := make([]string, len(s.Dimensions))
			for i, d := range s.Dimensions {
				ds[i] = d[0] + "=" + d[1]
			}
			line += " {" + strings.Join(ds, ", ") + "}"
		}
		if s.Stat != "" {
			line += ", " + s.Stat
		}
	}
	if s.Label != "" && s.Label != s.Expression {
		line = s.Label + ": " + line
	}
	return line
}

// Parse reads a dashboard body. A widget it does not understand is kept
// with its type and title; a body that is not JSON, or a metrics row of
// the wrong shape, is an error naming the widget.
func Parse(body []byte) (Body, error) {
	var raw struct {
		Widgets []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Body{}, fmt.Errorf("dashboard body: %w", err)
	}
	var b Body
	for i, w := range raw.Widgets {
		p := w.Properties
		x := Widget{Type: w.Type, View: str(p["view"]), Title: str(p["title"]), Period: num(p["period"])}
		switch w.Type {
		case "text":
			x.Markdown = str(p["markdown"])
		case "alarm":
			for _, a := range list(p["alarms"]) {
				x.Alarms = append(x.Alarms, str(a))
			}
		case "metric":
			s, err := series(p)
			if err != nil {
				return Body{}, fmt.Errorf("dashboard body: widgets[%d] (%q): %w", i, x.Title, err)
			}
			x.Series = s
			if ann, ok := p["annotations"].(map[string]any); ok {
				for _, h := range list(ann["horizontal"]) {
					m, _ := h.(map[string]any)
					v, _ := m["value"].(float64)
					x.Annotations = append(x.Annotations, Annotation{Label: str(m["label"]), Value: v})
				}
			}
		}
		b.Widgets = append(b.Widgets, x)
	}
	return b, nil
}

// series reads a metric widget's "metrics": each row is [namespace,
// name, dimName, dimValue, ..., {options}], "." repeating the cell above,
// or [{options with "expression"}]; the widget's "stat" and "period" are
// the rows' defaults.
func series(p map[string]any) ([]Series, error) {
	var out []Series
	var prev []any
	for r, row := range list(p["metrics"]) {
		cells := append([]any(nil), list(row)...)
		opts := map[string]any{}
		if n := len(cells); n > 0 {
			if o, ok := cells[n-1].(map[string]any); ok {
				opts, cells = o, cells[:n-1]
			}
		}
		s := Series{ID: str(opts["id"]), Label: str(opts["label"]), Stat: str(opts["stat"]), Period: num(opts["period"])}
		if v, ok := opts["visible"].(bool); ok && !v {
			s.Hidden = true
		}
		if e := str(opts["expression"]); e != "" {
			if len(cells) > 0 {
				return nil, fmt.Errorf("metrics[%d]: an expression row holds only its options object", r)
			}
			s.Expression = e
			out = append(out, s)
			continue
		}
		for i := range cells {
			if c, ok := cells[i].(string); ok && c == "." {
				if i >= len(prev) {
					return nil, fmt.Errorf("metrics[%d][%d]: \".\" with no cell above it to repeat", r, i)
				}
				cells[i] = prev[i]
			}
		}
		prev = cells
		if len(cells) < 2 || len(cells)%2 != 0 {
			return nil, fmt.Errorf("metrics[%d]: want [namespace, metricName, dimensionName, dimensionValue, ..., {options}], got %d cells", r, len(cells))
		}
		s.Namespace, s.Name = str(cells[0]), str(cells[1])
		for i := 2; i+1 < len(cells); i += 2 {
			s.Dimensions = append(s.Dimensions, [2]string{str(cells[i]), str(cells[i+1])})
		}
		if s.Stat == "" {
			s.Stat = str(p["stat"])
		}
		if s.Stat == "" {
			s.Stat = "Average" // the documented default
		}
		if s.Period == 0 {
			s.Period = num(p["period"])
		}
		out = append(out, s)
	}
	return out, nil
}

func list(v any) []any { l, _ := v.([]any); return l }

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}
