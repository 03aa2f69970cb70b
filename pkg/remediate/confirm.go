package remediate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// A message (an SNS notification, an EventBridge event) says which alarm
// to look at, never what is true: anyone who may publish to the topic or
// put events on the bus can write one. Before anything is decided, the
// engine reads the alarm from CloudWatch in its own account and region
// (DescribeAlarms by name, metric and composite alarms both) and decides
// on what CloudWatch says:
//
//   - the alarm must exist, and its ARN must be the one the message names:
//     DescribeAlarms answers for the caller's own account and region only,
//     so an alarm of another account or region, or a name that does not
//     match its ARN, is refused;
//   - the resources come from the alarm's own definition — its metric's
//     dimensions, the metrics of a metric-math alarm, or for a composite
//     alarm the definitions of the alarms its rule names, read from
//     CloudWatch too — never from the message;
//   - the alarm must be in the delivered state now (checked after rule
//     matching, see Engine.handleClaimed).
//
// The message keeps only what identifies the state change: the name, the
// ARN to compare, the new state and its time (the idempotency key).

// cloudWatchAlarm is one alarm as DescribeAlarms defines it.
type cloudWatchAlarm struct {
	name, arn, state, reason, description string
	// transitioned and updated are CloudWatch's StateTransitionedTimestamp
	// (the state value last changed) and StateUpdatedTimestamp (the state
	// last updated); zero when CloudWatch did not say.
	transitioned, updated time.Time
	composite             bool
	rule                  string // a composite alarm's AlarmRule
	metrics               []Metric
}

func fromMetricAlarm(m cwtypes.MetricAlarm) cloudWatchAlarm {
	c := cloudWatchAlarm{
		name: aws.ToString(m.AlarmName), arn: aws.ToString(m.AlarmArn), state: string(m.StateValue),
		reason: aws.ToString(m.StateReason), description: aws.ToString(m.AlarmDescription),
		transitioned: aws.ToTime(m.StateTransitionedTimestamp), updated: aws.ToTime(m.StateUpdatedTimestamp),
	}
	if aws.ToString(m.MetricName) != "" {
		stat := string(m.Statistic)
		if stat == "" {
			stat = aws.ToString(m.ExtendedStatistic)
		}
		c.metrics = []Metric{{Namespace: aws.ToString(m.Namespace), MetricName: aws.ToString(m.MetricName),
			Dimensions: cwDimensions(m.Dimensions), Stat: stat, Period: int(aws.ToInt32(m.Period))}}
	}
	account := arnAccount(c.arn)
	for _, q := range m.Metrics {
		// A query of another account's metric (cross-account
		// observability) names that account's resources, never ours.
		if id := aws.ToString(q.AccountId); id != "" && id != account {
			continue
		}
		x := Metric{ID: aws.ToString(q.Id), Expression: aws.ToString(q.Expression), Label: aws.ToString(q.Label)}
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			x.Namespace, x.MetricName = aws.ToString(ms.Metric.Namespace), aws.ToString(ms.Metric.MetricName)
			x.Dimensions, x.Stat, x.Period = cwDimensions(ms.Metric.Dimensions), aws.ToString(ms.Stat), int(aws.ToInt32(ms.Period))
		}
		c.metrics = append(c.metrics, x)
	}
	return c
}

func fromCompositeAlarm(m cwtypes.CompositeAlarm) cloudWatchAlarm {
	return cloudWatchAlarm{
		name: aws.ToString(m.AlarmName), arn: aws.ToString(m.AlarmArn), state: string(m.StateValue),
		reason: aws.ToString(m.StateReason), description: aws.ToString(m.AlarmDescription),
		transitioned: aws.ToTime(m.StateTransitionedTimestamp), updated: aws.ToTime(m.StateUpdatedTimestamp),
		composite: true, rule: aws.ToString(m.AlarmRule),
	}
}

