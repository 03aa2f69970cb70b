package standin

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// This file evaluates the subset of CloudWatch metric math the stand-in
// supports, point by point: at each timestamp where any referenced series
// has a value, every referenced id is that series' value there (NaN where
// it has none), the expression is evaluated, and non-finite results are
// dropped. So arithmetic over series meets at their common timestamps, as
// CloudWatch does.
//
// Supported: numbers, query ids, + - * / % ^ and parentheses, comparisons
// and && || (inside IF), arrays [a, b], METRICS() and METRICS('s'), and
// the functions SUM, AVG, MIN, MAX (across the series of an array, per
// timestamp), ABS, CEIL, FLOOR, IF(cond, a[, b]).
// Not supported: FILL (pkg/check/metrics' wire test relies on the
// stand-in rejecting it), functions over time (RATE, DIFF, PERIOD,
// RUNNING_SUM, ...), SEARCH, ANOMALY_DETECTION_BAND, and SUM etc. of a
// single series as a scalar over time.

var metricsCall = regexp.MustCompile(`METRICS\(\s*(?:'([^']*)'|"([^"]*)")?\s*\)`)

// expandMetrics replaces METRICS() / METRICS('s') with the array of the
// other queries' ids (those containing s), in id order.
func expandMetrics(src, self string, ids []string) string {
	return metricsCall.ReplaceAllStringFunc(src, func(m string) string {
		sub := metricsCall.FindStringSubmatch(m)
		filter := sub[1] + sub[2]
		var sel []string
		for _, id := range ids {
			if id != self && strings.Contains(id, filter) {
				sel = append(sel, id)
			}
		}
		return "[" + strings.Join(sel, ", ") + "]"
	})
}

func mathFloats(args []any) []float64 {
	var out []float64
	for _, a := range args {
		switch t := a.(type) {
		case []any:
			out = append(out, mathFloats(t)...)
		case bool:
			if t {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		default:
			if f, ok := num(t); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func aggregateFn(name string, fold func(vs []float64) float64) expr.Option {
	return expr.Function(name, func(params ...any) (any, error) {
		var vs []float64
		for _, v := range mathFloats(params) {
			if !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			return math.NaN(), nil
		}
		return fold(vs), nil
	})
}

func unaryFn(name string, f func(float64) float64) expr.Option {
	return expr.Function(name, func(params ...any) (any, error) {
		vs := mathFloats(params)
		if len(vs) != 1 {
			return nil, fmt.Errorf("%s takes one value, got %d", name, len(vs))
		}
		return f(vs[0]), nil
	})
}

var mathFunctions = []expr.Option{
	aggregateFn("SUM", func(vs []float64) float64 {
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s
	}),
	aggregateFn("AVG", func(vs []float64) float64 {
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s / float64(len(vs))
	}),
	aggregateFn("MIN", func(vs []float64) float64 {
		m := vs[0]
		for _, v := range vs {
			m = math.Min(m, v)
		}
		return m
	}),
	aggregateFn("MAX", func(vs []float64) float64 {
		m := vs[0]
		for _, v := range vs {
			m = math.Max(m, v)
		}
		return m
	}),
	unaryFn("ABS", math.Abs),
	unaryFn("CEIL", math.Ceil),
	unaryFn("FLOOR", math.Floor),
	expr.Function("IF", func(params ...any) (any, error) {
		if len(params) < 2 || len(params) > 3 {
			return nil, fmt.Errorf("IF takes (condition, value[, else value])")
		}
		var cond bool
		switch c := params[0].(type) {
		case bool:
			cond = c
		default:
			f, _ := num(c)
			cond = f != 0 && !math.IsNaN(f)
		}
		switch {
		case cond:
			return params[1], nil
		case len(params) == 3:
			return params[2], nil
		}
		return math.NaN(), nil
	}),
}

// compileMath compiles a metric-math expression of query self against the
// request's query ids, returning the program and the ids it reads.
func compileMath(src, self string, ids []string) (*vm.Program, []string, error) {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	expanded := expandMetrics(src, self, sorted)
	env := map[string]any{}
	for _, id := range ids {
		env[id] = 0.0
	}
	opts := append([]expr.Option{expr.Env(env), expr.AsFloat64()}, mathFunctions...)
	prog, err := expr.Compile(expanded, opts...)
	if err != nil {
		return nil, nil, err
	}
	idSet := map[string]bool{}
	for _, id := range ids {
		idSet[id] = true
	}
	refs := referenced(expanded, idSet)
	for _, r := range refs {
		if r == self {
			return nil, nil, fmt.Errorf("the expression refers to its own id %q", self)
		}
	}
	return prog, refs, nil
}

// evalMath evaluates prog at every timestamp of the referenced series (of
// all the request's metric series, when it references none).
func evalMath(prog *vm.Program, refs []string, data func(string) map[int64]float64, all map[int64]float64) (map[int64]float64, error) {
	times := map[int64]bool{}
	if len(refs) == 0 {
		for t := range all {
			times[t] = true
		}
	}
	for _, r := range refs {
		for t := range data(r) {
			times[t] = true
		}
	}
	out := map[int64]float64{}
	env := map[string]any{}
	for t := range times {
		for _, r := range refs {
			v, ok := data(r)[t]
			if !ok {
				v = math.NaN()
			}
			env[r] = v
		}
		v, err := expr.Run(prog, env)
		if err != nil {
			return nil, err
		}
		if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			out[t] = f
		}
	}
	return out, nil
}
