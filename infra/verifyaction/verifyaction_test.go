package verifyaction

import (
	"strings"
	"testing"
)

// UserParameters is pure Go: these tests start no jsii process. The
// action itself is checked on the synthesized template in infra/stack.
func TestUserParameters(t *testing.T) {
	tests := []struct {
		name    string
		p       Props
		want    string
		wantErr string
	}{
		{name: "inline spec", p: Props{Spec: "checks: []"}, want: "checks: []"},
		{name: "ssm parameter", p: Props{SpecParameter: "/postdeploy/shop/prod"}, want: `{"specParameter":"/postdeploy/shop/prod"}`},
		{name: "none", p: Props{}, wantErr: "exactly one"},
		{name: "two", p: Props{Spec: "x", SpecParameter: "/a"}, wantErr: "exactly one"},
		{name: "relative parameter", p: Props{SpecParameter: "postdeploy"}, wantErr: "SpecParameter=\"postdeploy\""},
		{name: "file without input", p: Props{SpecFile: "postdeploy.yaml"}, wantErr: "needs Input"},
		{name: "too long", p: Props{Spec: strings.Repeat("x", MaxUserParameters+1)}, wantErr: "1001 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UserParameters(tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("UserParameters(%+v) = %q, %v; want error containing %q", tt.p, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("UserParameters(%+v) = %q, %v; want %q, nil", tt.p, got, err, tt.want)
			}
		})
	}
}

func TestNewNeedsFunction(t *testing.T) {
	if _, err := New(Props{Spec: "checks: []"}); err == nil || !strings.Contains(err.Error(), "Function is required") {
		t.Fatalf("New without Function: err = %v; want \"Function is required\"", err)
	}
}
