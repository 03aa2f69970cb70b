package spec

import "testing"

func TestRefers(t *testing.T) {
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"plain", `url: "#{TEST_LISTENER_URL}/health"`, true},
		{"spaces inside the braces", `url: "#{ TEST_LISTENER_URL }/health"`, true},
		{"escaped literal", `url: "##{TEST_LISTENER_URL}/health"`, false},
		{"another variable", `url: "#{TEST_LISTENER_ARN}"`, false},
		{"a longer name", `url: "#{TEST_LISTENER_URL2}"`, false},
		{"bare word", `note: TEST_LISTENER_URL`, false},
		{"unclosed", `url: "#{TEST_LISTENER_URL"`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Refers([]byte(tt.data), "TEST_LISTENER_URL"); got != tt.want {
				t.Errorf("Refers(%q, TEST_LISTENER_URL) = %v; want %v", tt.data, got, tt.want)
			}
		})
	}
}
