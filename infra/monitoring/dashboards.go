package monitoring

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Dashboard titles; the CloudWatch dashboard names are these with
// hyphens for spaces (dashboard names allow no spaces), after the prefix.
const (
	SystemHealthTitle   = "System Health Overview"
	AppPerformanceTitle = "Application Performance"
)

// DashboardsProps configures NewDashboards.
type DashboardsProps struct {
	// NamePrefix starts each dashboard name, e.g. "shop-".
	NamePrefix string
	// Target narrows the widgets to one application. Nil shows every
	// instance, load balancer and database in the account and region
	// (CloudWatch SEARCH expressions).
	Target *Target
	// Alarms are shown in an alarm status widget on both dashboards.
	Alarms []awscloudwatch.IAlarm
}

// Dashboards are the two dashboards of a monitored application.
type Dashboards struct {
	constructs.Construct
	SystemHealth   awscloudwatch.Dashboard
	AppPerformance awscloudwatch.Dashboard
}

const fiveMinutes = 300

// NewDashboards makes the "System Health Overview" and "Application
// Performance" dashboards.
func NewDashboards(scope constructs.Construct, id string, p DashboardsProps) *Dashboards {
	d := &Dashboards{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	t := p.Target
	scopeNote := "every instance, load balancer and database in this account and region"
	if t != nil {
		scopeNote = "application **" + t.Name + "**"
	}

	health := [][]awscloudwatch.IWidget{
		{text(fmt.Sprintf("# %s\nInfrastructure health of %s: EC2 CPU and memory, load balancer traffic and latency, database connections, disk.", SystemHealthTitle, scopeNote))},
		{
			graph("EC2 CPU utilization (%)", cpuSeries(t), annotation(CPUThresholdPercent, "High CPU alarm")),
			graph("EC2 memory used (%)", []awscloudwatch.IMetric{search(agentSearch("mem_used_percent", t), "Average", "")}, nil),
		},
		{
			graph("Load balancer requests", []awscloudwatch.IMetric{albSeries(t, "RequestCount", "Sum", "Requests")}, nil),
			graph("Load balancer latency p90 (s)", []awscloudwatch.IMetric{albSeries(t, "TargetResponseTime", "p90", "Target response time p90")}, nil),
		},
		{
			graph("RDS database connections", []awscloudwatch.IMetric{search(`{AWS/RDS,DBInstanceIdentifier} MetricName="DatabaseConnections"`, "Average", "")}, nil),
			graph("Disk used (%)", diskSeries(t), annotation(100-DiskFreeThresholdPercent, "Low free disk alarm")),
		},
	}
	if len(p.Alarms) > 0 {
		health = append(health, []awscloudwatch.IWidget{alarmStatus(p.Alarms)})
	}
	d.SystemHealth = awscloudwatch.NewDashboard(d.Construct, jsii.String("SystemHealth"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(p.NamePrefix + "System-Health-Overview"),
		Widgets:       rows(health),
	})

	perf := [][]awscloudwatch.IWidget{
		{text(fmt.Sprintf("# %s\nHow %s serves its users: error rate, response times, throughput, sign-ins.", AppPerformanceTitle, scopeNote))},
		{
			graph("HTTP 5xx error rate (%)", []awscloudwatch.IMetric{errorRateSeries(t)}, annotation(ErrorRateThresholdPercent, "Error rate alarm")),
			graph("Response time (s)", []awscloudwatch.IMetric{
				albSeries(t, "TargetResponseTime", "p50", "p50"),
				albSeries(t, "TargetResponseTime", "p90", "p90"),
				albSeries(t, "TargetResponseTime", "p99", "p99"),
			}, nil),
		},
		{
			awscloudwatch.NewSingleValueWidget(&awscloudwatch.SingleValueWidgetProps{
				Title:   jsii.String("Requests (5 min)"),
				Metrics: &[]awscloudwatch.IMetric{albSeries(t, "RequestCount", "Sum", "Requests")},
				Width:   jsii.Number(6), Height: jsii.Number(6),
				Sparkline: jsii.Bool(true),
			}),
			graph("5xx responses", []awscloudwatch.IMetric{
				albSeries(t, "HTTPCode_ELB_5XX_Count", "Sum", "Load balancer 5xx"),
				albSeries(t, "HTTPCode_Target_5XX_Count", "Sum", "Target 5xx"),
			}, nil),
		},
	}
	if m := signInSeries(t); m != nil {
		perf = append(perf, []awscloudwatch.IWidget{graph("Sign-ins with anomaly band", m, nil)})
	}
	if len(p.Alarms) > 0 {
		perf = append(perf, []awscloudwatch.IWidget{alarmStatus(p.Alarms)})
	}
	d.AppPerformance = awscloudwatch.NewDashboard(d.Construct, jsii.String("AppPerformance"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(p.NamePrefix + "Application-Performance"),
		Widgets:       rows(perf),
	})
	return d
}

func rows(ws [][]awscloudwatch.IWidget) *[]*[]awscloudwatch.IWidget {
	out := make([]*[]awscloudwatch.IWidget, len(ws))
	for i := range ws {
		out[i] = &ws[i]
	}
	return &out
}

func text(md string) awscloudwatch.IWidget {
	return awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String(md), Width: jsii.Number(24), Height: jsii.Number(2)})
}

