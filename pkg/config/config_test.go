package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadVerify(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Verify
		wantErr []string
	}{
		{"defaults", map[string]string{EnvTokenKeySecret: "postdeploy/token-key"},
			Verify{Common: Common{MetricNamespace: DefaultMetricNamespace}, EventBus: DefaultEventBus, SafetyMargin: DefaultSafetyMargin, TokenKeySecret: "postdeploy/token-key"}, nil},
		{"set", map[string]string{EnvEventBus: "off", EnvSafetyMargin: "45s", EnvCloudWatchProtocol: "query", EnvMetricNamespace: "Ops", EnvTokenKeySecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:tk-AbCdEf"},
			Verify{Common: Common{MetricNamespace: "Ops", CloudWatchProtocol: "query"}, EventBus: "", SafetyMargin: 45 * time.Second, TokenKeySecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:tk-AbCdEf"}, nil},
		{"token key secret unset", nil, Verify{}, []string{EnvTokenKeySecret, "Secrets Manager"}},
		{"every problem", map[string]string{EnvSafetyMargin: "-1s", EnvCloudWatchProtocol: "cbor2"}, Verify{}, []string{EnvSafetyMargin, EnvCloudWatchProtocol, EnvTokenKeySecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadVerify(env(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("LoadVerify(%v) error = nil; want one naming %v", tt.env, tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("LoadVerify error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("LoadVerify(%v) = %+v, %v; want %+v, nil", tt.env, got, err, tt.want)
			}
		})
	}
}
