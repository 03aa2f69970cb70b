package config

import (
	"strings"
	"testing"
)

func TestLoadRespondSuiteAlarmPrefix(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    string
		wantErr string // "" for none
	}{
		{"unset: off", "", "", ""},
		{"the stack's setting", "Postdeploy-", "Postdeploy-", ""},
		{"surrounding spaces trimmed", "  Postdeploy- ", "Postdeploy-", ""},
		{"control character", "Post\ndeploy-", "", EnvSuiteAlarmPrefix},
		{"longer than an alarm name", strings.Repeat("a", 256), "", "at most 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadRespond(respondEnv(map[string]string{EnvSuiteAlarmPrefix: tt.value}))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("LoadRespond(%s=%q) error: %v; want none", EnvSuiteAlarmPrefix, tt.value, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("LoadRespond(%s=%q) error = %v; want one naming %q", EnvSuiteAlarmPrefix, tt.value, err, tt.wantErr)
			}
			if c.SuiteAlarmPrefix != tt.want {
				t.Errorf("LoadRespond(%s=%q).SuiteAlarmPrefix = %q; want %q", EnvSuiteAlarmPrefix, tt.value, c.SuiteAlarmPrefix, tt.want)
			}
		})
	}
	if got := SuiteAlarmPrefix("Postdeploy"); got != "Postdeploy-" {
		t.Errorf("SuiteAlarmPrefix(%q) = %q; want %q", "Postdeploy", got, "Postdeploy-")
	}
}
