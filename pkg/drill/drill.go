package drill

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/deadline"
)

// RespondNotRouted is the RESPOND column of one of the suite's own
// alarms that respond rightly left alone: its alarm action notifies the
// escalation topic, respond's alarm rule leaves it out and respond
// leaves it to its actions (pkg/respond SuiteAlarms).
const RespondNotRouted = "not routed: notified by its alarm action"

// respondVerdict says what respond did about an alarm (the RESPOND
// column) and whether that is a problem. For one of the suite's own
// alarms the right outcome is no notification from respond; a
// notification is a duplicate page. For any other alarm it is respond's
// notification, on routedTo; none within timeout is a broken path.
func respondVerdict(suite bool, routedTo string, timeout time.Duration) (column, problem string) {
	switch {
	case suite && routedTo == "":
		return RespondNotRouted, ""
	case suite:
		return "re-paged on " + routedTo, fmt.Sprintf("respond notified %s about the suite's own alarm, whose alarm action already notifies the escalation topic: a duplicate page "+
			"(respond's alarm rule should leave it out, and respond with %s leave it to its action)", routedTo, config.EnvSuiteAlarmPrefix)
	case routedTo != "":
		return "routed to " + routedTo, ""
	}
	return "", fmt.Sprintf("respond sent no notification about the alarm within %s (EventBridge rule → respond → topic)", timeout)
}

// Defaults of Drill.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultPoll        = time.Second
	DefaultSettle      = 5 * time.Second
	DefaultReceiveWait = 1
	// NoSettle as Drill.Settle starts at once after subscribing (an
	// emulator whose subscriptions take effect at once).
	NoSettle = -1
	// RestoreTimeout bounds restoring the alarms and removing the queue
	// after the drill's context has ended.
	RestoreTimeout = 30 * time.Second
)

// Drill runs the alert drill against one stack. Build it with the
// caller's clients; the zero values of the settings are their defaults.
type Drill struct {
	Stacks StackAPI
	Alarms AlarmAPI
	Topics TopicAPI
	Queues QueueAPI
	// Trail opens remediate's audit trail in the stack's state table
	// (state.New(dynamodbClient, table)).
	Trail func(table string) AuditTrail

	// Timeout is how long each alarm's path may take to show (default
	// 60 s); Poll how often the audit trail is read meanwhile (1 s);
	// Settle how long new subscriptions get before the first alarm (5 s:
	// "There might be a small time period immediately after subscribing
	// the SQS queue to the SNS topic [...] where messages are not able to
	// be delivered to the queue", AWS SDK for .NET, SubscribeQueue);
	// ReceiveWait is ReceiveMessage's WaitTimeSeconds (1). Settle
	// NoSettle does not wait.
	Timeout, Poll, Settle time.Duration
	ReceiveWait           int32
	// Log receives progress lines (nil: none).
	Log io.Writer
	Now func() time.Time
	// Sleep waits between polls (deadline.Sleep).
	Sleep func(ctx context.Context, d time.Duration) error
}

func (d *Drill) setDefaults() {
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Poll <= 0 {
		d.Poll = DefaultPoll
	}
	switch {
	case d.Settle == 0:
		d.Settle = DefaultSettle
	case d.Settle < 0:
		d.Settle = 0
	}
	if d.ReceiveWait <= 0 {
		d.ReceiveWait = DefaultReceiveWait
	}
	if d.Log == nil {
		d.Log = io.Discard
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = deadline.Sleep
	}
}

func (d *Drill) logf(format string, args ...any) { fmt.Fprintf(d.Log, format+"\n", args...) }

// alarm is one alarm as the drill found it.
type alarm struct {
	name, arn, state, reason string
	topics                   []string
}

