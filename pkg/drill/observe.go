package drill

import (
	"encoding/json"
	"strings"
	"time"
)

// envelope is an SNS notification as an SQS subscriber receives it
// ("Amazon SNS message and JSON formats", HTTP/HTTPS notification JSON
// format, which SQS subscriptions receive as the message body).
type envelope struct {
	Type              string                      `json:"Type"`
	MessageID         string                      `json:"MessageId"`
	TopicArn          string                      `json:"TopicArn"`
	Subject           string                      `json:"Subject"`
	Message           string                      `json:"Message"`
	Timestamp         string                      `json:"Timestamp"`
	MessageAttributes map[string]messageAttribute `json:"MessageAttributes"`
}

// messageAttribute is one of the envelope's MessageAttributes.
type messageAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// The senders the drill tells apart.
const (
	fromCloudWatch = "cloudwatch" // CloudWatch's alarm notification
	fromRespond    = "respond"    // respond's alert about the alarm
	fromRemediate  = "remediate"  // remediate's decision notification
)

// sighting is one message about an alarm.
type sighting struct {
	from, topic, alarm string
	// state and reason are a CloudWatch notification's NewStateValue and
	// NewStateReason; decision remediate's.
	state, reason, decision string
	// changed is a CloudWatch notification's StateChangeTime: the time
	// remediate keys its decision on.
	changed time.Time
	at      time.Time
}

// classify says who sent a message and about which alarm; ok is false
// for a message about no alarm.
func classify(e envelope, at time.Time) (sighting, bool) {
	s := sighting{topic: e.TopicArn, at: at}
	// CloudWatch's notification: the alarm's JSON as the message.
	var cw struct {
		AlarmName, NewStateValue, NewStateReason, StateChangeTime string
	}
	if strings.HasPrefix(strings.TrimSpace(e.Message), "{") && json.Unmarshal([]byte(e.Message), &cw) == nil && cw.AlarmName != "" && cw.NewStateValue != "" {
		s.from, s.alarm, s.state, s.reason = fromCloudWatch, cw.AlarmName, cw.NewStateValue, cw.NewStateReason
		// CloudWatch writes 2019-10-02T17:04:40.985+0000.
		s.changed, _ = time.Parse("2006-01-02T15:04:05.000-0700", cw.StateChangeTime)
		return s, true
	}
	// The suite's own notifications carry the alarm as a message
	// attribute (pkg/notify); remediate's also its decision.
	attr := func(k string) string { return e.MessageAttributes[k].Value }
	if s.alarm = attr("alarm"); s.alarm == "" {
		return s, false
	}
	s.from = fromRespond
	if s.decision = attr("decision"); s.decision != "" {
		s.from = fromRemediate
	}
	return s, true
}

// topicName is the last part of a topic ARN.
func topicName(arn string) string {
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
