package respond

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// MetricSuiteAlarmsNotRouted counts state changes of the suite's own
// alarms that respond left to their alarm actions (dimension Alarm).
const MetricSuiteAlarmsNotRouted = "SuiteAlarmsNotRouted"

// SuiteAlarms are the suite's own alarms (infra/stack suiteAlarms: each
// function's errors, throttles and dead letters). Their alarm and OK
// actions notify the escalation topic themselves — deliberately, so that
// a broken respond still pages — and respond's alarm rule keeps them out
// (infra/stack rules.go). When one reaches respond anyway, respond leaves
// it to its actions instead of paging the application topic with the
// application runbook.
type SuiteAlarms struct {
	// Prefix starts their names (config.EnvSuiteAlarmPrefix); "" treats
	// every alarm alike.
	Prefix string
	// Escalation is the escalation topic's ARN.
	Escalation string
}

// leftToItsActions reports whether d is one of the suite's own alarms
// whose action for its new state notifies the escalation topic. The name
// alone is not enough: CloudWatch must confirm it (DescribeAlarms, CloudWatch
// API Reference: AlarmArn, AlarmActions, OKActions), for this very alarm
// (its ARN: account, region and name), so an application alarm that
// happens to share the prefix, or a member account's alarm of the same
// name, is still paged. When CloudWatch cannot confirm it, respond pages:
// a duplicate page beats none.
func (h *Handler) leftToItsActions(ctx context.Context, d contract.Alarm, log *slog.Logger) (string, bool) {
	s := h.SuiteAlarms
	if s.Prefix == "" || !strings.HasPrefix(d.Name, s.Prefix) {
		return "", false
	}
	if h.Alarms == nil || s.Escalation == "" || d.ARN == "" {
		log.WarnContext(ctx, "alarm named like the suite's own, but respond cannot confirm its alarm action (no CloudWatch client, escalation topic or alarm ARN): notifying it")
		return "", false
	}
	out, err := h.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{d.Name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		log.WarnContext(ctx, "alarm named like the suite's own: reading its actions failed, notifying it", "error", err.Error())
		return "", false
	}
	var arn string
	var actions []string
	for _, m := range out.MetricAlarms {
		arn, actions = aws.ToString(m.AlarmArn), m.AlarmActions
		if d.NewState == contract.StateOK {
			actions = m.OKActions
		}
	}
	for _, c := range out.CompositeAlarms {
		arn, actions = aws.ToString(c.AlarmArn), c.AlarmActions
		if d.NewState == contract.StateOK {
			actions = c.OKActions
		}
	}
	if arn != d.ARN || !slices.Contains(actions, s.Escalation) {
		log.InfoContext(ctx, "alarm named like the suite's own, but CloudWatch shows no action of it notifying the escalation topic: notifying it",
			"describedArn", arn, "actions", strings.Join(actions, ","))
		return "", false
	}
	return s.Escalation, true
}

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
	// The suite's own alarms page the escalation topic through their
	// alarm actions; respond neither pages them again nor hands them to
	// the remediation engine (the suite never tries to fix itself).
	if topic, ok := h.leftToItsActions(ctx, d, log); ok {
		log.InfoContext(ctx, "suite alarm not notified again: its own alarm action notifies the escalation topic", "topic", topic)
		h.Metrics.Emit(map[string]string{"Alarm": d.Name}, telemetry.Value{Name: MetricSuiteAlarmsNotRouted, Unit: telemetry.UnitCount, Value: 1})
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

// alarmClass is a family of alarms: the topic they go to and the
// runbook whose text describes them.
type alarmClass struct {
	kind    notify.Kind
	runbook string
	// metrics are fragments of "namespace/metricname" (lower case) that
	// identify the family; text, fragments of the alarm's name and
	// description, used when the alarm names no metric (a composite).
	metrics, text []string
}

// alarmClasses in order of precedence. Each runbook's text must hold for
// every alarm of its class (TestAlarmRunbookMatchesAlarm checks each
// pairing against the alarms infra/monitoring makes and the usual AWS
// metrics).
var alarmClasses = []alarmClass{
	{notify.HighCPU, notify.RunbookHighCPU, []string{"/cpuutilization", "/cpu_usage"}, []string{"cpu"}},
	{notify.Security, notify.RunbookSecurityAlarm, []string{"login", "signin", "sign_in", "sign-in", "unauthorized", "authfailure"},
		[]string{"security", "login", "sign-in", "signin", "unauthorized"}},
	{notify.Infrastructure, notify.RunbookStorage, []string{"disk_used", "disk_free", "diskspace", "freestoragespace", "freelocalstorage", "burstbalance"},
		[]string{"disk", "storage"}},
	{notify.Infrastructure, notify.RunbookInstanceHealth, []string{"statuscheckfailed"}, []string{"status-check", "status check"}},
	{notify.Infrastructure, notify.RunbookMemory, []string{"mem_used", "memoryutilization", "freeablememory", "memory"}, []string{"memory"}},
	{notify.Application, notify.RunbookApplication, []string{"5xx", "error", "fault", "latency", "targetresponsetime", "/duration"},
		[]string{"5xx", "error", "latency"}},
}

// alarmKind routes an alarm to its topic and runbook by what it measures
// (its metrics), or, for an alarm that names none, by its name and
// description. An alarm of no known family goes to Application with the
// generic alarm runbook, whose text claims nothing it cannot know.
func alarmKind(d contract.Alarm) (notify.Kind, string) {
	var names []string
	for _, m := range d.Metrics {
		if m.MetricName != "" {
			names = append(names, strings.ToLower(m.Namespace+"/"+m.MetricName))
		}
	}
	if d.MetricName != "" {
		names = append(names, strings.ToLower(d.Namespace+"/"+d.MetricName))
	}
	if metrics := strings.Join(names, " "); metrics != "" {
		for _, c := range alarmClasses {
			if containsAny(metrics, c.metrics...) {
				return c.kind, c.runbook
			}
		}
		return notify.Application, notify.RunbookAlarm
	}
	text := strings.ToLower(d.Name + " " + d.Description)
	for _, c := range alarmClasses {
		if containsAny(text, c.text...) {
			return c.kind, c.runbook
		}
	}
	return notify.Application, notify.RunbookAlarm
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