// Run drills every alarm of the stack and checks its dashboards. The
// error is for a drill that could not start (no such stack, another
// version, no queue); everything found on the way is in the Report.
// Every alarm the drill set is restored before Run returns, also when
// ctx ends first.
func (d *Drill) Run(ctx context.Context, stackName string) (rep *Report, err error) {
	d.setDefaults()
	s, err := Discover(ctx, d.Stacks, stackName)
	if err != nil {
		return nil, err
	}
	rep = &Report{Stack: s.Name}
	d.logf("drill: stack %s (%s, account %s): %d alarms, %d topics, %d dashboards", s.Name, s.Region, s.Account, len(s.Alarms), len(s.Topics), len(s.Dashboards))
	alarms, err := d.describe(ctx, s.Alarms)
	if err != nil {
		return nil, err
	}
	q, err := d.openQueue(ctx, s)
	if err != nil {
		return nil, err
	}
	// Restore and clean up whatever happens next, on a context that
	// outlives an interrupted ctx.
	r := &restorer{d: d}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RestoreTimeout)
		defer cancel()
		rep.Restored = append(rep.Restored, r.all(cctx)...)
		if cerr := d.closeQueue(cctx, q); cerr != nil {
			rep.Cleanup = append(rep.Cleanup, cerr.Error())
		}
	}()
	if err := d.Sleep(ctx, d.Settle); err != nil {
		return rep, fmt.Errorf("drill interrupted: %w", err)
	}
	subscribers := map[string]bool{} // topic → has a Lambda subscriber
	for _, t := range s.Topics {
		if subscribers[t], err = d.lambdaSubscribed(ctx, t); err != nil {
			return rep, err
		}
	}
	w := &watcher{d: d, q: q, seen: map[string][]sighting{}}
	trail := d.Trail(s.Table)
	// The suite's own alarms (infra/stack suiteAlarms) are named
	// <stack>-…; respond must leave them to their alarm actions.
	suitePrefix := config.SuiteAlarmPrefix(s.Name)
	defer func() { d.lateRepages(ctx, w, rep, suitePrefix) }()
	for _, name := range s.Alarms {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("drill interrupted before alarm %s: %w", name, context.Cause(ctx))
		}
		a, ok := alarms[name]
		if !ok {
			rep.Rows = append(rep.Rows, Row{Alarm: name, Problems: []string{"the stack has this alarm, but CloudWatch does not: was it deleted outside CloudFormation? Deploy the stack again"}})
			continue
		}
		row := d.drill(ctx, a, strings.HasPrefix(name, suitePrefix), subscribers, w, trail, r)
		rep.Rows = append(rep.Rows, row)
		d.logf("drill: %s: %s", name, row.summary())
	}
	rep.Widgets = d.checkDashboards(ctx, s.Dashboards)
	return rep, nil
}

// describe reads the alarms from CloudWatch (at most 100 names a call).
func (d *Drill) describe(ctx context.Context, names []string) (map[string]alarm, error) {
	out := map[string]alarm{}
	for batch := range slices.Chunk(names, 100) {
		p := cloudwatch.NewDescribeAlarmsPaginator(d.Alarms, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe the stack's alarms: %w", err)
			}
			for _, m := range page.MetricAlarms {
				out[aws.ToString(m.AlarmName)] = alarm{name: aws.ToString(m.AlarmName), arn: aws.ToString(m.AlarmArn),
					state: string(m.StateValue), reason: aws.ToString(m.StateReason), topics: snsActions(m.AlarmActions)}
			}
			for _, c := range page.CompositeAlarms {
				out[aws.ToString(c.AlarmName)] = alarm{name: aws.ToString(c.AlarmName), arn: aws.ToString(c.AlarmArn),
					state: string(c.StateValue), reason: aws.ToString(c.StateReason), topics: snsActions(c.AlarmActions)}
			}
		}
	}
	return out, nil
}

// current reads one alarm's state, reason and update time.
func (d *Drill) current(ctx context.Context, name string) (state, reason string, updated time.Time, err error) {
	out, err := d.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("read alarm %s: %w", name, err)
	}
	for _, m := range out.MetricAlarms {
		return string(m.StateValue), aws.ToString(m.StateReason), aws.ToTime(m.StateUpdatedTimestamp), nil
	}
	for _, c := range out.CompositeAlarms {
		return string(c.StateValue), aws.ToString(c.StateReason), aws.ToTime(c.StateUpdatedTimestamp), nil
	}
	return "", "", time.Time{}, fmt.Errorf("read alarm %s: CloudWatch no longer has it", name)
}

