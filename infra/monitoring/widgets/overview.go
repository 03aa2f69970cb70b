package widgets

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Titles of the infrastructure and application dashboards.
const (
	InfrastructureOverviewTitle = "Infrastructure Overview"
	ApplicationDeepDiveTitle    = "Application Deep Dive"
)

// search is a CloudWatch SEARCH over every resource with the schema's
// dimensions (CloudWatch User Guide, "Using search expressions in
// graphs").
func search(id, schema, metric, stat string, period int, label string) Metric {
	return Metric{ID: id, Expression: fmt.Sprintf("SEARCH('{%s} MetricName=\"%s\"', '%s', %d)", schema, metric, stat, period), Label: label}
}

// InfrastructureOverview is "Infrastructure Overview": EC2 instance
// health, ECS cluster capacity and RDS performance, over every resource
// in the account and region.
func InfrastructureOverview() Dashboard {
	const ec2, ecs, rds = "AWS/EC2,InstanceId", "AWS/ECS,ClusterName", "AWS/RDS,DBInstanceIdentifier"
	return Dashboard{
		Title:       InfrastructureOverviewTitle,
		UID:         "postdeploy-infrastructure-overview",
		Description: "EC2 instance health, ECS cluster capacity and RDS performance, every resource in the region.",
		Widgets: []Widget{
			{Title: "About", Markdown: "# " + InfrastructureOverviewTitle + "\nEC2 instance health, ECS cluster capacity and RDS performance of every resource in this region (CloudWatch SEARCH)."},
			{Title: "EC2 instances failing status checks (now)", View: SingleValue, Period: 300, Unit: "short", Width: 6,
				Metrics: []Metric{{ID: "failing", Expression: fmt.Sprintf("SUM(SEARCH('{%s} MetricName=\"StatusCheckFailed\"', 'Maximum', 300))", ec2), Label: "instances failing"}},
				Bands:   []Band{{Label: "any failing", Value: 1, Color: "red"}}},
			{Title: "EC2 status check failed (system / instance)", View: TimeSeries, Period: 300, Unit: "short", Width: 18, Min: F(0),
				Metrics: []Metric{search("sys", ec2, "StatusCheckFailed_System", "Maximum", 300, ""), search("inst", ec2, "StatusCheckFailed_Instance", "Maximum", 300, "")}},
			{Title: "EC2 CPU utilization (%)", View: TimeSeries, Period: 300, Unit: "percent", Min: F(0), Max: F(100),
				Metrics: []Metric{search("cpu", ec2, "CPUUtilization", "Average", 300, "")}},
			{Title: "ECS cluster capacity reserved (%)", View: TimeSeries, Period: 300, Unit: "percent", Min: F(0), Max: F(100),
				Metrics: []Metric{search("cpures", ecs, "CPUReservation", "Average", 300, ""), search("memres", ecs, "MemoryReservation", "Average", 300, "")},
				Bands:   []Band{{Label: "80% reserved: add capacity", Value: 80, Color: "orange"}}},
			{Title: "ECS cluster utilization (%)", View: TimeSeries, Period: 300, Unit: "percent", Min: F(0), Max: F(100),
				Metrics: []Metric{search("cpuuse", ecs, "CPUUtilization", "Average", 300, ""), search("memuse", ecs, "MemoryUtilization", "Average", 300, "")}},
			{Title: "RDS CPU utilization (%)", View: TimeSeries, Period: 300, Unit: "percent", Min: F(0), Max: F(100),
				Metrics: []Metric{search("rdscpu", rds, "CPUUtilization", "Average", 300, "")}},
			{Title: "RDS read / write latency (s)", View: TimeSeries, Period: 300, Unit: "s", Min: F(0),
				Metrics: []Metric{search("rlat", rds, "ReadLatency", "Average", 300, ""), search("wlat", rds, "WriteLatency", "Average", 300, "")}},
			{Title: "RDS database connections", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{search("conns", rds, "DatabaseConnections", "Average", 300, "")}},
			{Title: "RDS freeable memory (bytes)", View: TimeSeries, Period: 300, Unit: "bytes", Min: F(0),
				Metrics: []Metric{search("freemem", rds, "FreeableMemory", "Minimum", 300, "")}},
		},
	}
}

// ApplicationDeepDive is "Application Deep Dive": API Gateway traffic,
// errors and latency, Lambda function performance, and the application's
// custom metrics (the suite's own, in namespace).
func ApplicationDeepDive(namespace string) Dashboard {
	const api, fn = "AWS/ApiGateway,ApiName", "AWS/Lambda,FunctionName"
	own := func(id, dim, metric string) Metric {
		return search(id, namespace+","+dim, metric, "Sum", 300, "")
	}
	return Dashboard{
		Title:       ApplicationDeepDiveTitle,
		UID:         "postdeploy-application-deep-dive",
		Description: "API Gateway, Lambda function performance and custom application metrics.",
		Widgets: []Widget{
			{Title: "About", Markdown: "# " + ApplicationDeepDiveTitle + "\nAPI Gateway and Lambda performance of every API and function in this region, and the application's custom metrics (namespace **" + namespace + "**)."},
			{Title: "API Gateway requests", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{search("count", api, "Count", "Sum", 300, "")}},
			{Title: "API Gateway 4xx / 5xx errors", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{search("e4", api, "4XXError", "Sum", 300, ""), search("e5", api, "5XXError", "Sum", 300, "")}},
			{Title: "API Gateway latency p90 (ms)", View: TimeSeries, Period: 300, Unit: "ms", Min: F(0),
				Metrics: []Metric{search("lat", api, "Latency", "p90", 300, ""), search("ilat", api, "IntegrationLatency", "p90", 300, "")}},
			{Title: "Lambda invocations and errors", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{search("inv", fn, "Invocations", "Sum", 300, ""), search("err", fn, "Errors", "Sum", 300, "")}},
			{Title: "Lambda duration p90 (ms)", View: TimeSeries, Period: 300, Unit: "ms", Min: F(0),
				Metrics: []Metric{search("dur", fn, "Duration", "p90", 300, "")}},
			{Title: "Lambda throttles and concurrency", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{search("thr", fn, "Throttles", "Sum", 300, ""), search("conc", fn, "ConcurrentExecutions", "Maximum", 300, "")}},
			{Title: "Custom: verifications by verdict", View: Bar, Period: 3600, Unit: "short", Stacked: true,
				Metrics: []Metric{own("ver", "Verdict", telemetry.MetricVerifications)}},
			{Title: "Custom: events handled by kind", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{own("ev", "Kind", telemetry.MetricEventsHandled)}},
			{Title: "Custom: remediations by action and outcome", View: Bar, Period: 3600, Unit: "short", Stacked: true,
				Metrics: []Metric{own("rem", "Action,Outcome", telemetry.MetricRemediations)}},
			{Title: "Custom: notifications sent by kind", View: TimeSeries, Period: 300, Unit: "short", Min: F(0),
				Metrics: []Metric{own("notes", "Kind", telemetry.MetricNotificationsSent)}},
		},
	}
}

// GrafanaDashboards are the dashboards `make dashboards` writes as Grafana
// JSON, by file name: the two the monitoring plan asks of Amazon Managed
// Grafana, and Delivery Performance from the same model as its CloudWatch
// twin.
func GrafanaDashboards(namespace string) map[string]Dashboard {
	return map[string]Dashboard{
		"infrastructure-overview.json": InfrastructureOverview(),
		"application-deep-dive.json":   ApplicationDeepDive(namespace),
		"delivery-performance.json":    DeliveryPerformance(namespace, nil),
	}
}
