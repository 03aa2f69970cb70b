package verifyaction

import (
	"fmt"
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
		{name: "inline yaml spec", p: Props{Spec: "bake: 5m\nchecks:\n  - name: up\n    http: {url: \"https://example.com/\"}\n"},
			want: `{"spec":{"bake":"5m","checks":[{"http":{"url":"https://example.com/"},"name":"up"}]}}`},
		{name: "inline json spec with variables", p: Props{
			Spec:      `{"checks":[{"name":"scan","imageScan":{"repository":"app","digest":"#{IMAGE_DIGEST}","maxSeverity":"HIGH"}}]}`,
			Variables: map[string]string{"IMAGE_DIGEST": "#{Build.IMAGE_DIGEST}"},
		}, want: `{"spec":{"checks":[{"imageScan":{"digest":"#{IMAGE_DIGEST}","maxSeverity":"HIGH","repository":"app"},"name":"scan"}]},"variables":{"IMAGE_DIGEST":"#{Build.IMAGE_DIGEST}"}}`},
		{name: "invalid spec", p: Props{Spec: "checks:\n  - name: up\n    http: {url: \"ftp://example.com/\"}\n"}, wantErr: "checks[0].http.url"},
		{name: "ssm parameter", p: Props{SpecParameter: "/postdeploy/shop/prod"}, want: `{"ssmParameter":"/postdeploy/shop/prod"}`},
		{name: "not yaml", p: Props{Spec: "checks: [unclosed"}, wantErr: "not valid YAML or JSON"},
		{name: "none", p: Props{}, wantErr: "exactly one"},
		{name: "two", p: Props{Spec: "x", SpecParameter: "/a"}, wantErr: "exactly one"},
		{name: "relative parameter", p: Props{SpecParameter: "postdeploy"}, wantErr: "SpecParameter=\"postdeploy\""},
		{name: "file without input", p: Props{SpecFile: "postdeploy.yaml"}, wantErr: "needs Input"},
		{name: "too long", p: Props{Spec: "checks:\n  - name: " + strings.Repeat("x", 60) + "\n    http: {url: \"https://example.com/" + strings.Repeat("y", MaxUserParameters) + "\"}\n"},
			wantErr: "characters; CodePipeline allows 1000"},
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

func ExampleUserParameters() {
	up, err := UserParameters(Props{SpecParameter: "/postdeploy/shop/prod"})
	fmt.Println(up, err)
	// Output: {"ssmParameter":"/postdeploy/shop/prod"} <nil>
}
