package runbook

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/dashboard"
)

// This file reads the monitoring parts of a synthesized CloudFormation
// template (the JSON `cdk synth` writes): dashboards, alarms and the
// topics they notify. Intrinsic functions are resolved to readable text:
// a Ref to a topic is its display name, a Ref to a function its logical
// id, a pseudo parameter ${AWS::Region}.

// Template is the monitoring part of one stack.
type Template struct {
	StackName  string
	Dashboards []Dashboard
	Alarms     []Alarm
}

// Dashboard is one AWS::CloudWatch::Dashboard.
type Dashboard struct {
	Name    string
	Purpose string // the heading text widget, without its "# title" line
	Widgets []Widget
}

// Widget is one widget of a dashboard body.
type Widget struct {
	Type  string // metric, text, alarm, log, ...
	View  string // timeSeries, singleValue, gauge, bar, pie, table
	Title string
	// Metrics are the series the widget plots, one line each.
	Metrics []string
	// Annotations are horizontal lines, "label at value".
	Annotations []string
	// Alarms are an alarm widget's alarms, by name.
	Alarms []string
	// Text is a text widget's markdown.
	Text string
}

// Alarm is one AWS::CloudWatch::Alarm.
type Alarm struct {
	Name, Description string
	// Metric is namespace/name with dimensions, or the expression.
	Metric            string
	Statistic         string
	Period            int // seconds; 0 for a metric-math alarm (see Metric)
	Comparison        string
	Threshold         string
	EvaluationPeriods int
	DatapointsToAlarm int
	TreatMissingData  string
	AlarmTopics       []string
	OKTopics          []string
	// Metrics are the alarm's metrics (namespace and name), the simple
	// alarm's one or a math alarm's each.
	Metrics []MetricName
}

// MetricName is a metric's namespace and name.
type MetricName struct{ Namespace, Name string }

// ParseTemplate reads a synthesized template. stackName resolves
// AWS::StackName.
func ParseTemplate(data []byte, stackName string) (*Template, error) {
	var doc struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode the template: %w", err)
	}
	r := resolver{names: map[string]string{"AWS::StackName": stackName}}
	// Names first: topics by display name, alarms by name, for the
	// references dashboards and alarms make to them.
	for id, res := range doc.Resources {
		switch res.Type {
		case "AWS::SNS::Topic":
			if n := r.text(res.Properties["DisplayName"]); n != "" {
				r.names[id] = n
			}
		case "AWS::CloudWatch::Alarm":
			r.names[id] = r.text(res.Properties["AlarmName"])
		}
	}
	t := &Template{StackName: stackName}
	var problems []string
	for _, id := range sortedIDs(doc.Resources) {
		res := doc.Resources[id]
		switch res.Type {
		case "AWS::CloudWatch::Dashboard":
			d, err := r.dashboard(res.Properties)
			if err != nil {
				problems = append(problems, fmt.Sprintf("dashboard %s: %v", id, err))
				continue
			}
			t.Dashboards = append(t.Dashboards, d)
		case "AWS::CloudWatch::Alarm":
			t.Alarms = append(t.Alarms, r.alarm(res.Properties))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("read the template: %s", strings.Join(problems, "; "))
	}
	sort.Slice(t.Dashboards, func(i, j int) bool { return t.Dashboards[i].Name < t.Dashboards[j].Name })
	sort.Slice(t.Alarms, func(i, j int) bool { return t.Alarms[i].Name < t.Alarms[j].Name })
	return t, nil
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// resolver turns template values into text.
type resolver struct {
	names map[string]string // logical id or pseudo parameter → text
}

// text resolves a string, a Ref, Fn::GetAtt or Fn::Join.
func (r resolver) text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			if n, ok := r.names[ref]; ok {
				return n
			}
			return "${" + readableID(ref) + "}"
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			id, _ := ga[0].(string)
			attr, _ := ga[1].(string)
			if n, ok := r.names[id]; ok && attr == "Arn" {
				return n
			}
			return "${" + readableID(id) + "." + attr + "}"
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = r.text(p)
			}
			return strings.Join(out, sep)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// cdkHash is the 8 hex digits CDK appends to a logical id.
var cdkHash = regexp.MustCompile(`^([A-Za-z0-9]+?)[0-9A-F]{8}$`)

// readableID is a logical id without CDK's hash suffix ("Verify04AA6CE7"
// → "Verify"): the construct a reference points at, stable in the
// document while the hash changes with the construct path.
func readableID(id string) string {
	if m := cdkHash.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return id
}

func (r resolver) texts(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, r.text(x))
	}
	return out
}

func (r resolver) int(v any) int {
	n, _ := strconv.Atoi(r.text(v))
	return n
}

