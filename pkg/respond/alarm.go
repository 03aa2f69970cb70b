package respond

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

func (h *Handler) alarm(ctx context.Context, ev events.EventBridgeEvent, log *slog.Logger) error {
	// Decoded once, here; the remediation engine gets the same Alarm.
	d, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		return badDetail(ev, "detail", err)
	}
	log = log.With("alarm", d.Name, "state", d.NewState)

	if d.NewState == contract.StateInsufficientData || (d.NewState == contract.StateOK && d.OldState != contract.StateAlarm) {
		log.InfoContext(ctx, "alarm state change needs no notification")
		return nil
	}
	// EventBridge delivers at least once: one notification per transition.
	key := "notify#" + d.StateChangeKey()
	if !h.claim(ctx, key, h.window(), map[string]string{"kind": "alarm", "alarm": d.Name, "state": d.NewState}, log) {
		log.InfoContext(ctx, "alarm transition already handled")
		return nil
	}
	// The engine applies its own safety layer (dry run, cooldown, rate
	// limit, idempotency); respond reports what it did.
	var remediation string
	if h.Remediator != nil {
		out, err := h.Remediator.Remediate(ctx, d)
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
		Service:    d.Name,
		Event:      ev.DetailType,
		ThreadID:   "alarm-" + d.Name,
		Resources:  ev.Resources,
		Attributes: map[string]string{"alarm": d.Name},
		Where:      fmt.Sprintf("alarm %s, account %s, %s", d.Name, ev.AccountID, ev.Region),
		Links:      []notify.Link{{Label: "Alarm", URL: fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#alarmsV2:alarm/%s", ev.Region, ev.Region, pathEscape(d.Name))}},
	}
	if d.NewState == contract.StateOK {
		a.Severity = "INFO"
		a.Title = fmt.Sprintf("Resolved: %s is OK again", d.Name)
		a.What = fmt.Sprintf("Alarm %s returned to OK from ALARM.", d.Name)
		a.Why = "The condition that raised the alarm has cleared; nothing to do unless it flaps."
		a.Evidence = []string{"Reason: " + d.Reason}
		return h.send(ctx, a, key, log)
	}
	a.Severity = "HIGH"
	a.Title = fmt.Sprintf("ALARM: %s", d.Name)
	a.What = fmt.Sprintf("CloudWatch alarm %s went from %s to ALARM.", d.Name, orDash(d.OldState))
	if d.Description != "" {
		a.What += " " + strings.TrimSuffix(d.Description, ".") + "."
	}
	a.Evidence = append(a.Evidence, "Reason: "+d.Reason)
	for _, m := range d.Metrics {
		switch {
		case m.Expression != "":
			a.Evidence = append(a.Evidence, fmt.Sprintf("Expression %s = %s", m.ID, m.Expression))
		case m.MetricName != "":
			a.Evidence = append(a.Evidence, fmt.Sprintf("Metric %s %s/%s%s, %s over %ds", m.ID, m.Namespace, m.MetricName, dims(m.Dimensions), m.Stat, m.Period))
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
func alarmKind(d contract.Alarm) (notify.Kind, string) {
	text := strings.ToLower(d.Name + " " + d.Description)
	var names []string
	for _, m := range d.Metrics {
		if m.MetricName != "" {
			names = append(names, strings.ToLower(m.Namespace+"/"+m.MetricName))
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