func snsActions(actions []string) []string {
	var out []string
	for _, a := range actions {
		if strings.HasPrefix(a, "arn:") && strings.Contains(a, ":sns:") {
			out = append(out, a)
		}
	}
	return out
}

// lambdaSubscribed reports whether a Lambda function (remediate, in the
// stack) is subscribed to the topic.
func (d *Drill) lambdaSubscribed(ctx context.Context, topic string) (bool, error) {
	p := sns.NewListSubscriptionsByTopicPaginator(d.Topics, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("list the subscriptions of topic %s: %w", topic, err)
		}
		for _, s := range page.Subscriptions {
			if aws.ToString(s.Protocol) == "lambda" {
				return true, nil
			}
		}
	}
	return false, nil
}

// lateRepages reads the queue once more after the last alarm: a
// notification from respond about one of the suite's own alarms that
// arrived after the drill moved on from it (the drill does not wait the
// whole timeout for a notification that should never come) is a
// duplicate page all the same.
func (d *Drill) lateRepages(ctx context.Context, w *watcher, rep *Report, suitePrefix string) {
	if ctx.Err() == nil {
		_ = w.poll(ctx) // a failed read finds nothing more; each alarm's own reads reported theirs
	}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if !strings.HasPrefix(row.Alarm, suitePrefix) || row.Respond != RespondNotRouted {
			continue
		}
		for _, s := range w.take(row.Alarm) {
			if s.from == fromRespond {
				column, problem := respondVerdict(true, topicName(s.topic), d.Timeout)
				row.Respond, row.Problems = column, append(row.Problems, problem)
				break
			}
		}
	}
}

// drill runs one alarm's drill; suite says it is one of the suite's own
// alarms, which respond must not notify.
func (d *Drill) drill(ctx context.Context, a alarm, suite bool, subscribers map[string]bool, w *watcher, trail AuditTrail, r *restorer) Row {
	row := Row{Alarm: a.name}
	for _, t := range a.topics {
		row.Topics = append(row.Topics, topicName(t))
	}
	switch {
	case len(a.topics) == 0:
		row.Problems = append(row.Problems, "the alarm notifies no SNS topic (no alarm action): nobody would hear of it")
		return row
	case a.state == contract.StateAlarm:
		// A real alarm, or one CloudWatch has not yet re-evaluated after
		// a drill: setting ALARM again is no state change and notifies
		// nobody (SetAlarmState invokes actions only "When the updated
		// state differs from the previous value").
		row.Skipped = "in ALARM now (" + a.reason + "); a drill never touches an alarm in ALARM"
		return row
	}
	expectRemediate := false
	for _, t := range a.topics {
		expectRemediate = expectRemediate || subscribers[t]
	}

	start := d.Now()
	if _, err := d.Alarms.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(a.name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String(contract.DrillReason),
	}); err != nil {
		row.Problems = append(row.Problems, fmt.Sprintf("could not set alarm %s to ALARM: %v (the drill needs cloudwatch:SetAlarmState on it); its alert path is not proven", a.name, err))
		return row
	}
	r.touched(a)
	_, reason, changed, err := d.current(ctx, a.name)
	if err != nil {
		row.Problems = append(row.Problems, err.Error())
		return row
	}
	if !contract.IsDrill(reason) {
		row.Note = "CloudWatch re-evaluated the alarm at once (reason now: " + reason + ")"
	}

	deadline := start.Add(d.Timeout)
	var notified, responded, decided bool
	var routedTo string
	for {
		if err := w.poll(ctx); err != nil {
			row.Problems = append(row.Problems, err.Error())
			break
		}
		for _, s := range w.take(a.name) {
			switch {
			case s.from == fromCloudWatch && s.state == contract.StateAlarm && contract.IsDrill(s.reason) && !notified:
				notified, row.Notified = true, s.at.Sub(start)
				row.NotifiedOn = topicName(s.topic)
				if !s.changed.IsZero() {
					// The state change remediate keys on: CloudWatch may
					// have re-evaluated the alarm before `current` read it.
					changed = s.changed
				}
			case s.from == fromRespond && !responded:
				responded, routedTo = true, topicName(s.topic)
			}
		}
		if !decided {
			rec, found, err := decision(ctx, trail, a.arn, changed)
			if err != nil {
				row.Problems = append(row.Problems, err.Error())
				break
			}
			if found {
				decided, row.Remediate = true, rec.describe()
				if rec.called {
					row.Problems = append(row.Problems, fmt.Sprintf("remediate ACTED on a drill alarm (%s): it must decide in dry run; check the resource", rec.call))
				}
			}
		}
		// A suite alarm's path is proven once CloudWatch's notification
		// arrived: respond is expected to stay silent (lateRepages checks
		// again at the end).
		if notified && (responded || suite) && (decided || !expectRemediate) {
			break
		}
		if !d.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
		if err := d.Sleep(ctx, d.Poll); err != nil {
			break
		}
	}
	if !notified {
		row.Problems = append(row.Problems, fmt.Sprintf("CloudWatch's notification did not reach the drill's queue on %s within %s", strings.Join(row.Topics, ", "), d.Timeout))
	}
	var problem string
	if row.Respond, problem = respondVerdict(suite, routedTo, d.Timeout); problem != "" {
		row.Problems = append(row.Problems, problem)
	}
	switch {
	case expectRemediate && !decided:
		row.Problems = append(row.Problems, fmt.Sprintf("remediate, subscribed to %s, recorded no decision in the state table within %s", strings.Join(row.Topics, ", "), d.Timeout))
	case !decided:
		row.Remediate = "— (not subscribed)"
	}
	row.Restored = r.one(context.WithoutCancel(ctx), a)
	return row
}

