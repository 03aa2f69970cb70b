package metrics

import (
	"strings"
	"testing"
)

func prefixed(id string) string { return "m3_" + id }

func TestRewriteExpression(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ids     []string
		all     string // for a bare METRICS()
		want    string
		wantErr string // substring; "" means no error
	}{
		{"ratio", "100*errors/requests", []string{"errors", "requests"}, "", "100*m3_errors/m3_requests", ""},
		{"whitespace and newlines kept", "100 * errors\n/ requests", []string{"errors", "requests"}, "", "100 * m3_errors\n/ m3_requests", ""},
		{"functions untouched", "SUM(METRICS('err')) + FILL(a, REPEAT)", []string{"a", "err"}, "", "SUM([m3_err]) + FILL(m3_a, REPEAT)", ""},
		{"METRICS() is the check's ids", "AVG(METRICS())", []string{"a", "b"}, "", "AVG([m3_a, m3_b])", ""},
		{"METRICS filter is containment", `SUM(METRICS("err"))`, []string{"err4xx", "err5xx", "ok"}, "", "SUM([m3_err4xx, m3_err5xx])", ""},
		{"metrics() in lower case too", "SUM(metrics ( ))", []string{"a"}, "", "SUM([m3_a])", ""},
		{"id that prefixes another", "errors - err", []string{"err", "errors"}, "", "m3_errors - m3_err", ""},
		{"string literal untouched", `SEARCH('{AWS/EC2,InstanceId} MetricName="a"', 'Average', 300)`, []string{"a"}, "", `SEARCH('{AWS/EC2,InstanceId} MetricName="a"', 'Average', 300)`, ""},
		{"escaped quote in string", `SEARCH('it\'s a', 'Sum', 60) + a`, []string{"a"}, "", `SEARCH('it\'s a', 'Sum', 60) + m3_a`, ""},
		{"numbers with exponents", "a * 1e-3 + 2.5E+2 + .5", []string{"a"}, "", "m3_a * 1e-3 + 2.5E+2 + .5", ""},
		{"keywords kept", "SORT(METRICS(), SUM, DESC)", []string{"a"}, "", "SORT([m3_a], SUM, DESC)", ""},
		{"lower-case function call kept", "sum(a)", []string{"a"}, "", "sum(m3_a)", ""},
		{"IF and comparisons", "IF(a > 10 && b != 0, a/b, 0)", []string{"a", "b"}, "", "IF(m3_a > 10 && m3_b != 0, m3_a/m3_b, 0)", ""},
		{"array literal", "MAX([a, b])", []string{"a", "b"}, "", "MAX([m3_a, m3_b])", ""},
		{"id with digits and underscores", "m1_x + m2", []string{"m1_x", "m2"}, "", "m3_m1_x + m3_m2", ""},
		{"unknown id", "errors/requests", []string{"errors"}, "", "", `"requests" at column 8 is not a metric id`},
		{"unknown id lists the defined", "x", []string{"a", "b"}, "", "", "defined: a, b"},
		{"unterminated string", "SEARCH('abc", nil, "", "", "has no closing '"},
		{"METRICS with a non-string", "SUM(METRICS(a))", []string{"a"}, "", "", "takes no argument or one quoted string"},
		{"METRICS unclosed", "SUM(METRICS(", []string{"a"}, "", "", "takes no argument or one quoted string"},
		{"METRICS matching nothing", "SUM(METRICS('zzz'))", []string{"a"}, "", "", `METRICS("zzz")`},
		{"METRICS with no ids", "SUM(METRICS())", nil, "", "", "matches no metric id"},
		{"empty", "", nil, "", "", ""},
		{"bare METRICS() by id filter", "SUM(METRICS())", []string{"a", "b"}, "METRICS('m3_')", "SUM(METRICS('m3_'))", ""},
		{"filtered METRICS stays an array", "SUM(METRICS('a'))", []string{"a", "b"}, "METRICS('m3_')", "SUM([m3_a])", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewriteExpression(tt.in, tt.ids, prefixed, tt.all)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("rewriteExpression(%q, %q) = %q, %v; want an error containing %q", tt.in, tt.ids, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("rewriteExpression(%q, %q) = %q, %v; want %q, nil", tt.in, tt.ids, got, err, tt.want)
			}
		})
	}
}

// FuzzRewriteExpression checks, for any input, that the rewriter does not
// panic and that what it returns names only renamed ids: rewriting the
// output again over the renamed ids, leaving them as they are, must
// succeed and change nothing.
func FuzzRewriteExpression(f *testing.F) {
	for _, s := range []string{
		"100*errors/requests",
		"SUM(METRICS('err')) + FILL(errors, REPEAT)",
		`SEARCH('{AWS/EC2,InstanceId} MetricName="CPUUtilization"', 'Average', 300)`,
		"IF(errors > 1e-3, requests, 0)",
		`SUM(METRICS("req"))`,
		"errors'",
		"METRICS(",
		`'\`,
		"1e-requests",
	} {
		f.Add(s)
	}
	ids := []string{"errors", "requests"}
	renamed := []string{prefixed("errors"), prefixed("requests")}
	same := func(s string) string { return s }
	f.Fuzz(func(t *testing.T, in string) {
		out, err := rewriteExpression(in, ids, prefixed, "")
		if err != nil {
			return
		}
		again, err := rewriteExpression(out, renamed, same, "")
		if err != nil || again != out {
			t.Fatalf("rewriteExpression(%q) = %q, which rewritten again over %q gives %q, %v; want it unchanged", in, out, renamed, again, err)
		}
		if !strings.Contains(in, "METRICS") && !strings.Contains(strings.ToUpper(in), "METRICS") && len(out) < len(in) {
			t.Fatalf("rewriteExpression(%q) = %q: shorter than its input", in, out)
		}
	})
}
