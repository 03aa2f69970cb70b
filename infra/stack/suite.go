package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// VerificationDashboardTitle is the suite's own dashboard.
const VerificationDashboardTitle = "Post-Deploy Verification"

// Verdicts are the values of the Verifications metric's Verdict dimension.
var Verdicts = []verdict.Verdict{verdict.Succeeded, verdict.Failed, verdict.Inconclusive, verdict.Error}

// Priorities are the values of the Findings metric's Priority dimension.
var Priorities = []triage.Priority{triage.P1, triage.P2, triage.P3, triage.P4}

func (s *Stack) functionsList() []*Function { return []*Function{s.Verify, s.Remediate, s.Respond} }

// suiteAlarms watches the watchers: any function error or throttle and
// any message in a dead-letter queue notifies the escalation topic (which
// remediate is not subscribed to, so the suite never tries to fix
// itself).
func (s *Stack) suiteAlarms() {
	esc := awscloudwatchactions.NewSnsAction(s.Topics[notify.Escalation])
	stack := *s.StackName()
	add := func(id string, m awscloudwatch.IMetric, name, desc string) {
		a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(stack + "-" + name),
			AlarmDescription:   jsii.String(desc),
			Metric:             m,
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(esc)
		a.AddOkAction(esc)
		s.SuiteAlarms = append(s.SuiteAlarms, a)
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	for _, f := range s.functionsList() {
		id := titleCase(f.Name)
		add(id+"ErrorsAlarm", f.MetricErrors(five), f.Name+"-errors", fmt.Sprintf(
			"postdeploy %s failed at least once in 5 minutes (Lambda Errors ≥ 1). "+
				"Find the ERROR lines in its log group and fix the cause; the event is retried, then lands in its dead-letter queue.", f.Name))
		add(id+"ThrottlesAlarm", f.MetricThrottles(five), f.Name+"-throttles", fmt.Sprintf(
			"postdeploy %s was throttled at least once in 5 minutes (Lambda Throttles ≥ 1). "+
				"Check the account's concurrency and the function's reserved concurrency; asynchronous events wait and retry.", f.Name))
		add(id+"DeadLettersAlarm", f.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}), f.Name+"-dead-letters", fmt.Sprintf(
			"postdeploy %s's dead-letter queue holds at least one event it failed to process after every retry. "+
				"Read the message, fix the cause, then redrive it to the function or delete it.", f.Name))
	}
}

// metric is one of the suite's EMF metrics.
func (s *Stack) metric(name, stat, label string, dims map[string]string) awscloudwatch.IMetric {
	d := make(map[string]*string, len(dims))
	for k, v := range dims {
		d[k] = jsii.String(v)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(s.Props.MetricNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &d,
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Minutes(jsii.Number(5)),
		Label:         jsii.String(label),
	})
}