// restorer puts every alarm the drill set back to its state before.
type restorer struct {
	d    *Drill
	todo []alarm
}

func (r *restorer) touched(a alarm) { r.todo = append(r.todo, a) }

// one restores a (if still to do) and says what it did.
func (r *restorer) one(ctx context.Context, a alarm) string {
	i := slices.IndexFunc(r.todo, func(x alarm) bool { return x.name == a.name })
	if i < 0 {
		return ""
	}
	r.todo = slices.Delete(r.todo, i, i+1)
	st, reason, _, err := r.d.current(ctx, a.name)
	if err != nil {
		return "NOT restored: " + err.Error()
	}
	if !contract.IsDrill(reason) {
		// CloudWatch evaluated it since: its state is the real one now.
		return "back to " + st + " (CloudWatch re-evaluated it)"
	}
	if _, err := r.d.Alarms.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(a.name), StateValue: cwtypes.StateValue(a.state), StateReason: aws.String(contract.DrillRestoreReason),
	}); err != nil {
		return fmt.Sprintf("NOT restored to %s: %v (CloudWatch sets it to its actual state at its next evaluation)", a.state, err)
	}
	return "restored to " + a.state
}

// all restores every alarm still to do.
func (r *restorer) all(ctx context.Context) []string {
	var out []string
	for len(r.todo) > 0 {
		a := r.todo[0]
		out = append(out, a.name+": "+r.one(ctx, a))
	}
	return out
}

// watcher reads the queue and files each sighting by alarm.
type watcher struct {
	d    *Drill
	q    *queue
	seen map[string][]sighting
}

func (w *watcher) poll(ctx context.Context) error {
	envs, err := w.d.receive(ctx, w.q)
	if err != nil && ctx.Err() == nil {
		return err
	}
	now := w.d.Now()
	for _, e := range envs {
		if s, ok := classify(e, now); ok {
			w.seen[s.alarm] = append(w.seen[s.alarm], s)
		}
	}
	return nil
}

func (w *watcher) take(name string) []sighting {
	s := w.seen[name]
	delete(w.seen, name)
	return s
}
