package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

// describe renders a metric for evidence:
// "AWS/ApplicationELB HTTPCode_Target_5XX_Count{LoadBalancer=app/x} Sum".
func describe(ms spec.MetricStat) string {
	var b strings.Builder
	b.WriteString(ms.Namespace + " " + ms.Name)
	if len(ms.Dimensions) > 0 {
		b.WriteString("{")
		for i, k := range slices.Sorted(maps.Keys(ms.Dimensions)) {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(k + "=" + ms.Dimensions[k])
		}
		b.WriteString("}")
	}
	stat := ms.Stat
	if stat == "" {
		stat = defaultStat
	}
	b.WriteString(" " + stat)
	if ms.Unit != "" {
		b.WriteString(" (" + ms.Unit + ")")
	}
	return b.String()
}

func (c metricCheck) expected() string {
	return fmt.Sprintf("%s over the last %s (period %s, at least %d data point(s), else noData: %s)", c.expectSrc, human(c.window), human(c.period), c.minSamples, c.noData)
}

func msgSuffix(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return " (" + strings.Join(msgs, "; ") + ")"
}

func noteSuffix(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

// human renders a duration as a person writes it: "5m", "1h", "1m30s".
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// numList renders values, the newest maxShown when there are more.
func numList(vs []float64) string {
	var parts []string
	if len(vs) > maxShown {
		parts = append(parts, fmt.Sprintf("…%d earlier", len(vs)-maxShown))
		vs = vs[len(vs)-maxShown:]
	}
	for _, v := range vs {
		parts = append(parts, num(v))
	}
	return strings.Join(parts, ", ")
}
