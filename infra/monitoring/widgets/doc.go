// Package widgets is the one model of the suite's dashboards and its two
// renderings: a CloudWatch dashboard body (CloudWatchBody, "Dashboard Body
// Structure and Syntax",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
// and a Grafana dashboard with CloudWatch data-source queries (Grafana,
// built with grafana-foundation-sdk), so a widget is defined once and
// shows the same metrics in both. catalog.go defines the dashboards:
// "Delivery Performance", "Business Metrics", "Infrastructure Overview"
// and "Application Deep Dive".
//
// It imports no CDK, so `make dashboards` renders the Grafana files
// without building the CDK app; infra/monitoring wraps the CloudWatch
// bodies in CDK constructs.
package widgets
