package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Alarm states CloudWatch reports.
const (
	StateAlarm            = "ALARM"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// The EventBridge event CloudWatch sends on every alarm state change.
// Documented in "Alarm events and EventBridge" (Amazon CloudWatch User
// Guide, cloudwatch-and-eventbridge.html); aws-lambda-go has no type for
// its detail, so AlarmStateChangeDetail is it.
const (
	AlarmSource                = "aws.cloudwatch"
	DetailTypeAlarmStateChange = "CloudWatch Alarm State Change"
)

// ErrNotAlarm marks a message that is not a CloudWatch alarm state change
// at all (a subscription confirmation, another service's event): it is
// skipped, not a failure.
var ErrNotAlarm = errors.New("not a CloudWatch alarm state change")

// Alarm is one alarm state change, from SNS or EventBridge alike.
type Alarm struct {
	Name, ARN, AccountID, Region string
	NewState, OldState, Reason   string
	// Namespace, MetricName and Dimensions are the alarm's metric; for a
	// metric-math alarm, of its single metric if it has one, and
	// Dimensions holds every dimension on which its metrics agree.
	Namespace, MetricName string
	Dimensions            map[string]string
	// Timestamp is when the state changed: with the ARN and new state
	// it identifies the change (the idempotency key).
	Timestamp time.Time
	// Metrics are the alarm's metric data queries (one for a simple
	// alarm; several, and expressions, for metric math).
	Metrics []Metric
	// Composite is set for composite alarms, with their rule.
	Composite bool
	Rule      string
	// Description is the alarm's description, when the event carried it
	// (EventBridge does; SNS notifications have AlarmDescription).
	Description string
	// Tags are the alarm's tags when the event carried them
	// (EventBridge tag propagation); nil means unknown, and the engine
	// fetches them if a rule needs them.
	Tags map[string]string
}

// Metric is one metric (or expression) an alarm evaluates.
type Metric struct {
	ID, Expression, Label string
	Namespace, MetricName string
	Dimensions            map[string]string
	// Stat and Period are the metric's statistic and period in seconds,
	// when the notification carried them.
	Stat   string
	Period int
}

// StateChangeKey is the idempotency key of the state change: the same
// change delivered twice, or through SNS and EventBridge both, has the
// same key; a later change of the same alarm has another.
func (a Alarm) StateChangeKey() string {
	return a.ARN + "#" + a.NewState + "#" + a.Timestamp.UTC().Format(time.RFC3339Nano)
}

// timeLayouts are the formats CloudWatch writes state change times in:
// "2019-10-02T17:04:40.985+0000" in SNS and EventBridge details.
var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2019-10-02T17:04:40.985+0000", s)
}

// arnParts returns the region and account of an alarm ARN
// (arn:aws:cloudwatch:us-east-1:123456789012:alarm:name).
func arnParts(arn string) (region, account string, ok bool) {
	p := strings.SplitN(arn, ":", 7)
	if len(p) != 7 || p[0] != "arn" || p[1] == "" || p[2] != "cloudwatch" || p[3] == "" || p[4] == "" || p[5] != "alarm" || p[6] == "" {
		return "", "", false
	}
	return p[3], p[4], true
}

func validState(s string) bool {
	return s == StateAlarm || s == StateOK || s == StateInsufficientData
}

