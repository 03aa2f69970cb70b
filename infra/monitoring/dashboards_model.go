package monitoring

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/monitoring/widgets"
	"github.com/postdeploy/postdeploy/pkg/config"
)

// Model dashboards are rendered from infra/monitoring/widgets, the same
// definitions `make dashboards` renders for Grafana. Each becomes one
// AWS::CloudWatch::Dashboard whose body follows "Dashboard Body Structure
// and Syntax" (CloudWatch API Reference).
const (
	DeliveryPerformanceTitle    = widgets.DeliveryPerformanceTitle
	BusinessMetricsTitle        = widgets.BusinessMetricsTitle
	InfrastructureOverviewTitle = widgets.InfrastructureOverviewTitle
	ApplicationDeepDiveTitle    = widgets.ApplicationDeepDiveTitle
)

// ModelDashboardsProps configures the model dashboards.
type ModelDashboardsProps struct {
	// NamePrefix starts each dashboard name.
	NamePrefix string
	// MetricNamespace is the suite's EMF namespace (default
	// config.DefaultMetricNamespace).
	MetricNamespace string
	// DeliveryPipelines, when set, gives the Delivery Performance
	// dashboard one series per pipeline (else SEARCH finds them).
	DeliveryPipelines []string
	// Business configures "Business Metrics"; nil leaves it out, with a
	// synth-time warning.
	Business *widgets.Business
}

// ModelDashboards are the dashboards rendered from the widget model.
type ModelDashboards struct {
	constructs.Construct
	// ByTitle holds each dashboard created, by title.
	ByTitle map[string]awscloudwatch.CfnDashboard
}

// BusinessFromContext reads the "Business Metrics" configuration from
// the CDK context key businessMetrics of scope; absent gives nil.
func BusinessFromContext(scope constructs.Construct) (*widgets.Business, error) {
	return widgets.ParseBusiness(scope.Node().TryGetContext(jsii.String(widgets.BusinessContextKey)))
}

// NewModelDashboards makes "Delivery Performance", "Infrastructure
// Overview", "Application Deep Dive" and, when configured, "Business
// Metrics". Without a Business configuration it adds a CDK warning
// annotation (shown at synth) saying how to configure one.
func NewModelDashboards(scope constructs.Construct, id string, p ModelDashboardsProps) (*ModelDashboards, error) {
	ns := p.MetricNamespace
	if ns == "" {
		ns = config.DefaultMetricNamespace
	}
	m := &ModelDashboards{Construct: constructs.NewConstruct(scope, jsii.String(id)), ByTitle: map[string]awscloudwatch.CfnDashboard{}}
	ds := []widgets.Dashboard{
		widgets.DeliveryPerformance(ns, p.DeliveryPipelines),
		widgets.InfrastructureOverview(),
		widgets.ApplicationDeepDive(ns),
	}
	if p.Business != nil {
		ds = append(ds, widgets.BusinessMetrics(*p.Business))
	} else {
		awscdk.Annotations_Of(m.Construct).AddWarningV2(jsii.String("postdeploy:business-metrics-not-configured"), jsii.String(fmt.Sprintf(
			"The %q dashboard is left out: no CDK context %q. Name the metric of each widget (namespace, name, dimensions, statistic) for dailySignUps, revenuePerHour, activeSubscriptions and churnRate, e.g. in cdk.json; see the README, \"Dashboards\".",
			BusinessMetricsTitle, widgets.BusinessContextKey)))
	}
	for _, d := range ds {
		body, err := d.CloudWatchBody(*awscdk.Aws_REGION())
		if err != nil {
			return nil, err
		}
		m.ByTitle[d.Title] = awscloudwatch.NewCfnDashboard(m.Construct, jsii.String(strings.ReplaceAll(d.Title, " ", "")), &awscloudwatch.CfnDashboardProps{
			DashboardName: jsii.String(p.NamePrefix + strings.ReplaceAll(d.Title, " ", "-")),
			DashboardBody: jsii.String(body),
		})
	}
	return m, nil
}