// search finds every dimension combination of one of the suite's metrics.
func (s *Stack) search(metric, stat string, dims ...string) awscloudwatch.IMetric {
	schema := s.Props.MetricNamespace
	for _, d := range dims {
		schema += "," + d
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf(`SEARCH('{%s} MetricName="%s"', '%s', 300)`, schema, metric, stat)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{},
		Period:       awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// verificationDashboard is "Post-Deploy Verification": verdicts,
// remediations, time to recover and findings from the functions' EMF
// metrics, and the suite's own health.
func (s *Stack) verificationDashboard() {
	var verdicts []awscloudwatch.IMetric
	for _, v := range Verdicts {
		verdicts = append(verdicts, s.metric(telemetry.MetricVerifications, "Sum", v.String(), map[string]string{"Verdict": v.String()}))
	}
	var findings []awscloudwatch.IMetric
	for _, p := range Priorities {
		findings = append(findings, s.metric(telemetry.MetricFindings, "Sum", p.String(), map[string]string{"Priority": p.String()}))
	}
	// verify also emits the count without a dimension: every verification.
	total := append([]awscloudwatch.IMetric{s.metric(telemetry.MetricVerifications, "Sum", "All", nil)}, verdicts...)
	var errs, durations, dlq []awscloudwatch.IMetric
	for _, f := range s.functionsList() {
		errs = append(errs, f.MetricErrors(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name), Statistic: jsii.String("Sum")}))
		durations = append(durations, f.MetricDuration(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name + " p90"), Statistic: jsii.String("p90")}))
		dlq = append(dlq, f.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name), Statistic: jsii.String("Maximum")}))
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(s.SuiteAlarms))
	for i, a := range s.SuiteAlarms {
		alarms[i] = a
	}
	g := func(title string, ms ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &ms, Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	widgets := [][]awscloudwatch.IWidget{
		{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Markdown: jsii.String(fmt.Sprintf("# %s\nWhat postdeploy decided and did: verification verdicts, remediations, "+
				"time to recover, security findings; and whether the suite itself is healthy. Metrics: namespace `%s`.",
				VerificationDashboardTitle, s.Props.MetricNamespace)),
			Width: jsii.Number(24), Height: jsii.Number(2),
		})},
		{
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
				Title: jsii.String("Verifications by verdict"), Left: &verdicts, Stacked: jsii.Bool(true),
				Width: jsii.Number(12), Height: jsii.Number(6),
			}),
			awscloudwatch.NewSingleValueWidget(&awscloudwatch.SingleValueWidgetProps{
				Title: jsii.String("Verifications in the time range"), Metrics: &total,
				SetPeriodToTimeRange: jsii.Bool(true), Width: jsii.Number(12), Height: jsii.Number(6),
			}),
		},
		{
			g("Remediations by action and outcome", s.search(telemetry.MetricRemediations, "Sum", "Action", "Outcome")),
			g("Time to recover (s)",
				s.metric(telemetry.MetricTimeToRecover, "Average", "average", nil),
				s.metric(telemetry.MetricTimeToRecover, "Maximum", "maximum", nil)),
		},
		{
			g("Findings by priority", findings...),
			g("Events handled by kind", s.search(telemetry.MetricEventsHandled, "Sum", "Kind")),
		},
		{
			g("Events unhandled or malformed by source",
				s.search(telemetry.MetricEventsUnhandled, "Sum", "Source"),
				s.search(telemetry.MetricEventsMalformed, "Sum", "Source")),
			g("Notifications sent by kind", s.search(telemetry.MetricNotificationsSent, "Sum", "Kind")),
		},
		{
			g("Check duration by kind (ms, p90)", s.search(telemetry.MetricCheckDuration, "p90", "Kind")),
			g("Function errors", errs...),
		},
		{
			g("Function duration", durations...),
			g("Dead-letter queue depth", dlq...),
		},
		{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Suite alarms"), Alarms: &alarms, Width: jsii.Number(24),
		})},
	}
	rows := make([]*[]awscloudwatch.IWidget, len(widgets))
	for i := range widgets {
		rows[i] = &widgets[i]
	}
	s.VerificationDashboard = awscloudwatch.NewDashboard(s.Stack, jsii.String("VerificationDashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(*s.StackName() + "-Post-Deploy-Verification"),
		Widgets:       &rows,
	})
}

// application adds the application's alarm set (when Props.Application
// is set) and the System Health Overview and Application Performance
// dashboards (always; account-wide without an application).
func (s *Stack) application() error {
	prefix := *s.StackName() + "-"
	var alarms []awscloudwatch.IAlarm
	var target *monitoring.Target
	if t := s.Props.Application; t != nil {
		topics := make(map[notify.Kind]awssns.ITopic, len(s.Topics))
		for k, v := range s.Topics {
			topics[k] = v
		}
		set, err := monitoring.NewAlarmSet(s.Stack, "Application", monitoring.AlarmSetProps{Target: *t, Topics: topics})
		if err != nil {
			return err
		}
		s.AlarmSet = set
		alarms = set.Alarms()
		target = t
		prefix = t.Name + "-"
	}
	s.Dashboards = monitoring.NewDashboards(s.Stack, "Dashboards", monitoring.DashboardsProps{
		NamePrefix: prefix, Target: target, Alarms: alarms,
	})
	return s.deliveryDashboards(prefix)
}
