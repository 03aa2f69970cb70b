package stack

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/infra/monitoring"
)

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

// deliveryDashboards adds the dashboards rendered from the widget model
// (infra/monitoring/widgets): Delivery Performance, Infrastructure
// Overview, Application Deep Dive and, when the CDK context configures
// it, Business Metrics.
func (s *Stack) deliveryDashboards(prefix string) error {
	business, err := monitoring.BusinessFromContext(s.Stack)
	if err != nil {
		return err
	}
	s.ModelDashboards, err = monitoring.NewModelDashboards(s.Stack, "ModelDashboards", monitoring.ModelDashboardsProps{
		NamePrefix: prefix, MetricNamespace: s.Props.MetricNamespace, Business: business,
	})
	return err
}