func graph(title string, left []awscloudwatch.IMetric, ann *awscloudwatch.HorizontalAnnotation) awscloudwatch.IWidget {
	p := &awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Left: &left,
		Width: jsii.Number(12), Height: jsii.Number(6),
	}
	if ann != nil {
		p.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{ann}
	}
	return awscloudwatch.NewGraphWidget(p)
}

func annotation(v float64, label string) *awscloudwatch.HorizontalAnnotation {
	return &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(v), Label: jsii.String(label)}
}

func alarmStatus(alarms []awscloudwatch.IAlarm) awscloudwatch.IWidget {
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		refs[i] = a
	}
	return awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Alarms"),
		Alarms: &refs,
		Width:  jsii.Number(24),
	})
}

// search is a CloudWatch SEARCH expression over 5 minutes.
func search(query, stat, label string) awscloudwatch.IMetric {
	p := &awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("SEARCH('%s', '%s', %d)", query, stat, fiveMinutes)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{},
		Period:       awscdk.Duration_Seconds(jsii.Number(fiveMinutes)),
	}
	if label != "" {
		p.Label = jsii.String(label)
	}
	return awscloudwatch.NewMathExpression(p)
}

// agentSearch finds a CloudWatch agent metric, narrowed to t's instance
// or group when t names one.
func agentSearch(metric string, t *Target) string {
	q := fmt.Sprintf(`Namespace="CWAgent" MetricName="%s"`, metric)
	switch {
	case t == nil:
	case t.InstanceID != "":
		q += fmt.Sprintf(` InstanceId="%s"`, t.InstanceID)
	case t.AutoScalingGroup != "":
		q += fmt.Sprintf(` AutoScalingGroupName="%s"`, t.AutoScalingGroup)
	}
	return q
}

func cpuSeries(t *Target) []awscloudwatch.IMetric {
	if t != nil {
		if m := CPUMetric(*t); m != nil {
			return []awscloudwatch.IMetric{m}
		}
	}
	return []awscloudwatch.IMetric{search(`{AWS/EC2,InstanceId} MetricName="CPUUtilization"`, "Average", "")}
}

func diskSeries(t *Target) []awscloudwatch.IMetric {
	if t != nil {
		if m := DiskMetric(*t); m != nil {
			return []awscloudwatch.IMetric{m}
		}
	}
	return []awscloudwatch.IMetric{search(agentSearch("disk_used_percent", t), "Average", "")}
}

func albSeries(t *Target, metric, stat, label string) awscloudwatch.IMetric {
	if t != nil && t.LoadBalancer != "" {
		return albMetric(*t, metric, stat, label, 5)
	}
	return search(fmt.Sprintf(`{AWS/ApplicationELB,LoadBalancer} MetricName="%s"`, metric), stat, "")
}

func errorRateSeries(t *Target) awscloudwatch.IMetric {
	if t != nil {
		if e := ErrorRate(*t); e != nil {
			return e
		}
	}
	s := func(metric string) string {
		return fmt.Sprintf(`SUM(SEARCH('{AWS/ApplicationELB,LoadBalancer} MetricName="%s"', 'Sum', %d))`, metric, fiveMinutes)
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("100 * (%s + %s) / %s", s("HTTPCode_ELB_5XX_Count"), s("HTTPCode_Target_5XX_Count"), s("RequestCount"))),
		UsingMetrics: &map[string]awscloudwatch.IMetric{},
		Label:        jsii.String("5xx error rate, all load balancers (%)"),
		Period:       awscdk.Duration_Seconds(jsii.Number(fiveMinutes)),
	})
}

func signInSeries(t *Target) []awscloudwatch.IMetric {
	if t == nil {
		return nil
	}
	m := SignInMetric(*t)
	if m == nil {
		return nil
	}
	band := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("ANOMALY_DETECTION_BAND(logins, %d)", SignInStdDevs)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"logins": m},
		Label:        jsii.String("Expected band"),
		Period:       awscdk.Duration_Minutes(jsii.Number(SignInPeriodMinutes)),
	})
	return []awscloudwatch.IMetric{band}
}
