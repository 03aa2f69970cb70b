package config

import (
	"strings"
	"testing"
)

func TestLoadHooks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Hooks
		wantErr string
	}{
		{"defaults", map[string]string{EnvLambdaFunctionName: "postdeploy-verify"},
			Hooks{SpecPrefix: DefaultHookSpecPrefix, FunctionName: "postdeploy-verify"}, ""},
		{"as the stack sets it", map[string]string{EnvHookSpecPrefix: "/teams/codedeploy/", EnvStateTable: "postdeploy-state", EnvLambdaFunctionName: "Postdeploy-Verify1A2B"},
			Hooks{SpecPrefix: "/teams/codedeploy/", StateTable: "postdeploy-state", FunctionName: "Postdeploy-Verify1A2B"}, ""},
		{"prefix without the closing slash", map[string]string{EnvHookSpecPrefix: "/postdeploy/codedeploy"},
			Hooks{}, EnvHookSpecPrefix + `="/postdeploy/codedeploy": must start and end with "/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadHooks(func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("LoadHooks(%v) error = %v; want one containing %q", tc.env, err, tc.wantErr)
				}
			case err != nil || got != tc.want:
				t.Errorf("LoadHooks(%v) = %+v, %v; want %+v, nil", tc.env, got, err, tc.want)
			}
		})
	}
}
