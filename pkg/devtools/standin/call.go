package standin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// String renders a call on one line for a person reading a demo log:
//
//	12:00:01 codepipeline PutJobSuccessResult {"jobId":"j-1",...} -> InvalidJobStateException
func (c Call) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %s", c.Time.Format("15:04:05.000"), c.Service, c.Operation)
	if len(c.Input) > 0 {
		b, err := json.Marshal(jsonable(c.Input, false))
		if err == nil {
			in := string(b)
			const limit = 300
			if len(in) > limit {
				in = in[:limit] + "…"
			}
			sb.WriteString(" " + in)
		}
	}
	switch {
	case c.ErrorCode != "":
		sb.WriteString(" -> " + c.ErrorCode)
	default:
		sb.WriteString(" -> ok")
	}
	if c.Fault != "" {
		sb.WriteString(" (injected " + c.Fault + ")")
	}
	return sb.String()
}

// Summary counts calls per "service Operation", e.g. for a demo's closing
// report, in name order.
func Summary(calls []Call) []string {
	n := map[string]int{}
	errs := map[string]int{}
	for _, c := range calls {
		k := c.Service + " " + c.Operation
		n[k]++
		if c.ErrorCode != "" {
			errs[k]++
		}
	}
	keys := sortedKeys(n)
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		line := fmt.Sprintf("%-50s %4d", k, n[k])
		if errs[k] > 0 {
			line += fmt.Sprintf("  (%d errors)", errs[k])
		}
		out = append(out, line)
	}
	return out
}