func (r resolver) alarm(p map[string]any) Alarm {
	a := Alarm{
		Name: r.text(p["AlarmName"]), Description: r.text(p["AlarmDescription"]),
		Statistic:         r.text(p["Statistic"]),
		Period:            r.int(p["Period"]),
		Comparison:        r.text(p["ComparisonOperator"]),
		Threshold:         r.text(p["Threshold"]),
		EvaluationPeriods: r.int(p["EvaluationPeriods"]),
		DatapointsToAlarm: r.int(p["DatapointsToAlarm"]),
		TreatMissingData:  r.text(p["TreatMissingData"]),
		AlarmTopics:       r.texts(p["AlarmActions"]),
		OKTopics:          r.texts(p["OKActions"]),
	}
	if a.Statistic == "" {
		a.Statistic = r.text(p["ExtendedStatistic"])
	}
	if a.TreatMissingData == "" {
		a.TreatMissingData = "missing" // CloudWatch's default
	}
	if a.DatapointsToAlarm == 0 {
		a.DatapointsToAlarm = a.EvaluationPeriods
	}
	if name := r.text(p["MetricName"]); name != "" {
		a.Metrics = []MetricName{{r.text(p["Namespace"]), name}}
		a.Metric = r.text(p["Namespace"]) + "/" + name + r.dimensions(p["Dimensions"])
		return a
	}
	// Metric math (or an anomaly detection band): every query.
	var parts []string
	band := r.text(p["ThresholdMetricId"])
	for _, q := range asList(p["Metrics"]) {
		m, _ := q.(map[string]any)
		id := r.text(m["Id"])
		switch {
		case m["Expression"] != nil:
			parts = append(parts, fmt.Sprintf("%s = %s", id, r.text(m["Expression"])))
		case m["MetricStat"] != nil:
			ms, _ := m["MetricStat"].(map[string]any)
			met, _ := ms["Metric"].(map[string]any)
			a.Metrics = append(a.Metrics, MetricName{r.text(met["Namespace"]), r.text(met["MetricName"])})
			parts = append(parts, fmt.Sprintf("%s = %s/%s%s (%s, %ds)", id, r.text(met["Namespace"]), r.text(met["MetricName"]),
				r.dimensions(met["Dimensions"]), r.text(ms["Stat"]), r.int(ms["Period"])))
			if a.Period == 0 {
				a.Period = r.int(ms["Period"])
			}
			if a.Statistic == "" {
				a.Statistic = r.text(ms["Stat"])
			}
		}
		if rd, ok := m["ReturnData"].(bool); ok && rd && id != band && len(parts) > 0 {
			parts[len(parts)-1] += " ← alarmed on"
		}
	}
	if band != "" {
		a.Threshold = "the band " + band
	}
	a.Metric = strings.Join(parts, "; ")
	return a
}

func (r resolver) dimensions(v any) string {
	var ds []string
	for _, d := range asList(v) {
		m, _ := d.(map[string]any)
		ds = append(ds, r.text(m["Name"])+"="+r.text(m["Value"]))
	}
	if len(ds) == 0 {
		return ""
	}
	slices.Sort(ds)
	return " {" + strings.Join(ds, ", ") + "}"
}

func asList(v any) []any { l, _ := v.([]any); return l }

// dashboard reads a dashboard's name and body.
func (r resolver) dashboard(p map[string]any) (Dashboard, error) {
	d := Dashboard{Name: r.text(p["DashboardName"])}
	body, err := dashboard.Parse([]byte(r.text(p["DashboardBody"])))
	if err != nil {
		return d, err
	}
	for _, w := range body.Widgets {
		x := Widget{Type: w.Type, View: w.View, Title: w.Title, Text: w.Markdown}
		switch w.Type {
		case "text":
			if d.Purpose == "" {
				d.Purpose = purpose(w.Markdown)
				continue // the heading is the purpose, not a widget to explain
			}
		case "alarm":
			for _, a := range w.Alarms {
				// An alarm ARN: keep its name.
				if _, name, ok := strings.Cut(a, ":alarm:"); ok {
					a = name
				}
				x.Alarms = append(x.Alarms, a)
			}
		case "metric":
			for _, s := range w.Series {
				if !s.Hidden {
					x.Metrics = append(x.Metrics, s.String())
				}
			}
			for _, a := range w.Annotations {
				x.Annotations = append(x.Annotations, fmt.Sprintf("%s at %s", a.Label, strconv.FormatFloat(a.Value, 'f', -1, 64)))
			}
		}
		d.Widgets = append(d.Widgets, x)
	}
	return d, nil
}

// purpose is a heading text widget's text after its "# title" line.
func purpose(md string) string {
	lines := strings.Split(md, "\n")
	if len(lines) > 1 && strings.HasPrefix(lines[0], "#") {
		lines = lines[1:]
	}
	return strings.TrimSpace(strings.Join(lines, " "))
}
