package dashboard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The metrics array syntax is CloudWatch's: [namespace, name, dimension
// name, value, ..., {options}], "." repeating the cell above, an
// expression row holding only its options (CloudWatch API Reference,
// "Dashboard Body Structure and Syntax", metrics).
func TestParse(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Widget
	}{
		{
			name: "metric rows with repeats, defaults and options",
			body: `{"widgets":[{"type":"metric","properties":{"title":"T","view":"timeSeries","stat":"Sum","period":60,"metrics":[
				["AWS/ELB","Latency","LoadBalancer","lb",{"stat":"p90","label":"p90"}],
				[".","RequestCount",".","."],
				[{"expression":"m1*2","id":"e1","label":"double"}],
				["NS","M",{"visible":false,"id":"m1"}]]}}]}`,
			want: []Widget{{Type: "metric", View: "timeSeries", Title: "T", Period: 60, Series: []Series{
				{Label: "p90", Namespace: "AWS/ELB", Name: "Latency", Dimensions: [][2]string{{"LoadBalancer", "lb"}}, Stat: "p90", Period: 60},
				{Namespace: "AWS/ELB", Name: "RequestCount", Dimensions: [][2]string{{"LoadBalancer", "lb"}}, Stat: "Sum", Period: 60},
				{ID: "e1", Label: "double", Expression: "m1*2"},
				{ID: "m1", Namespace: "NS", Name: "M", Stat: "Sum", Period: 60, Hidden: true},
			}}},
		},
		{
			name: "text and alarm widgets, stat defaults to Average",
			body: `{"widgets":[{"type":"text","properties":{"markdown":"# Hi"}},{"type":"alarm","properties":{"alarms":["arn:aws:cloudwatch:us-east-1:1:alarm:a"]}},{"type":"metric","properties":{"metrics":[["N","M"]]}}]}`,
			want: []Widget{
				{Type: "text", Markdown: "# Hi"},
				{Type: "alarm", Alarms: []string{"arn:aws:cloudwatch:us-east-1:1:alarm:a"}},
				{Type: "metric", Series: []Series{{Namespace: "N", Name: "M", Stat: "Average"}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got.Widgets); diff != "" {
				t.Errorf("Parse(%s) mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

func TestParseErrorsNameTheWidget(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"not JSON", `{`, "dashboard body"},
		{"odd dimension cells", `{"widgets":[{"type":"metric","properties":{"title":"X","metrics":[["N","M","D"]]}}]}`, `widgets[0] ("X"): metrics[0]`},
		{"repeat with nothing above", `{"widgets":[{"type":"metric","properties":{"title":"X","metrics":[[".","M"]]}}]}`, `"." with no cell above`},
		{"expression row with cells", `{"widgets":[{"type":"metric","properties":{"metrics":[["N",{"expression":"1"}]]}}]}`, "only its options"},
	}
	for _, tc := range tests {
		if _, err := Parse([]byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSeriesString(t *testing.T) {
	tests := []struct {
		s    Series
		want string
	}{
		{Series{Namespace: "N", Name: "M", Dimensions: [][2]string{{"A", "1"}}, Stat: "Sum", Label: "l"}, "l: N/M {A=1}, Sum"},
		{Series{Expression: "SEARCH('x', 'Sum', 300)", Label: "SEARCH('x', 'Sum', 300)"}, "expression SEARCH('x', 'Sum', 300)"},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%#v.String() = %q; want %q", tc.s, got, tc.want)
		}
	}
}

// A dashboard body comes from GetDashboard: whoever may edit the
// dashboard wrote it. Parse must never panic on it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"widgets":[{"type":"metric","properties":{"metrics":[["N","M","D","v",{"stat":"p90"}],[".",".",".","w"]]}}]}`))
	f.Add([]byte(`{"widgets":[{"type":"metric","properties":{"metrics":[[{"expression":"SEARCH('{N} x', 'Sum', 300)"}]]}}]}`))
	f.Add([]byte(`{"widgets":[{"type":"alarm","properties":{"alarms":[1,{"a":2}]}},{"type":"text","properties":{"markdown":7}}]}`))
	f.Add([]byte(`{"widgets":[{"type":"metric","properties":{"metrics":[".",[".","."],[[]],null]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		if err != nil {
			return
		}
		for _, w := range b.Widgets {
			for _, s := range w.Series {
				_ = s.String()
			}
		}
	})
}
