package standin

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	defaultMaxRecords = 50
	// maxDatapoints caps one query's answer; CloudWatch caps at 100,800.
	maxDatapoints = 100800
)

func alarmArn(name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", Region, AccountID, name)
}

func dimsList(d map[string]string) []any {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"Name": k, "Value": d[k]})
	}
	return out
}

func dimsMap(v []any) map[string]string {
	out := map[string]string{}
	for _, d := range v {
		if m, ok := d.(map[string]any); ok {
			out[str(m, "Name")] = str(m, "Value")
		}
	}
	return out
}

func (a *alarm) tree() map[string]any {
	m := map[string]any{
		"AlarmName":                          a.Name,
		"AlarmArn":                           alarmArn(a.Name),
		"StateValue":                         a.State,
		"StateReason":                        a.Reason,
		"StateUpdatedTimestamp":              a.updated,
		"StateTransitionedTimestamp":         a.transitioned,
		"ActionsEnabled":                     true,
		"AlarmConfigurationUpdatedTimestamp": a.updated,
	}
	if a.Description != "" {
		m["AlarmDescription"] = a.Description
	}
	if len(a.Actions) > 0 {
		m["AlarmActions"] = normalize(a.Actions)
	}
	if len(a.OKActions) > 0 { // DescribeAlarms returns OKActions too (MetricAlarm, CompositeAlarm)
		m["OKActions"] = normalize(a.OKActions)
	}
	if a.Type == "CompositeAlarm" {
		m["AlarmRule"] = a.Rule
		return m
	}
	m["Namespace"] = a.Namespace
	m["MetricName"] = a.MetricName
	m["Dimensions"] = dimsList(a.Dimensions)
	if a.Statistic != "" {
		m["Statistic"] = a.Statistic
	}
	if a.Period > 0 {
		m["Period"] = a.Period
	}
	if a.EvaluationPeriods > 0 {
		m["EvaluationPeriods"] = a.EvaluationPeriods
	}
	m["Threshold"] = a.Threshold
	if a.ComparisonOperator != "" {
		m["ComparisonOperator"] = a.ComparisonOperator
	}
	return m
}

func cwDescribeAlarms(s *Server, req *request) (any, error) {
	in := req.input
	names := strList(in, "AlarmNames")
	prefix := str(in, "AlarmNamePrefix")
	if len(names) > 0 && prefix != "" {
		return nil, apiErr(400, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be used together")
	}
	types := strList(in, "AlarmTypes")
	if len(types) == 0 {
		types = []string{"MetricAlarm"} // as CloudWatch does
	}
	wantType := map[string]bool{}
	for _, t := range types {
		if t != "MetricAlarm" && t != "CompositeAlarm" {
			return nil, apiErr(400, "InvalidParameterValue", "AlarmTypes: %q is not MetricAlarm or CompositeAlarm", t)
		}
		wantType[t] = true
	}
	stateFilter := str(in, "StateValue")
	actionPrefix := str(in, "ActionPrefix")
	limit := defaultMaxRecords
	if n, ok := intField(in, "MaxRecords"); ok {
		if n < 1 || n > 100 {
			return nil, apiErr(400, "InvalidParameterValue", "MaxRecords %d must be between 1 and 100", n)
		}
		limit = n
	}
	offset := 0
	if tok := str(in, "NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "standin-"))
		if err != nil || n < 0 || !strings.HasPrefix(tok, "standin-") {
			return nil, apiErr(400, "InvalidNextToken", "NextToken %q was not issued by this stand-in", tok)
		}
		offset = n
	}
	nameSet := map[string]bool{}
	for _, n := range names {
		nameSet[n] = true
	}

	var matched []*alarm
	for _, a := range s.st.alarms {
		switch {
		case !wantType[a.Type]:
		case len(nameSet) > 0 && !nameSet[a.Name]:
		case prefix != "" && !strings.HasPrefix(a.Name, prefix):
		case stateFilter != "" && a.State != stateFilter:
		case actionPrefix != "" && !hasPrefixed(a.Actions, actionPrefix):
		default:
			matched = append(matched, a)
		}
	}
	sort.Slice(matched, func(i, j int) bool {
		if matched[i].Type != matched[j].Type {
			return matched[i].Type == "MetricAlarm"
		}
		return matched[i].Name < matched[j].Name
	})
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:]
	out := map[string]any{}
	if len(page) > limit {
		page = page[:limit]
		out["NextToken"] = "standin-" + strconv.Itoa(offset+limit)
	}
	metric, composite := []any{}, []any{}
	for _, a := range page {
		if a.Type == "CompositeAlarm" {
			composite = append(composite, a.tree())
		} else {
			metric = append(metric, a.tree())
		}
	}
	out["MetricAlarms"] = metric
	out["CompositeAlarms"] = composite
	return out, nil
}

func hasPrefixed(xs []string, p string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}

