package monitoring

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Target names what an application runs on, so the alarm set and the
// dashboards can find its metrics. Every part is optional; an alarm is
// made only for the parts that are set. The JSON names are the keys of
// the "application" CDK context value.
type Target struct {
	// Name prefixes the alarm and dashboard names, e.g. "shop".
	Name string `json:"name"`
	// AutoScalingGroup or InstanceID select the EC2 CPUUtilization
	// metric of the high-CPU alarm (AutoScalingGroupName or InstanceId
	// dimension). Set at most one.
	AutoScalingGroup string `json:"autoScalingGroup,omitempty"`
	InstanceID       string `json:"instanceId,omitempty"`
	// LoadBalancer is the Application Load Balancer's full name, the value
	// of its LoadBalancer dimension: "app/<name>/<id>".
	LoadBalancer string `json:"loadBalancer,omitempty"`
	// Disk holds the dimensions the CloudWatch agent publishes
	// disk_used_percent with, exactly (for example InstanceId, path,
	// device, fstype): a metric is only found when every dimension
	// matches.
	Disk map[string]string `json:"disk,omitempty"`
	// SignIns is the sign-in metric watched for anomalies.
	SignIns *MetricRef `json:"signIns,omitempty"`
}

// MetricRef names one CloudWatch metric.
type MetricRef struct {
	Namespace  string            `json:"namespace"`
	MetricName string            `json:"metricName"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Statistic defaults to "Sum".
	Statistic string `json:"statistic,omitempty"`
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	albPattern  = regexp.MustCompile(`^app/[^/]+/[^/]+$`)
)

// Validate reports every problem in t, each naming the field and the fix.
func (t Target) Validate() error {
	var errs []error
	if !namePattern.MatchString(t.Name) {
		errs = append(errs, fmt.Errorf("application.name=%q: must be 1–64 letters, digits, '-' or '_' (it prefixes alarm and dashboard names)", t.Name))
	}
	if t.AutoScalingGroup != "" && t.InstanceID != "" {
		errs = append(errs, errors.New("application.autoScalingGroup and application.instanceId: set one, not both (the high-CPU alarm watches one metric)"))
	}
	if t.InstanceID != "" && !strings.HasPrefix(t.InstanceID, "i-") {
		errs = append(errs, fmt.Errorf("application.instanceId=%q: must be an EC2 instance id such as i-0123456789abcdef0", t.InstanceID))
	}
	if t.LoadBalancer != "" && !albPattern.MatchString(t.LoadBalancer) {
		errs = append(errs, fmt.Errorf("application.loadBalancer=%q: must be the ALB's full name app/<name>/<id> (the LoadBalancer dimension, not the ARN)", t.LoadBalancer))
	}
	for k, v := range t.Disk {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("application.disk[%q]=%q: dimension names and values must not be empty", k, v))
		}
	}
	if m := t.SignIns; m != nil {
		if m.Namespace == "" {
			errs = append(errs, errors.New("application.signIns.namespace: required, e.g. \"Shop\""))
		}
		if m.MetricName == "" {
			errs = append(errs, errors.New("application.signIns.metricName: required, e.g. \"SignIns\""))
		}
	}
	if !t.hasAny() {
		errs = append(errs, errors.New("application: set at least one of autoScalingGroup, instanceId, loadBalancer, disk or signIns"))
	}
	return errors.Join(errs...)
}

func (t Target) hasAny() bool {
	return t.AutoScalingGroup != "" || t.InstanceID != "" || t.LoadBalancer != "" || len(t.Disk) > 0 || t.SignIns != nil
}
