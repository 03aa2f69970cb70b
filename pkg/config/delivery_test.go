package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadDelivery(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Delivery
		wantErr string
	}{
		{
			name: "defaults",
			env:  nil,
			want: Delivery{ProductionStages: []string{"Prod", "Production"}, ChangeFailureWindow: 24 * time.Hour},
		},
		{
			name: "everything set",
			env: map[string]string{
				EnvProductionStages:    " Live , Prod-EU ",
				EnvChangeFailureWindow: "72h",
				EnvIncidentAlarms:      "prod-api-=api,shop-=shop",
			},
			want: Delivery{
				ProductionStages:    []string{"Live", "Prod-EU"},
				ChangeFailureWindow: 72 * time.Hour,
				IncidentAlarms:      []AlarmPipeline{{Prefix: "prod-api-", Pipeline: "api"}, {Prefix: "shop-", Pipeline: "shop"}},
			},
		},
		{name: "zero window", env: map[string]string{EnvChangeFailureWindow: "0s"}, wantErr: EnvChangeFailureWindow + "=0"},
		{name: "bad window", env: map[string]string{EnvChangeFailureWindow: "a day"}, wantErr: EnvChangeFailureWindow + `="a day"`},
		{name: "empty stages", env: map[string]string{EnvProductionStages: " , "}, wantErr: EnvProductionStages},
		{name: "bad alarm pair", env: map[string]string{EnvIncidentAlarms: "prod-api-"}, wantErr: `"prod-api-": want alarm-name-prefix=pipeline`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadDelivery(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadDelivery(%v) error = %v; want one containing %q", tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadDelivery(%v) = %v; want nil error", tt.env, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("LoadDelivery(%v) mismatch (-want +got):\n%s", tt.env, d)
			}
		})
	}
}

func TestPipelineOfAlarm(t *testing.T) {
	c := Delivery{IncidentAlarms: []AlarmPipeline{{Prefix: "prod-", Pipeline: "all"}, {Prefix: "prod-api-", Pipeline: "api"}}}
	for name, want := range map[string]string{"prod-api-5xx": "api", "prod-web-cpu": "all", "staging-api": ""} {
		if got := c.PipelineOfAlarm(name); got != want {
			t.Errorf("PipelineOfAlarm(%q) = %q; want %q", name, got, want)
		}
	}
}