func (a *Alarm) check(src string) error {
	var missing []string
	if a.Name == "" {
		missing = append(missing, "alarm name")
	}
	if a.ARN == "" {
		missing = append(missing, "alarm ARN")
	}
	if a.Timestamp.IsZero() {
		missing = append(missing, "state change time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s alarm %q: missing %s", src, a.Name, strings.Join(missing, ", "))
	}
	if y := a.Timestamp.Year(); y < 2000 || y > 9999 {
		return fmt.Errorf("%s alarm %q: state change time %s is not plausible", src, a.Name, a.Timestamp.Format(time.RFC3339))
	}
	if !validState(a.NewState) {
		return fmt.Errorf("%s alarm %q: unknown new state %q (want ALARM, OK or INSUFFICIENT_DATA)", src, a.Name, a.NewState)
	}
	region, account, ok := arnParts(a.ARN)
	if !ok {
		return fmt.Errorf("%s alarm %q: %q is not a CloudWatch alarm ARN", src, a.Name, a.ARN)
	}
	// SNS carries the region's display name ("US East (N. Virginia)"):
	// the ARN has the code the SDK needs.
	a.Region = region
	if a.AccountID == "" {
		a.AccountID = account
	}
	return nil
}

// summarise fills Namespace, MetricName and Dimensions from Metrics.
func (a *Alarm) summarise() {
	var stats []Metric
	for _, m := range a.Metrics {
		if m.MetricName != "" {
			stats = append(stats, m)
		}
	}
	if len(stats) == 0 {
		return
	}
	if a.MetricName == "" && len(stats) == 1 {
		a.Namespace, a.MetricName = stats[0].Namespace, stats[0].MetricName
	}
	if a.Dimensions != nil {
		return
	}
	// Dimensions every metric agrees on: a math alarm over one
	// service's errors and requests still names the service.
	dims := maps.Clone(stats[0].Dimensions)
	for _, m := range stats[1:] {
		for k, v := range dims {
			if m.Dimensions[k] != v {
				delete(dims, k)
			}
		}
	}
	if len(dims) > 0 {
		a.Dimensions = dims
	}
}

func dimMap(ds []events.CloudWatchDimension) map[string]string {
	if len(ds) == 0 {
		return nil
	}
	m := make(map[string]string, len(ds))
	for _, d := range ds {
		m[d.Name] = d.Value
	}
	return m
}

// AlarmFromSNS converts the alarm notification CloudWatch publishes to
// SNS. Composite alarms are recognised by DecodeSNSMessage, which sees
// their AlarmRule; from the typed payload alone, an alarm with neither a
// metric nor metrics is taken as composite.
func AlarmFromSNS(p events.CloudWatchAlarmSNSPayload) (Alarm, error) {
	a := Alarm{
		Name: p.AlarmName, ARN: p.AlarmARN, AccountID: p.AWSAccountID,
		NewState: p.NewStateValue, OldState: p.OldStateValue, Reason: p.NewStateReason,
		Description: p.AlarmDescription,
		Namespace:   p.Trigger.Namespace, MetricName: p.Trigger.MetricName,
		Dimensions: dimMap(p.Trigger.Dimensions),
	}
	if p.StateChangeTime != "" {
		t, err := parseTime(p.StateChangeTime)
		if err != nil {
			return Alarm{}, fmt.Errorf("SNS alarm %q: StateChangeTime: %w", p.AlarmName, err)
		}
		a.Timestamp = t
	}
	if a.MetricName != "" {
		a.Metrics = []Metric{{Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions, Stat: p.Trigger.Statistic, Period: int(p.Trigger.Period)}}
	}
	for _, q := range p.Trigger.Metrics {
		a.Metrics = append(a.Metrics, Metric{
			ID: q.ID, Expression: q.Expression, Label: q.Label,
			Namespace: q.MetricStat.Metric.Namespace, MetricName: q.MetricStat.Metric.MetricName,
			Dimensions: dimMap(q.MetricStat.Metric.Dimensions),
			Stat:       q.MetricStat.Stat, Period: int(q.MetricStat.Period),
		})
	}
	a.Composite = len(a.Metrics) == 0
	if err := a.check("SNS"); err != nil {
		return Alarm{}, err
	}
	a.summarise()
	return a, nil
}

// snsExtra holds the fields of a composite alarm's SNS notification that
// the typed payload lacks.
type snsExtra struct {
	AlarmRule *string `json:"AlarmRule"`
}

