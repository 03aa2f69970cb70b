package stack

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/config"
)

// Optional CDK context keys of the delivery metrics and dashboards.
const (
	// CtxProductionStages names the production stage(s): "Prod,Production"
	// or ["Prod", "Production"] (respond's POSTDEPLOY_PRODUCTION_STAGES).
	CtxProductionStages = "productionStages"
	// CtxChangeFailureWindow is the change-failure window, e.g. "24h"
	// (POSTDEPLOY_CHANGE_FAILURE_WINDOW).
	CtxChangeFailureWindow = "changeFailureWindow"
	// CtxIncidentAlarms maps alarm-name prefixes to pipelines:
	// "prod-api-=api" or {"prod-api-": "api"} (POSTDEPLOY_INCIDENT_ALARMS).
	CtxIncidentAlarms = "incidentAlarms"
	// CtxDeliveryPipelines lists pipelines to chart one by one on the
	// Delivery Performance dashboard: ["api", "web"].
	CtxDeliveryPipelines = "deliveryPipelines"
)

// deliveryContext reads the delivery context keys into respond's
// environment and the dashboard's pipelines, and checks them the way
// respond will (config.LoadDelivery), so a bad value fails the synth.
func deliveryContext(get func(string) any) (map[string]string, []string, error) {
	env := map[string]string{}
	list := func(key string, v any) (string, error) {
		switch t := v.(type) {
		case nil:
			return "", nil
		case string:
			return t, nil
		case []any:
			var parts []string
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return "", fmt.Errorf("context %s: %v: want a list of strings", key, v)
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, ","), nil
		case map[string]any:
			var parts []string
			for k, e := range t {
				s, ok := e.(string)
				if !ok {
					return "", fmt.Errorf("context %s: %q: want a string value", key, k)
				}
				parts = append(parts, k+"="+s)
			}
			sort.Strings(parts)
			return strings.Join(parts, ","), nil
		}
		return "", fmt.Errorf("context %s: %v: want a string or a list", key, v)
	}
	for key, name := range map[string]string{CtxProductionStages: config.EnvProductionStages, CtxChangeFailureWindow: config.EnvChangeFailureWindow, CtxIncidentAlarms: config.EnvIncidentAlarms} {
		v, err := list(key, get(key))
		if err != nil {
			return nil, nil, err
		}
		if v != "" {
			env[name] = v
		}
	}
	if _, err := config.LoadDelivery(func(k string) string { return env[k] }); err != nil {
		return nil, nil, fmt.Errorf("delivery context (%s, %s, %s): %w", CtxProductionStages, CtxChangeFailureWindow, CtxIncidentAlarms, err)
	}
	var pipelines []string
	switch t := get(CtxDeliveryPipelines).(type) {
	case nil:
	case string:
		if err := json.Unmarshal([]byte(t), &pipelines); err != nil {
			for p := range strings.SplitSeq(t, ",") {
				if p = strings.TrimSpace(p); p != "" {
					pipelines = append(pipelines, p)
				}
			}
		}
	default:
		s, err := list(CtxDeliveryPipelines, t)
		if err != nil {
			return nil, nil, err
		}
		pipelines = strings.Split(s, ",")
	}
	return env, pipelines, nil
}

// DeliveryRoutes send respond the events its delivery metrics count
// (pkg/delivery) that Routes leave out, because no notification needs
// them: successful and superseded pipeline executions, production
// deploys and stage results, successful builds and CodeDeploy
// deployments (a rollback shows as one). Failures already reach respond
// through Routes; these patterns do not repeat them, so no event is
// delivered twice. The patterns are CodePipeline's, CodeBuild's and
// CodeDeploy's documented event shapes (CodePipeline User Guide,
// "Monitoring CodePipeline events"; aws-lambda-go's samples).
var DeliveryRoutes = []Route{
	{
		ID:          "DeliveryPipelineExecutions",
		Description: "CodePipeline executions that finished other than failed (delivery metrics)",
		Source:      events.CodePipelineEventSource,
		DetailTypes: []string{events.CodePipelineExecutionEventDetailType},
		Detail: map[string]any{"state": []any{
			string(events.CodePipelineStateSucceeded), "STOPPED", string(events.CodePipelineStateSuperseded), string(events.CodePipelineStateCanceled),
		}},
	},
	{
		ID:          "DeliveryDeployActions",
		Description: "CodePipeline deploy actions that succeeded (delivery metrics)",
		Source:      events.CodePipelineEventSource,
		DetailTypes: []string{events.CodePipelineActionEventDetailType},
		Detail:      map[string]any{"state": []any{string(events.CodePipelineStateSucceeded)}, "type": map[string]any{"category": []any{"Deploy"}}},
	},
	{
		ID:          "DeliveryStages",
		Description: "CodePipeline stages that succeeded or failed (delivery metrics)",
		Source:      events.CodePipelineEventSource,
		DetailTypes: []string{events.CodePipelineStageEventDetailType},
		Detail:      map[string]any{"state": []any{string(events.CodePipelineStateSucceeded), string(events.CodePipelineStateFailed)}},
	},
	{
		ID:          "DeliveryBuilds",
		Description: "CodeBuild builds that succeeded (delivery metrics; failures come through BuildFailed)",
		Source:      events.CodeBuildEventSource,
		DetailTypes: []string{events.CodeBuildStateChangeDetailType},
		Detail:      map[string]any{"build-status": []any{string(events.CodeBuildPhaseStatusSucceeded)}},
	},
	{
		ID:          "DeliveryDeployments",
		Description: "CodeDeploy deployments that succeeded, rollbacks included (delivery metrics)",
		Source:      events.CodeDeployEventSource,
		DetailTypes: []string{events.CodeDeployDeploymentEventDetailType},
		Detail:      map[string]any{"state": []any{string(events.CodeDeployDeploymentStateSuccess)}},
	},
}

// deliveryDashboards gives respond the delivery settings of the CDK
// context and adds the dashboards rendered from the widget model
// (infra/monitoring/widgets): Delivery Performance, Infrastructure
// Overview, Application Deep Dive and, when the CDK context configures
// it, Business Metrics.
func (s *Stack) deliveryDashboards(prefix string) error {
	env, pipelines, err := deliveryContext(func(k string) any { return s.Stack.Node().TryGetContext(jsii.String(k)) })
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Respond.Function.AddEnvironment(jsii.String(k), jsii.String(env[k]), nil)
	}
	business, err := monitoring.BusinessFromContext(s.Stack)
	if err != nil {
		return err
	}
	s.ModelDashboards, err = monitoring.NewModelDashboards(s.Stack, "ModelDashboards", monitoring.ModelDashboardsProps{
		NamePrefix: prefix, MetricNamespace: s.Props.MetricNamespace, DeliveryPipelines: pipelines, Business: business,
	})
	return err
}
