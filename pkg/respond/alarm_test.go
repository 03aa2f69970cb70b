package respond

import (
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// TestAlarmRunbookMatchesAlarm checks each pairing of an alarm family
// with the topic and the runbook respond gives it: the alarms
// infra/monitoring makes (high CPU, 5xx error rate, low free disk,
// sign-in anomaly), the usual AWS metrics of each family, and alarms of
// no known family. Each runbook's text must speak of what its alarms
// measure (the words in wantMeans), so a runbook never tells a person the
// wrong story — free storage for a status check, anomaly detection for a
// threshold, error rates for a queue.
func TestAlarmRunbookMatchesAlarm(t *testing.T) {
	metric := func(ns, name string) []contract.Metric {
		return []contract.Metric{{ID: "m1", Namespace: ns, MetricName: name}}
	}
	tests := []struct {
		name      string
		alarm     contract.Alarm
		kind      notify.Kind
		runbook   string
		wantMeans []string
	}{
		// infra/monitoring's alarm set.
		{"infra high CPU (EC2 CPUUtilization of an ASG)", contract.Alarm{Name: "prod-api-high-cpu", Metrics: metric("AWS/EC2", "CPUUtilization")},
			notify.HighCPU, notify.RunbookHighCPU, []string{"CPU", "80% for 5 minutes"}},
		{"infra 5xx error rate (metric math over ALB metrics)", contract.Alarm{Name: "prod-api-5xx-error-rate", Metrics: []contract.Metric{
			{ID: "rate", Expression: "IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)"},
			{ID: "requests", Namespace: "AWS/ApplicationELB", MetricName: "RequestCount"},
			{ID: "elb5xx", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_ELB_5XX_Count"},
			{ID: "target5xx", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count"},
		}}, notify.Application, notify.RunbookApplication, []string{"error rate", "5xx", "5% of requests for 5 minutes"}},
		{"infra low free disk (CWAgent disk_used_percent)", contract.Alarm{Name: "prod-api-low-free-disk", Metrics: metric("CWAgent", "disk_used_percent")},
			notify.Infrastructure, notify.RunbookStorage, []string{"disk", "20% free for 30 minutes"}},
		{"infra sign-in anomaly (anomaly detection band)", contract.Alarm{Name: "prod-api-sign-in-anomaly", Metrics: []contract.Metric{
			{ID: "ad1", Expression: "ANOMALY_DETECTION_BAND(m1, 2)"}, {ID: "m1", Namespace: "ProdApi", MetricName: "SignIns"},
		}}, notify.Security, notify.RunbookSecurityAlarm, []string{"Sign-in", "expected band", "2 standard deviations for 15 minutes"}},
		// Other families respond routes.
		{"ECS service CPU", contract.Alarm{Name: "prod-api-cpu-high", Metrics: metric("AWS/ECS", "CPUUtilization")},
			notify.HighCPU, notify.RunbookHighCPU, []string{"CPU"}},
		{"RDS free storage", contract.Alarm{Name: "orders-db-free-storage-low", Metrics: metric("AWS/RDS", "FreeStorageSpace")},
			notify.Infrastructure, notify.RunbookStorage, []string{"storage space"}},
		{"EBS burst balance", contract.Alarm{Name: "data-volume-burst", Metrics: metric("AWS/EBS", "BurstBalance")},
			notify.Infrastructure, notify.RunbookStorage, []string{"burst credits"}},
		{"EC2 instance status check", contract.Alarm{Name: "web-1-status", Metrics: metric("AWS/EC2", "StatusCheckFailed_Instance")},
			notify.Infrastructure, notify.RunbookInstanceHealth, []string{"status checks", "instance check"}},
		{"EC2 system status check", contract.Alarm{Name: "web-1-system", Metrics: metric("AWS/EC2", "StatusCheckFailed_System")},
			notify.Infrastructure, notify.RunbookInstanceHealth, []string{"system check"}},
		{"CWAgent memory", contract.Alarm{Name: "web-mem", Metrics: metric("CWAgent", "mem_used_percent")},
			notify.Infrastructure, notify.RunbookMemory, []string{"used memory"}},
		{"RDS freeable memory", contract.Alarm{Name: "orders-db-mem", Metrics: metric("AWS/RDS", "FreeableMemory")},
			notify.Infrastructure, notify.RunbookMemory, []string{"freeable memory"}},
		{"Lambda errors", contract.Alarm{Name: "checkout-errors", Metrics: metric("AWS/Lambda", "Errors")},
			notify.Application, notify.RunbookApplication, []string{"error rate"}},
		{"ALB latency", contract.Alarm{Name: "prod-api-p99", Metrics: metric("AWS/ApplicationELB", "TargetResponseTime")},
			notify.Application, notify.RunbookApplication, []string{"latency"}},
		{"CIS unauthorized API calls (metric filter, threshold)", contract.Alarm{Name: "cis-3.1", Metrics: metric("CISBenchmark", "UnauthorizedAPICalls")},
			notify.Security, notify.RunbookSecurityAlarm, []string{"above a threshold", "unauthorized"}},
		// No known family: the generic runbook, which claims nothing.
		{"SQS queue age", contract.Alarm{Name: "orders-queue-age", Metrics: metric("AWS/SQS", "ApproximateAgeOfOldestMessage")},
			notify.Application, notify.RunbookAlarm, []string{"its description and reason"}},
		{"composite alarm named for CPU", contract.Alarm{Name: "prod-api-cpu-and-latency", Composite: true, Rule: "ALARM(a) AND ALARM(b)"},
			notify.HighCPU, notify.RunbookHighCPU, []string{"CPU"}},
		{"composite alarm of no known family", contract.Alarm{Name: "prod-api-degraded", Composite: true, Rule: "ALARM(a) OR ALARM(b)"},
			notify.Application, notify.RunbookAlarm, []string{"its description and reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, runbook := alarmKind(tt.alarm)
			if kind != tt.kind || runbook != tt.runbook {
				t.Fatalf("alarmKind(%s) = %s, %s; want %s, %s", tt.alarm.Name, kind, runbook, tt.kind, tt.runbook)
			}
			rb, ok := notify.Runbooks[runbook]
			if !ok {
				t.Fatalf("runbook %q is not in notify.Runbooks", runbook)
			}
			for _, w := range tt.wantMeans {
				if !strings.Contains(strings.ToLower(rb.Means), strings.ToLower(w)) {
					t.Errorf("runbook %s says %q; want it to speak of %q for %s", runbook, rb.Means, w, tt.name)
				}
			}
		})
	}
}