// DecodeSNSMessage decodes one SNS record's Message. It returns
// ErrNotAlarm (wrapped) for JSON that is not an alarm notification, and
// another error for malformed JSON or an alarm it cannot use.
func DecodeSNSMessage(msg string) (Alarm, error) {
	var p events.CloudWatchAlarmSNSPayload
	if err := json.Unmarshal([]byte(msg), &p); err != nil {
		return Alarm{}, fmt.Errorf("decode SNS message as a CloudWatch alarm: %w", err)
	}
	if p.AlarmName == "" && p.AlarmARN == "" && p.NewStateValue == "" {
		return Alarm{}, fmt.Errorf("SNS message: %w (no AlarmName, AlarmArn or NewStateValue)", ErrNotAlarm)
	}
	a, err := AlarmFromSNS(p)
	if err != nil {
		return Alarm{}, err
	}
	var x snsExtra
	if json.Unmarshal([]byte(msg), &x) == nil && x.AlarmRule != nil {
		a.Composite, a.Rule = true, *x.AlarmRule
	}
	return a, nil
}

// AlarmStateChangeDetail is the detail of an EventBridge "CloudWatch
// Alarm State Change" event, as the CloudWatch User Guide's "Alarm events
// and EventBridge" page documents it (metric, metric-math and composite
// alarms).
type AlarmStateChangeDetail struct {
	AlarmName     string     `json:"alarmName"`
	State         AlarmState `json:"state"`
	PreviousState AlarmState `json:"previousState"`
	Configuration struct {
		Description string  `json:"description"`
		AlarmRule   *string `json:"alarmRule"`
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
	AlarmTags map[string]string `json:"alarmTags"`
}

// AlarmState is one side of an AlarmStateChangeDetail.
type AlarmState struct {
	Value     string `json:"value"`
	Reason    string `json:"reason"`
	Timestamp string `json:"timestamp"`
}

// AlarmFromEventBridge converts an EventBridge "CloudWatch Alarm State
// Change" event; any other detail-type is ErrNotAlarm.
func AlarmFromEventBridge(ev events.EventBridgeEvent) (Alarm, error) {
	if ev.Source != AlarmSource || ev.DetailType != DetailTypeAlarmStateChange {
		return Alarm{}, fmt.Errorf("EventBridge event %q from %q: %w", ev.DetailType, ev.Source, ErrNotAlarm)
	}
	var d AlarmStateChangeDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Alarm{}, fmt.Errorf("decode %q detail: %w", ev.DetailType, err)
	}
	a := Alarm{
		Name: d.AlarmName, AccountID: ev.AccountID,
		NewState: d.State.Value, OldState: d.PreviousState.Value, Reason: d.State.Reason,
		Tags: d.AlarmTags, Description: d.Configuration.Description,
	}
	for _, r := range ev.Resources {
		if _, _, ok := arnParts(r); ok {
			a.ARN = r
			break
		}
	}
	if d.State.Timestamp != "" {
		t, err := parseTime(d.State.Timestamp)
		if err != nil {
			return Alarm{}, fmt.Errorf("EventBridge alarm %q: detail.state.timestamp: %w", d.AlarmName, err)
		}
		a.Timestamp = t
	}
	for _, m := range d.Configuration.Metrics {
		q := Metric{ID: m.ID, Expression: m.Expression, Label: m.Label}
		if ms := m.MetricStat; ms != nil {
			q.Namespace, q.MetricName, q.Dimensions = ms.Metric.Namespace, ms.Metric.Name, ms.Metric.Dimensions
			q.Stat, q.Period = ms.Stat, ms.Period
		}
		a.Metrics = append(a.Metrics, q)
	}
	if d.Configuration.AlarmRule != nil {
		a.Composite, a.Rule = true, *d.Configuration.AlarmRule
	}
	if err := a.check("EventBridge"); err != nil {
		return Alarm{}, err
	}
	a.summarise()
	return a, nil
}