func cwDimensions(ds []cwtypes.Dimension) map[string]string {
	if len(ds) == 0 {
		return nil
	}
	m := make(map[string]string, len(ds))
	for _, d := range ds {
		m[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

// arnFields splits an alarm ARN, arn:aws:cloudwatch:us-east-1:123456789012:alarm:name.
func arnFields(arn string) (region, account string) {
	p := strings.SplitN(arn, ":", 7)
	if len(p) != 7 {
		return "", ""
	}
	return p[3], p[4]
}

func arnAccount(arn string) string { _, a := arnFields(arn); return a }

// describeAlarms reads the named alarms (metric and composite) from
// CloudWatch, by name.
func (e *Engine) describeAlarms(ctx context.Context, names []string) (map[string]cloudWatchAlarm, error) {
	if e.Alarms == nil {
		return nil, errors.New("no CloudWatch client")
	}
	found := map[string]cloudWatchAlarm{}
	// DescribeAlarms takes at most 100 names per call.
	for batch := range slices.Chunk(names, 100) {
		p := cloudwatch.NewDescribeAlarmsPaginator(e.Alarms, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe alarms %s: %w", strings.Join(batch, ", "), err)
			}
			for _, m := range out.MetricAlarms {
				found[aws.ToString(m.AlarmName)] = fromMetricAlarm(m)
			}
			for _, c := range out.CompositeAlarms {
				found[aws.ToString(c.AlarmName)] = fromCompositeAlarm(c)
			}
		}
	}
	return found, nil
}

// confirm reads the alarm msg names from CloudWatch and returns it as
// CloudWatch defines it, with its state now (current). The returned
// alarm keeps the message's state change (NewState, OldState, Timestamp)
// and takes everything else from CloudWatch. refusal is non-empty when
// CloudWatch does not confirm the message; err when CloudWatch could not
// be read (the caller then lets Lambda retry: nothing is decided on the
// message alone).
func (e *Engine) confirm(ctx context.Context, msg Alarm) (a Alarm, current, refusal string, err error) {
	found, err := e.describeAlarms(ctx, []string{msg.Name})
	if err != nil {
		return Alarm{}, "", "", fmt.Errorf("read alarm %s from CloudWatch to confirm the message: %w", msg.Name, err)
	}
	def, ok := found[msg.Name]
	if !ok {
		return Alarm{}, "", fmt.Sprintf("CloudWatch has no alarm named %q in this function's account and region%s; a message about an alarm CloudWatch does not have is never acted on", msg.Name, e.regionNote()), nil
	}
	if def.arn != msg.ARN {
		return Alarm{}, "", fmt.Sprintf("the message names alarm ARN %s, but CloudWatch's alarm %q in this function's account and region is %s; an alarm of another account or region, or a name that does not match its ARN, is never acted on", msg.ARN, msg.Name, def.arn), nil
	}
	if def.state == msg.NewState && !sameStateChange(msg.Timestamp, def) {
		return Alarm{}, "", fmt.Sprintf("the message says alarm %q went %s at %s, but CloudWatch's last state change of it was at %s; a state change CloudWatch did not make is never acted on (and cannot pass for a new one)",
			msg.Name, msg.NewState, msg.Timestamp.UTC().Format(time.RFC3339Nano), def.transitioned.UTC().Format(time.RFC3339Nano)), nil
	}
	a = Alarm{
		Name: def.name, ARN: def.arn, NewState: msg.NewState, OldState: msg.OldState,
		Reason: def.reason, Description: def.description, Timestamp: msg.Timestamp,
		Composite: def.composite, Rule: def.rule, Metrics: def.metrics,
	}
	a.Region, a.AccountID = arnFields(def.arn)
	if def.composite {
		if a.Metrics, err = e.childMetrics(ctx, def); err != nil {
			return Alarm{}, "", "", fmt.Errorf("read the alarms composite alarm %s combines: %w", def.name, err)
		}
	}
	a.Namespace, a.MetricName, a.Dimensions = summarize(a.Metrics)
	return a, def.state, "", nil
}

// stateChangeSlack absorbs the rounding between the state change time of
// a notification (milliseconds) and CloudWatch's timestamps.
const stateChangeSlack = time.Second

// sameStateChange reports whether a delivered state change time is the
// one CloudWatch records for the alarm's current state: its
// StateTransitionedTimestamp, or StateUpdatedTimestamp (DescribeAlarms,
// MetricAlarm and CompositeAlarm in the CloudWatch API Reference:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html).
// The delivery claim is keyed on that time, so a message with an
// invented time would otherwise pass for a new state change. When
// CloudWatch gives neither timestamp there is nothing to compare.
func sameStateChange(at time.Time, def cloudWatchAlarm) bool {
	if def.transitioned.IsZero() && def.updated.IsZero() {
		return true
	}
	near := func(t time.Time) bool {
		d := at.Sub(t)
		return !t.IsZero() && d < stateChangeSlack && d > -stateChangeSlack
	}
	return near(def.transitioned) || near(def.updated)
}

// regionNote names the function's region for a refusal, when known.
func (e *Engine) regionNote() string {
	if e.Region == "" {
		return ""
	}
	return " (" + e.Region + ")"
}

// maxCompositeDepth bounds how deep composite alarms nested in composite
// alarms are followed.
const maxCompositeDepth = 3

// childMetrics reads, from CloudWatch, the alarms a composite alarm's rule
// names (following nested composites up to maxCompositeDepth) and returns
// their metrics. A child in another account or region, or one CloudWatch
// does not have, contributes nothing.
func (e *Engine) childMetrics(ctx context.Context, c cloudWatchAlarm) ([]Metric, error) {
	prefix, _, _ := strings.Cut(c.arn, ":alarm:")
	prefix += ":alarm:"
	seen := map[string]bool{c.name: true}
	var metrics []Metric
	level := []cloudWatchAlarm{c}
	for depth := 0; depth < maxCompositeDepth && len(level) > 0; depth++ {
		var names []string
		for _, p := range level {
			for _, ref := range ruleChildren(p.rule) {
				name := ref
				if strings.HasPrefix(ref, "arn:") {
					var ok bool
					if name, ok = strings.CutPrefix(ref, prefix); !ok {
						continue
					}
				}
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		if len(names) == 0 {
			break
		}
		found, err := e.describeAlarms(ctx, names)
		if err != nil {
			return nil, err
		}
		level = level[:0]
		for _, n := range names {
			child, ok := found[n]
			switch {
			case !ok:
			case child.composite:
				level = append(level, child)
			default:
				metrics = append(metrics, child.metrics...)
			}
		}
	}
	return metrics, nil
}

// childRef matches the functions of a composite alarm's rule:
// ALARM("name or ARN"), OK(...), INSUFFICIENT_DATA(...), the argument
// quoted or not (CloudWatch API Reference, PutCompositeAlarm, AlarmRule:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html).
var childRef = regexp.MustCompile(`\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"([^"]*)"|([^()"\s]+))\s*\)`)

// ruleChildren lists the alarm names or ARNs a composite rule names.
func ruleChildren(rule string) []string {
	var out []string
	for _, m := range childRef.FindAllStringSubmatch(rule, -1) {
		if ref := m[1] + m[2]; ref != "" {
			out = append(out, ref)
		}
	}
	return out
}

// summarize names the alarm's metric when it has exactly one, and the
// dimensions all of its metrics share: a math alarm over one service's
// errors and requests, or a composite over that service's alarms, still
// names the service.
func summarize(metrics []Metric) (namespace, name string, dims map[string]string) {
	first := true
	for _, m := range metrics {
		if m.MetricName == "" {
			continue // an expression
		}
		if first {
			namespace, name, dims, first = m.Namespace, m.MetricName, maps.Clone(m.Dimensions), false
			continue
		}
		namespace, name = "", ""
		maps.DeleteFunc(dims, func(k, v string) bool { return m.Dimensions[k] != v })
	}
	if len(dims) == 0 {
		dims = nil
	}
	return namespace, name, dims
}