func (st *state) findSeries(ns, name string, dims map[string]string) *series {
	for _, sr := range st.series {
		if sr.Namespace == ns && sr.MetricName == name && maps.Equal(sr.Dimensions, dims) {
			return sr
		}
	}
	return nil
}

func (st *state) addPoint(ns, name string, dims map[string]string, t time.Time, v float64) {
	if len(dims) == 0 {
		dims = nil
	}
	sr := st.findSeries(ns, name, dims)
	if sr == nil {
		sr = &series{Series: Series{Namespace: ns, MetricName: name, Dimensions: dims}}
		st.series = append(st.series, sr)
	}
	sr.points = append(sr.points, datum{t.Unix(), v})
}

// genValue is the generator's value at t.
func (st *state) genValue(g *Generator, t time.Time) float64 {
	begin := st.start.Add(g.Start.Duration)
	switch g.Kind {
	case "step":
		if t.Before(begin) {
			return g.From
		}
		return g.To
	case "ramp":
		if t.Before(begin) {
			return g.From
		}
		if g.Over.Duration <= 0 || !t.Before(begin.Add(g.Over.Duration)) {
			return g.To
		}
		f := float64(t.Sub(begin)) / float64(g.Over.Duration)
		return g.From + (g.To-g.From)*f
	}
	return g.Value
}

// statSeries computes one MetricStat query: timestamp (unix s) -> value.
func (st *state) statSeries(sr *series, start, end time.Time, period int64, stat string) map[int64]float64 {
	out := map[int64]float64{}
	if sr == nil {
		return out
	}
	from := start.Unix() / period * period
	buckets := map[int64][]float64{}
	for _, d := range sr.points {
		if d.t < start.Unix() || d.t >= end.Unix() {
			continue
		}
		b := d.t / period * period
		buckets[b] = append(buckets[b], d.v)
	}
	for b, vs := range buckets {
		out[b] = aggregate(vs, stat)
	}
	if sr.Generator != nil {
		n := 0
		for t := from; t < end.Unix() && n < maxDatapoints; t += period {
			n++
			if t < start.Unix() {
				continue
			}
			if _, ok := out[t]; !ok {
				out[t] = st.genValue(sr.Generator, time.Unix(t, 0))
			}
		}
	}
	return out
}

func aggregate(vs []float64, stat string) float64 {
	sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		sum += v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	switch stat {
	case "Sum":
		return sum
	case "Minimum":
		return lo
	case "Maximum":
		return hi
	case "SampleCount":
		return float64(len(vs))
	}
	if strings.HasPrefix(stat, "p") {
		sorted := append([]float64(nil), vs...)
		sort.Float64s(sorted)
		q, err := strconv.ParseFloat(stat[1:], 64)
		if err == nil && q >= 0 && q <= 100 {
			i := int(math.Ceil(q/100*float64(len(sorted)))) - 1
			if i < 0 {
				i = 0
			}
			return sorted[i]
		}
	}
	return sum / float64(len(vs))
}

