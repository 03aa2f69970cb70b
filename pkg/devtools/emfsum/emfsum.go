// Package emfsum adds up CloudWatch Embedded Metric Format records, as
// CloudWatch would for a Sum over one period, so tests and the demo can
// check what a function emitted. Local tooling: never imported by
// product code.
package emfsum

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Sum reads EMF records, one JSON object a line (other lines, such as
// log lines, are skipped), and returns "Metric{Dim=v,...}" → sum of the
// values and "Metric{...}#n" → number of values. Dimensions are sorted.
// A line that is JSON with an "_aws" key but not valid EMF is an error.
func Sum(out []byte) (map[string]float64, error) {
	sums := map[string]float64{}
	err := walk(out, func(k string, v float64) {
		sums[k] += v
		sums[k+"#n"]++
	})
	if err != nil {
		return nil, err
	}
	return sums, nil
}

// Values lists every value emitted under key ("Metric{Dim=v,...}"), in
// the order written: what a percentile statistic is computed over.
func Values(out []byte, key string) ([]float64, error) {
	var vs []float64
	err := walk(out, func(k string, v float64) {
		if k == key {
			vs = append(vs, v)
		}
	})
	return vs, err
}

// walk calls fn with each metric value of each EMF record in out.
func walk(out []byte, fn func(key string, v float64)) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			continue // a log line that mentions _aws
		}
		aws, ok := rec["_aws"].(map[string]any)
		if !ok {
			continue
		}
		dirs, _ := aws["CloudWatchMetrics"].([]any)
		for _, d := range dirs {
			dir, _ := d.(map[string]any)
			var dims []string
			sets, _ := dir["Dimensions"].([]any)
			if len(sets) > 0 {
				set, _ := sets[0].([]any)
				for _, k := range set {
					name, _ := k.(string)
					dims = append(dims, fmt.Sprintf("%s=%v", name, rec[name]))
				}
			}
			sort.Strings(dims)
			ms, _ := dir["Metrics"].([]any)
			for _, m := range ms {
				def, _ := m.(map[string]any)
				name, _ := def["Name"].(string)
				v, ok := rec[name].(float64)
				if name == "" || !ok {
					return fmt.Errorf("EMF record %s: metric %q has no numeric value", line, name)
				}
				fn(name+"{"+strings.Join(dims, ",")+"}", v)
			}
		}
	}
	return sc.Err()
}

// Only keeps the entries whose metric name is one of names.
func Only(sums map[string]float64, names ...string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range sums {
		for _, n := range names {
			if strings.HasPrefix(k, n+"{") {
				out[k] = v
			}
		}
	}
	return out
}
