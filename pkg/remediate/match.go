package remediate

import (
	"context"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// anyMetric reports whether the alarm's metric, or any of its metrics,
// satisfies f.
func anyMetric(a Alarm, f func(namespace, name string) bool) bool {
	if f(a.Namespace, a.MetricName) {
		return true
	}
	for _, m := range a.Metrics {
		if m.MetricName != "" && f(m.Namespace, m.MetricName) {
			return true
		}
	}
	return false
}

// matchesWithoutTags checks every criterion but the alarm's tags.
func (m Match) matchesWithoutTags(a Alarm) bool {
	if a.NewState != m.State || !glob(m.AlarmName, a.Name) {
		return false
	}
	if m.Namespace != "" && !anyMetric(a, func(ns, _ string) bool { return glob(m.Namespace, ns) }) {
		return false
	}
	if m.Metric != "" && !anyMetric(a, func(_, name string) bool { return glob(m.Metric, name) }) {
		return false
	}
	for k, pat := range m.Dimensions {
		v, ok := a.Dimensions[k]
		if !ok || !glob(pat, v) {
			return false
		}
	}
	return true
}

func (m Match) tagsMatch(tags map[string]string) bool {
	for k, v := range m.Tags {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (r *Rule) needsTags() bool {
	if len(r.Match.Tags) > 0 {
		return true
	}
	for _, t := range r.params {
		for _, f := range t.fields() {
			if f == "Tags" {
				return true
			}
		}
	}
	return false
}

// match returns the first rule matching a, fetching the alarm's tags
// (once) only when a rule that otherwise matches needs them.
func (e *Engine) match(ctx context.Context, a *Alarm) (*Rule, error) {
	for i := range e.Policy.Rules {
		r := &e.Policy.Rules[i]
		if !r.Match.matchesWithoutTags(*a) {
			continue
		}
		if r.needsTags() && a.Tags == nil {
			tags, err := e.alarmTags(ctx, a.ARN)
			if err != nil {
				return nil, fmt.Errorf("rule %s needs the tags of alarm %s: %w", r.Name, a.Name, err)
			}
			a.Tags = tags
		}
		if r.Match.tagsMatch(a.Tags) {
			return r, nil
		}
	}
	return nil, nil
}

func (e *Engine) alarmTags(ctx context.Context, arn string) (map[string]string, error) {
	if e.Alarms == nil {
		return nil, fmt.Errorf("list tags of alarm %s: no CloudWatch client", arn)
	}
	out, err := e.Alarms.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of alarm %s: %w", arn, err)
	}
	tags := make(map[string]string, len(out.Tags))
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}