func cwGetMetricData(s *Server, req *request) (any, error) {
	in := req.input
	start, ok1 := timeField(in, "StartTime")
	end, ok2 := timeField(in, "EndTime")
	if !ok1 || !ok2 || !end.After(start) {
		return nil, apiErr(400, "ValidationError", "StartTime and EndTime are required and EndTime must be after StartTime")
	}
	queries := list(in, "MetricDataQueries")
	if len(queries) == 0 || len(queries) > 500 {
		return nil, apiErr(400, "ValidationError", "MetricDataQueries must hold 1 to 500 queries, got %d", len(queries))
	}
	type q struct {
		id, label, expression string
		ret                   bool
		data                  map[int64]float64
		done                  bool
	}
	qs := make([]*q, 0, len(queries))
	byID := map[string]*q{}
	for i, raw := range queries {
		m, _ := raw.(map[string]any)
		x := &q{id: str(m, "Id"), label: str(m, "Label"), expression: str(m, "Expression"), ret: true}
		if v, ok := m["ReturnData"]; ok {
			x.ret = boolField(m, "ReturnData") || v == nil
		}
		if x.id == "" {
			return nil, apiErr(400, "ValidationError", "MetricDataQueries[%d].Id is required", i)
		}
		if _, dup := byID[x.id]; dup {
			return nil, apiErr(400, "ValidationError", "MetricDataQueries[%d].Id %q is used twice", i, x.id)
		}
		ms := obj(m, "MetricStat")
		switch {
		case ms != nil:
			met := obj(ms, "Metric")
			period, _ := intField(ms, "Period")
			if period <= 0 {
				return nil, apiErr(400, "ValidationError", "MetricDataQueries[%d].MetricStat.Period must be a positive number of seconds", i)
			}
			if (end.Unix()-start.Unix())/int64(period) > maxDatapoints {
				return nil, apiErr(400, "ValidationError", "query %q asks for more than %d datapoints; widen Period or narrow the time range", x.id, maxDatapoints)
			}
			sr := s.st.findSeries(str(met, "Namespace"), str(met, "MetricName"), nilIfEmpty(dimsMap(list(met, "Dimensions"))))
			x.data = s.st.statSeries(sr, start, end, int64(period), str(ms, "Stat"))
			if x.label == "" {
				x.label = str(met, "MetricName")
			}
			x.done = true
		case x.expression != "":
			if x.label == "" {
				x.label = x.id
			}
		default:
			return nil, apiErr(400, "ValidationError", "MetricDataQueries[%d] (%s) needs MetricStat or Expression", i, x.id)
		}
		qs = append(qs, x)
		byID[x.id] = x
	}
	// Expressions may use other expressions: evaluate until no progress.
	for pass := 0; pass <= len(qs); pass++ {
		progress := false
		for _, x := range qs {
			if x.done {
				continue
			}
			ids := make([]string, 0, len(byID))
			for id := range byID {
				ids = append(ids, id)
			}
			prog, refs, err := compileMath(x.expression, x.id, ids)
			if err != nil {
				return nil, apiErr(400, "ValidationError", "query %q: the stand-in evaluates arithmetic, SUM/AVG/MIN/MAX/ABS/CEIL/FLOOR/IF and METRICS() over query ids (e.g. 100*errors/requests); %q is outside that: %v", x.id, x.expression, firstLine(err.Error()))
			}
			ready := true
			for _, r := range refs {
				if !byID[r].done {
					ready = false
				}
			}
			if !ready {
				continue
			}
			all := map[int64]float64{}
			for _, y := range qs {
				if y.expression == "" {
					maps.Copy(all, y.data)
				}
			}
			x.data, err = evalMath(prog, refs, func(id string) map[int64]float64 { return byID[id].data }, all)
			if err != nil {
				return nil, apiErr(400, "ValidationError", "query %q: evaluating %q: %v", x.id, x.expression, firstLine(err.Error()))
			}
			x.done, progress = true, true
		}
		if !progress {
			break
		}
	}
	results := []any{}
	desc := str(in, "ScanBy") != "TimestampAscending"
	for _, x := range qs {
		if !x.ret {
			continue
		}
		if !x.done {
			return nil, apiErr(400, "ValidationError", "query %q: expression %q refers to itself in a cycle", x.id, x.expression)
		}
		ts := make([]int64, 0, len(x.data))
		for t := range x.data {
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool { return (ts[i] > ts[j]) == desc })
		times, vals := make([]any, 0, len(ts)), make([]any, 0, len(ts))
		for _, t := range ts {
			times = append(times, time.Unix(t, 0).UTC())
			vals = append(vals, x.data[t])
		}
		results = append(results, map[string]any{
			"Id": x.id, "Label": x.label, "Timestamps": times, "Values": vals, "StatusCode": "Complete",
		})
	}
	return map[string]any{"MetricDataResults": results, "Messages": []any{}}, nil
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// referenced lists the query ids an expression names, by scanning its
// identifiers.
func referenced[T any](expression string, ids map[string]T) []string {
	var out []string
	seen := map[string]bool{}
	word := func(r rune) bool {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	for _, f := range strings.FieldsFunc(expression, func(r rune) bool { return !word(r) }) {
		if _, ok := ids[f]; ok && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func cwPutMetricData(s *Server, req *request) (any, error) {
	ns := str(req.input, "Namespace")
	if ns == "" {
		return nil, apiErr(400, "MissingParameter", "Namespace is required")
	}
	data := list(req.input, "MetricData")
	if len(data) > 1000 {
		return nil, apiErr(400, "InvalidParameterValue", "MetricData holds %d items; at most 1000", len(data))
	}
	now := s.now()
	for i, raw := range data {
		m, _ := raw.(map[string]any)
		name := str(m, "MetricName")
		if name == "" {
			return nil, apiErr(400, "MissingParameter", "MetricData[%d].MetricName is required", i)
		}
		t, ok := timeField(m, "Timestamp")
		if !ok {
			t = now
		}
		dims := dimsMap(list(m, "Dimensions"))
		if v, ok := numField(m, "Value"); ok {
			s.st.addPoint(ns, name, dims, t, v)
		}
		counts := list(m, "Counts")
		for j, rv := range list(m, "Values") {
			v, ok := num(rv)
			if !ok {
				continue
			}
			n := 1.0
			if j < len(counts) {
				if c, ok := num(counts[j]); ok {
					n = c
				}
			}
			for k := 0; k < int(math.Min(n, 1000)); k++ {
				s.st.addPoint(ns, name, dims, t, v)
			}
		}
		if sv := obj(m, "StatisticValues"); sv != nil {
			sum, _ := numField(sv, "Sum")
			cnt, _ := numField(sv, "SampleCount")
			if cnt > 0 {
				s.st.addPoint(ns, name, dims, t, sum/cnt)
			}
		}
	}
	return map[string]any{}, nil
}
