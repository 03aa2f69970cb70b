package monitoring

import (
	"testing"

	"github.com/expr-lang/expr"
)

// evalErrorRate evaluates ErrorRateExpression for one period the way
// CloudWatch metric math does for the functions it uses: FILL(m, v) is v
// where m has no datapoint, IF(c, a, b) is a where c is true. A nil
// metric has no datapoint in the period (Elastic Load Balancing reports
// a metric only when it is non-zero, "CloudWatch metrics for your
// Application Load Balancer").
func evalErrorRate(t *testing.T, requests, elb5xx, elb503, target5xx *float64) float64 {
	t.Helper()
	env := map[string]any{
		"requests": requests, "elb5xx": elb5xx, "elb503": elb503, "target5xx": target5xx,
		"FILL": func(m any, v any) float64 {
			if f, ok := m.(*float64); ok && f != nil {
				return *f
			}
			if _, ok := m.(*float64); !ok {
				return num(t, m)
			}
			return num(t, v)
		},
		"IF": func(c bool, a, b any) float64 {
			if c {
				return num(t, a)
			}
			return num(t, b)
		},
	}
	out, err := expr.Eval(ErrorRateExpression, env)
	if err != nil {
		t.Fatalf("eval %q: %v", ErrorRateExpression, err)
	}
	f, ok := out.(float64)
	if !ok {
		t.Fatalf("eval %q = %v (%T); want a number", ErrorRateExpression, out, out)
	}
	return f
}

func num(t *testing.T, v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	t.Fatalf("metric math value %v (%T) is not a number", v, v)
	return 0
}

func TestErrorRateCountsRequestsRefusedBeforeATarget(t *testing.T) {
	n := func(f float64) *float64 { return &f }
	tests := []struct {
		name                                string
		requests, elb5xx, elb503, target5xx *float64
		want                                float64
		fires                               bool
	}{
		{"no traffic: no datapoints at all", nil, nil, nil, nil, 0, false},
		{"healthy traffic", n(1000), nil, nil, nil, 0, false},
		{"targets failing: 10% target 5xx", n(1000), nil, nil, n(100), 10, true},
		{"target connection errors: ELB 502s are in RequestCount", n(1000), n(30), nil, nil, 3, false},
		// The outage the alarm used to miss: no healthy targets, so no
		// request gets a target, RequestCount has no datapoint and every
		// request is an ELB 503.
		{"no healthy targets: every request refused with 503", nil, n(400), n(400), nil, 100, true},
		{"half the targets gone: 503s beside served requests", n(600), n(400), n(400), nil, 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalErrorRate(t, tt.requests, tt.elb5xx, tt.elb503, tt.target5xx)
			if got != tt.want || (got > ErrorRateThresholdPercent) != tt.fires {
				t.Errorf("error rate = %v%% (fires at > %d%%: %v); want %v%% (fires: %v)", got, ErrorRateThresholdPercent,
					got > ErrorRateThresholdPercent, tt.want, tt.fires)
			}
		})
	}
}
