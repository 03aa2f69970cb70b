package stack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/config"
)

func TestDeliveryContext(t *testing.T) {
	tests := []struct {
		name      string
		ctx       string // JSON, as cdk.json holds it
		env       map[string]string
		pipelines []string
		wantErr   string
	}{
		{name: "none", ctx: `{}`, env: map[string]string{}},
		{
			name: "lists and maps (cdk.json)",
			ctx:  `{"productionStages": ["Live"], "changeFailureWindow": "72h", "incidentAlarms": {"shop-": "shop", "prod-api-": "api"}, "deliveryPipelines": ["api", "shop"]}`,
			env: map[string]string{
				config.EnvProductionStages: "Live", config.EnvChangeFailureWindow: "72h", config.EnvIncidentAlarms: "prod-api-=api,shop-=shop",
			},
			pipelines: []string{"api", "shop"},
		},
		{
			name: "strings (cdk -c)",
			ctx:  `{"productionStages": "Prod,Live", "incidentAlarms": "prod-api-=api", "deliveryPipelines": "[\"api\"]"}`,
			env:  map[string]string{config.EnvProductionStages: "Prod,Live", config.EnvIncidentAlarms: "prod-api-=api"}, pipelines: []string{"api"},
		},
		{name: "bad window", ctx: `{"changeFailureWindow": "a day"}`, wantErr: config.EnvChangeFailureWindow + `="a day"`},
		{name: "bad alarm map", ctx: `{"incidentAlarms": {"prod-": 3}}`, wantErr: `context incidentAlarms: "prod-": want a string value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx map[string]any
			if err := json.Unmarshal([]byte(tt.ctx), &ctx); err != nil {
				t.Fatal(err)
			}
			env, pipelines, err := deliveryContext(func(k string) any { return ctx[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("deliveryContext(%s) error = %v; want one containing %q", tt.ctx, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("deliveryContext(%s) = %v; want nil error", tt.ctx, err)
			}
			if d := cmp.Diff(tt.env, env); d != "" {
				t.Errorf("deliveryContext(%s) env (-want +got):\n%s", tt.ctx, d)
			}
			if d := cmp.Diff(tt.pipelines, pipelines); d != "" {
				t.Errorf("deliveryContext(%s) pipelines (-want +got):\n%s", tt.ctx, d)
			}
		})
	}
}
