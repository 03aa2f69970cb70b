package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// alarmDetail is the detail of a "CloudWatch Alarm State Change" event
// (aws-lambda-go has no type for it).
type alarmDetail struct {
	AlarmName     string     `json:"alarmName"`
	State         alarmState `json:"state"`
	PreviousState alarmState `json:"previousState"`
	Configuration struct {
		Description string `json:"description"`
		Metrics     []struct {
			ID         string `json:"id"`
			Expression string `json:"expression"`
			Label      string `json:"label"`
			MetricStat *struct {
				Metric struct {
					Namespace  string            `json:"namespace"`
					Name       string            `json:"name"`
					Dimensions map[string]string `json:"dimensions"`
				} `json:"metric"`
				Period int    `json:"period"`
				Stat   string `json:"stat"`
			} `json:"metricStat"`
		} `json:"metrics"`
	} `json:"configuration"`
}

type alarmState struct {
	Value     string `json:"value"`
	Reason    string `json:"reason"`
	Timestamp string `json:"timestamp"`
}

func (h *Handler) alarm(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	var d alarmDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return badDetail(ev, "detail", err)
	}
	if d.AlarmName == "" {
		return badDetail(ev, "detail.alarmName", errors.New("missing"))
	}
	switch d.State.Value {
	case "ALARM", "OK", "INSUFFICIENT_DATA":
	default:
		return badDetail(ev, "detail.state.value", fmt.Errorf("%q is not ALARM, OK or INSUFFICIENT_DATA", d.State.Value))
	}
	log = log.With("alarm", d.AlarmName, "state", d.State.Value)

	if d.State.Value == "INSUFFICIENT_DATA" || (d.State.Value == "OK" && d.PreviousState.Value != "ALARM") {
		log.InfoContext(ctx, "alarm state change needs no notification")
		return nil
	}
	// EventBridge delivers at least once: one notification per transition.
	key := "notify#alarm#" + d.AlarmName + "#" + d.State.Value + "#" + firstNonEmpty(d.State.Timestamp, ev.ID)
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "alarm", "alarm": d.AlarmName, "state": d.State.Value}, log) {
		log.InfoContext(ctx, "alarm transition already handled")
		return nil
	}
	// The engine applies its own safety layer (dry run, cooldown, rate
	// limit, idempotency); respond reports what it did.
	var remediation string
	if h.Remediator != nil {
		out, err := h.Remediator.Remediate(ctx, ev)
		switch {
		case err != nil:
			remediation = "automatic remediation failed: " + err.Error()
			log.ErrorContext(ctx, "remediation failed", "error", err.Error())
		case out != "":
			remediation = "automatic remediation: " + out
		}
	}
	kind, runbook := alarmKind(d)
	a := notify.Alert{
		Kind:       kind,
		Service:    d.AlarmName,
		Event:      ev.DetailType,
		ThreadID:   "alarm-" + d.AlarmName,
		Resources:  ev.Resources,
		Attributes: map[string]string{"alarm": d.AlarmName},
		Where:      fmt.Sprintf("alarm %s, account %s, %s", d.AlarmName, ev.AccountID, ev.Region),
		Links:      []notify.Link{{Label: "Alarm", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#alarmsV2:alarm/%s", ev.Region, ev.Region, pathEscape(d.AlarmName))}},
	}
	if d.State.Value == "OK" {
		a.Severity = "INFO"
		a.Title = fmt.Sprintf("Resolved: %s is OK again", d.AlarmName)
		a.What = fmt.Sprintf("Alarm %s returned to OK from ALARM.", d.AlarmName)
		a.Why = "The condition that raised the alarm has cleared; nothing to do unless it flaps."
		a.Evidence = []string{"Reason: " + d.State.Reason}
		return h.send(ctx, a, key, log)
	}
	a.Severity = "HIGH"
	a.Title = fmt.Sprintf("ALARM: %s", d.AlarmName)
	a.What = fmt.Sprintf("CloudWatch alarm %s went from %s to ALARM.", d.AlarmName, orDash(d.PreviousState.Value))
	if d.Configuration.Description != "" {
		a.What += " " + strings.TrimSuffix(d.Configuration.Description, ".") + "."
	}
	a.Evidence = append(a.Evidence, "Reason: "+d.State.Reason)
	for _, m := range d.Configuration.Metrics {
		switch {
		case m.Expression != "":
			a.Evidence = append(a.Evidence, fmt.Sprintf("Expression %s = %s", m.ID, m.Expression))
		case m.MetricStat != nil:
			ms := m.MetricStat
			a.Evidence = append(a.Evidence, fmt.Sprintf("Metric %s %s/%s%s, %s over %ds", m.ID, ms.Metric.Namespace, ms.Metric.Name, dims(ms.Metric.Dimensions), ms.Stat, ms.Period))
		}
	}
	if remediation != "" {
		a.Evidence = append(a.Evidence, strings.ToUpper(remediation[:1])+remediation[1:])
	}
	a.Apply(h.RunbookBaseURL, runbook)
	return h.send(ctx, a, key, log)
}

// alarmKind routes an alarm to its topic by what it measures: CPU to
// High CPU, capacity and health of infrastructure to Infrastructure,
// activity anomalies to Security, anything else to Application.
func alarmKind(d alarmDetail) (notify.Kind, string) {
	text := strings.ToLower(d.AlarmName + " " + d.Configuration.Description)
	var names []string
	for _, m := range d.Configuration.Metrics {
		if m.MetricStat != nil {
			names = append(names, strings.ToLower(m.MetricStat.Metric.Namespace+"/"+m.MetricStat.Metric.Name))
		}
	}
	metrics := strings.Join(names, " ")
	switch {
	case strings.Contains(metrics, "cpuutilization") || strings.Contains(metrics, "cpu_usage") || strings.Contains(text, "cpu"):
		return notify.HighCPU, notify.RunbookHighCPU
	case strings.Contains(text, "security") || strings.Contains(text, "login") || strings.Contains(text, "unauthorized"):
		return notify.Security, notify.RunbookSecurityAlarm
	case containsAny(metrics, "freestorage", "disk", "volume", "statuscheck", "mem_used", "memoryutilization", "burstbalance", "freeablememory"):
		return notify.Infrastructure, notify.RunbookInfrastructure
	}
	return notify.Application, notify.RunbookApplication
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func dims(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
