package monitoring

import (
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// The team's alarm thresholds. Periods × evaluation periods give the
// "for N minutes" of each rule.
const (
	// CPUThresholdPercent: CPUUtilization above 80% ...
	CPUThresholdPercent = 80
	// CPUPeriodMinutes ... for one 5-minute period.
	CPUPeriodMinutes = 5
	// ErrorRateThresholdPercent: 5xx responses above 5% of requests ...
	ErrorRateThresholdPercent = 5
	// ErrorRatePeriodMinutes ... for one 5-minute period.
	ErrorRatePeriodMinutes = 5
	// DiskFreeThresholdPercent: free disk below 20%, i.e.
	// disk_used_percent above 80% ...
	DiskFreeThresholdPercent = 20
	// DiskPeriodMinutes and DiskEvaluationPeriods: ... for 6 × 5 = 30 minutes.
	DiskPeriodMinutes     = 5
	DiskEvaluationPeriods = 6
	// SignInStdDevs: sign-ins outside a band of 2 standard deviations ...
	SignInStdDevs = 2
	// SignInPeriodMinutes and SignInEvaluationPeriods: ... for 3 × 5 = 15 minutes.
	SignInPeriodMinutes     = 5
	SignInEvaluationPeriods = 3
)

// ErrorRateExpression is the metric math of the 5xx error rate alarm, in
// percent: the load balancer's own and its targets' 5xx responses over
// every request, 0 when there is no traffic.
//
// "Every request" is RequestCount plus the load balancer's 503s:
// RequestCount "is only incremented for requests where the load balancer
// node was able to choose a target. Requests that are rejected before a
// target is chosen are not reflected in this metric" (Elastic Load
// Balancing, "CloudWatch metrics for your Application Load Balancer"),
// and a load balancer with no healthy or no registered targets answers
// 503 before choosing one (HTTPCode_ELB_503_Count). Divided by
// RequestCount alone, an outage where every request is refused that way
// reads as no traffic and the alarm never fires. ELB 502 and 504 come
// after a target was chosen and are in RequestCount already.
const ErrorRateExpression = "IF((FILL(requests, 0) + FILL(elb503, 0)) > 0, " +
	"100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / (FILL(requests, 0) + FILL(elb503, 0)), 0)"

// actionable is the part of an alarm that takes actions.
type actionable interface {
	AddAlarmAction(actions ...awscloudwatch.IAlarmAction)
	AddOkAction(actions ...awscloudwatch.IAlarmAction)
}

// AlarmSetProps configures NewAlarmSet.
type AlarmSetProps struct {
	Target Target
	// Topics maps alert kinds to their topics; the set needs HighCPU,
	// Application, Infrastructure and Security for the alarms it makes.
	Topics map[notify.Kind]awssns.ITopic
}

// AlarmSet is the team's standard alarms for one application. An alarm
// is nil when its part of the Target is not set.
type AlarmSet struct {
	constructs.Construct
	CPU       awscloudwatch.Alarm
	ErrorRate awscloudwatch.Alarm
	Disk      awscloudwatch.Alarm
	SignIns   awscloudwatch.AnomalyDetectionAlarm
}

// Alarms lists the alarms that were made.
func (a *AlarmSet) Alarms() []awscloudwatch.IAlarm {
	var out []awscloudwatch.IAlarm
	if a.CPU != nil {
		out = append(out, a.CPU)
	}
	if a.ErrorRate != nil {
		out = append(out, a.ErrorRate)
	}
	if a.Disk != nil {
		out = append(out, a.Disk)
	}
	if a.SignIns != nil {
		out = append(out, a.SignIns)
	}
	return out
}

// NewAlarmSet makes the alarms for p.Target, each notifying (on ALARM and
// on OK) the topic of its alert kind.
func NewAlarmSet(scope constructs.Construct, id string, p AlarmSetProps) (*AlarmSet, error) {
	t := p.Target
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var missing []error
	need := func(k notify.Kind) {
		if p.Topics[k] == nil {
			missing = append(missing, fmt.Errorf("alarm set %q: no %s topic in AlarmSetProps.Topics", t.Name, k))
		}
	}
	if t.AutoScalingGroup != "" || t.InstanceID != "" {
		need(notify.HighCPU)
	}
	if t.LoadBalancer != "" {
		need(notify.Application)
	}
	if len(t.Disk) > 0 {
		need(notify.Infrastructure)
	}
	if t.SignIns != nil {
		need(notify.Security)
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}

	a := &AlarmSet{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	notifyOn := func(al actionable, k notify.Kind) {
		action := awscloudwatchactions.NewSnsAction(p.Topics[k])
		al.AddAlarmAction(action)
		al.AddOkAction(action)
	}

	if m := CPUMetric(t); m != nil {
		a.CPU = awscloudwatch.NewAlarm(a.Construct, jsii.String("HighCpu"), &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(t.Name + "-high-cpu"),
			AlarmDescription: jsii.String(fmt.Sprintf(
				"%s: average EC2 CPUUtilization (%s) was above %d%% for %d minutes. "+
					"Check for a runaway process or a traffic surge; scale out or roll back the last deployment.",
				t.Name, cpuSubject(t), CPUThresholdPercent, CPUPeriodMinutes)),
			Metric:             m,
			Threshold:          jsii.Number(CPUThresholdPercent),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
		notifyOn(a.CPU, notify.HighCPU)
	}

	if e := ErrorRate(t); e != nil {
		a.ErrorRate = awscloudwatch.NewAlarm(a.Construct, jsii.String("ErrorRate"), &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(t.Name + "-5xx-error-rate"),
			AlarmDescription: jsii.String(fmt.Sprintf(
				"%s: HTTP 5xx responses (load balancer %s and its targets) were above %d%% of requests for %d minutes, "+
					"counting requests the load balancer refused with 503 before choosing a target (no healthy targets). "+
					"Look at the target group's health, the targets' logs and the last deployment; roll back if it started with a release.",
				t.Name, t.LoadBalancer, ErrorRateThresholdPercent, ErrorRatePeriodMinutes)),
			Metric:             e,
			Threshold:          jsii.Number(ErrorRateThresholdPercent),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		notifyOn(a.ErrorRate, notify.Application)
	}

	if m := DiskMetric(t); m != nil {
		a.Disk = awscloudwatch.NewAlarm(a.Construct, jsii.String("LowFreeDisk"), &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(t.Name + "-low-free-disk"),
			AlarmDescription: jsii.String(fmt.Sprintf(
				"%s: free disk (%s) was below %d%% (disk_used_percent above %d%%) for %d minutes. "+
					"Clear old logs or artifacts, or grow the volume before it fills.",
				t.Name, dimString(t.Disk), DiskFreeThresholdPercent, 100-DiskFreeThresholdPercent, DiskPeriodMinutes*DiskEvaluationPeriods)),
			Metric:             m,
			Threshold:          jsii.Number(100 - DiskFreeThresholdPercent),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(DiskEvaluationPeriods),
			DatapointsToAlarm:  jsii.Number(DiskEvaluationPeriods),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
		notifyOn(a.Disk, notify.Infrastructure)
	}

	if m := SignInMetric(t); m != nil {
		a.SignIns = awscloudwatch.NewAnomalyDetectionAlarm(a.Construct, jsii.String("SignInAnomaly"), &awscloudwatch.AnomalyDetectionAlarmProps{
			AlarmName: jsii.String(t.Name + "-sign-in-anomaly"),
			AlarmDescription: jsii.String(fmt.Sprintf(
				"%s: sign-ins (%s/%s) were outside the expected band of %d standard deviations for %d minutes. "+
					"A spike may be credential stuffing, a drop a broken login: check the auth logs and WAF.",
				t.Name, t.SignIns.Namespace, t.SignIns.MetricName, SignInStdDevs, SignInPeriodMinutes*SignInEvaluationPeriods)),
			Metric:             m,
			StdDevs:            jsii.Number(SignInStdDevs),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
			EvaluationPeriods:  jsii.Number(SignInEvaluationPeriods),
			DatapointsToAlarm:  jsii.Number(SignInEvaluationPeriods),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
		notifyOn(a.SignIns, notify.Security)
	}
	return a, nil
}

// CPUMetric is the EC2 CPUUtilization the high-CPU alarm watches, or nil.
// It has no label, so the alarm is a plain single-metric alarm whose SNS
// notification names the metric and its dimensions (remediate reads
// them to find the resource).
func CPUMetric(t Target) awscloudwatch.IMetric {
	var dims map[string]*string
	switch {
	case t.AutoScalingGroup != "":
		dims = map[string]*string{"AutoScalingGroupName": jsii.String(t.AutoScalingGroup)}
	case t.InstanceID != "":
		dims = map[string]*string{"InstanceId": jsii.String(t.InstanceID)}
	default:
		return nil
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/EC2"),
		MetricName:    jsii.String("CPUUtilization"),
		DimensionsMap: &dims,
		Statistic:     jsii.String("Average"),
		Period:        awscdk.Duration_Minutes(jsii.Number(CPUPeriodMinutes)),
	})
}

func cpuSubject(t Target) string {
	if t.AutoScalingGroup != "" {
		return "Auto Scaling group " + t.AutoScalingGroup
	}
	return "instance " + t.InstanceID
}

// albMetric is one AWS/ApplicationELB metric of t's load balancer.
func albMetric(t Target, name, stat, label string, period int) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ApplicationELB"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"LoadBalancer": jsii.String(t.LoadBalancer)},
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Minutes(jsii.Number(period)),
		Label:         jsii.String(label),
	})
}

// ErrorRate is the 5xx error-rate metric math over t's load balancer, or nil.
func ErrorRate(t Target) awscloudwatch.IMetric {
	if t.LoadBalancer == "" {
		return nil
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(ErrorRateExpression),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"requests":  albMetric(t, "RequestCount", "Sum", "Requests", ErrorRatePeriodMinutes),
			"elb5xx":    albMetric(t, "HTTPCode_ELB_5XX_Count", "Sum", "Load balancer 5xx", ErrorRatePeriodMinutes),
			"elb503":    albMetric(t, "HTTPCode_ELB_503_Count", "Sum", "Load balancer 503 (no target chosen)", ErrorRatePeriodMinutes),
			"target5xx": albMetric(t, "HTTPCode_Target_5XX_Count", "Sum", "Target 5xx", ErrorRatePeriodMinutes),
		},
		Label:  jsii.String("5xx error rate (%)"),
		Period: awscdk.Duration_Minutes(jsii.Number(ErrorRatePeriodMinutes)),
	})
}

// DiskMetric is the CloudWatch agent's disk_used_percent for t, or nil.
func DiskMetric(t Target) awscloudwatch.IMetric {
	if len(t.Disk) == 0 {
		return nil
	}
	dims := make(map[string]*string, len(t.Disk))
	for k, v := range t.Disk {
		dims[k] = jsii.String(v)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("CWAgent"),
		MetricName:    jsii.String("disk_used_percent"),
		DimensionsMap: &dims,
		Statistic:     jsii.String("Average"),
		Period:        awscdk.Duration_Minutes(jsii.Number(DiskPeriodMinutes)),
	})
}

// SignInMetric is t's sign-in metric, or nil.
func SignInMetric(t Target) awscloudwatch.IMetric {
	m := t.SignIns
	if m == nil {
		return nil
	}
	stat := m.Statistic
	if stat == "" {
		stat = "Sum"
	}
	dims := make(map[string]*string, len(m.Dimensions))
	for k, v := range m.Dimensions {
		dims[k] = jsii.String(v)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(m.Namespace),
		MetricName:    jsii.String(m.MetricName),
		DimensionsMap: &dims,
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Minutes(jsii.Number(SignInPeriodMinutes)),
		Label:         jsii.String("Sign-ins"),
	})
}

func dimString(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k + "=" + d[k]
	}
	return s
}
