package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/drill"
)

// drillAlarms are the demo stack's alarms, as the drill reports them.
var drillAlarms = []string{
	"PostdeployDemo-remediate-dead-letters", "PostdeployDemo-remediate-errors", "PostdeployDemo-remediate-throttles",
	"PostdeployDemo-respond-dead-letters", "PostdeployDemo-respond-errors", "PostdeployDemo-respond-throttles",
	"PostdeployDemo-verify-dead-letters", "PostdeployDemo-verify-errors", "PostdeployDemo-verify-throttles",
	"app-5xx-error-rate", "app-high-cpu", "app-low-free-disk", "app-sign-in-anomaly",
}

// checkRestored fails unless every alarm of the demo stack is back in
// OK, set so by the drill's restore, and the drill's queue and
// subscriptions are gone.
func checkRestored(t *testing.T, d *drillRig) {
	t.Helper()
	for _, a := range d.si.AlarmStates() {
		if a.State != contract.StateOK {
			t.Errorf("after the drill alarm %s is %s (%s); want OK, its state before the drill", a.Name, a.State, a.Reason)
		}
	}
	if qs := d.si.Queues(); len(qs) != 0 {
		t.Errorf("queues left after the drill: %v; want none", qs)
	}
	for _, sub := range d.si.Subscriptions() {
		if sub.Protocol == "sqs" {
			t.Errorf("the drill's subscription %s is left on %s", sub.ARN, sub.TopicARN)
		}
	}
}

// TestDrillLocalDemoStack is `make drill` on the local demo stack: the
// stand-in's SetAlarmState drives each alarm's real delivery path (SNS
// topic → the drill's queue and remediate's subscription; the EventBridge
// alarm rule → respond), the real respond and remediate binaries handle
// it, remediate decides in dry run (the drill's state reason, read back
// from CloudWatch), and every alarm is restored.
func TestDrillLocalDemoStack(t *testing.T) {
	requireFunction(t, "respond")
	requireFunction(t, "remediate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log bytes.Buffer
	rep, d, err := shared.runDrill(ctx, &log)
	if d != nil {
		defer d.Close()
	}
	if err != nil {
		t.Fatalf("drill: %v\n%s", err, log.String())
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("drill report:\n%s", out.String())
	if !rep.OK() {
		t.Errorf("Report.OK() = false; want every alert path working")
	}
	want := map[string]struct{ topic, respond, remediate string }{
		"PostdeployDemo-verify-errors": {"postdeploy-escalation", drill.RespondNotRouted, "— (not subscribed)"},
		"app-high-cpu":                 {"postdeploy-high-cpu", "routed to postdeploy-high-cpu", "dry-run (rule asg-cpu-scale-out, drill)"},
		"app-5xx-error-rate":           {"postdeploy-application", "routed to postdeploy-application", "ignored"},
		"app-low-free-disk":            {"postdeploy-infrastructure", "routed to postdeploy-infrastructure", "ignored"},
		"app-sign-in-anomaly":          {"postdeploy-security", "routed to postdeploy-security", "ignored"},
	}
	var names []string
	for _, row := range rep.Rows {
		names = append(names, row.Alarm)
	}
	if strings.Join(names, " ") != strings.Join(drillAlarms, " ") {
		t.Errorf("the drill reported alarms %v; want the stack's %v", names, drillAlarms)
	}
	for _, row := range rep.Rows {
		if len(row.Problems) > 0 || row.Skipped != "" {
			t.Errorf("alarm %s: problems %v, skipped %q; want its path proven", row.Alarm, row.Problems, row.Skipped)
		}
		if row.NotifiedOn == "" || row.Restored != "restored to OK" {
			t.Errorf("alarm %s: notified on %q, restored %q; want a notification and restored to OK", row.Alarm, row.NotifiedOn, row.Restored)
		}
		if strings.HasPrefix(row.Alarm, DemoStack+"-") && row.Respond != drill.RespondNotRouted {
			t.Errorf("suite alarm %s: respond %q; want %q (its alarm action notifies the escalation topic)", row.Alarm, row.Respond, drill.RespondNotRouted)
		}
		w, ok := want[row.Alarm]
		if !ok {
			continue
		}
		if strings.Join(row.Topics, ",") != w.topic || !strings.HasPrefix(row.Respond, w.respond) || row.Remediate != w.remediate {
			t.Errorf("alarm %s: topic %v, respond %q, remediate %q; want %s, %q…, %q", row.Alarm, row.Topics, row.Respond, row.Remediate, w.topic, w.respond, w.remediate)
		}
	}
	// Never a real action in a drill: remediate's rule for app-asg would
	// scale it out.
	if n := len(d.si.CallsTo(standin.AutoScaling, "SetDesiredCapacity")); n != 0 {
		t.Errorf("SetDesiredCapacity was called %d times during the drill; want 0 (dry run)", n)
	}
	flagged := map[string]bool{}
	for _, w := range rep.Widgets {
		flagged[w.Widget] = w.Err == "" && !w.HasData
	}
	if !flagged["EC2 memory used (%)"] || flagged["EC2 CPU utilization (%)"] || len(rep.Widgets) != 2 {
		t.Errorf("dashboard checks = %+v; want the CPU widget with data and the memory widget flagged empty", rep.Widgets)
	}
	d.wg.Wait()
	if len(d.invokeErrs) > 0 {
		t.Errorf("deliveries failed: %v", d.invokeErrs)
	}
	// Not even after the drill moved on, nor on the way back to OK.
	for _, p := range d.si.Published() {
		if a := p.Attributes["alarm"]; strings.HasPrefix(a, DemoStack+"-") {
			t.Errorf("respond published %q on %s about the suite's own alarm %s; want nothing: its alarm action notifies the escalation topic", p.Subject, p.TopicARN, a)
		}
	}
	checkRestored(t, d)
}

// An alarm the caller may not set (AccessDenied on SetAlarmState) is
// named, the drill goes on with the rest, and reports itself broken.
func TestDrillNamesAnAlarmItCannotSet(t *testing.T) {
	requireFunction(t, "respond")
	requireFunction(t, "remediate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := shared.startDrillStack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.si.Inject(standin.CloudWatch, "SetAlarmState", standin.Fault{Kind: standin.FaultServerError, Code: "AccessDenied", Status: 403, Times: 1})
	dr, err := shared.newDrill(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := dr.Run(ctx, DemoStack)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.OK() {
		t.Error("Report.OK() = true; want false: one alarm's path is not proven")
	}
	first := rep.Rows[0]
	if len(first.Problems) != 1 || !strings.Contains(first.Problems[0], "could not set alarm "+first.Alarm) || !strings.Contains(first.Problems[0], "AccessDenied") {
		t.Errorf("first alarm's problems = %v; want one naming %s and AccessDenied", first.Problems, first.Alarm)
	}
	for _, row := range rep.Rows[1:] {
		if len(row.Problems) > 0 {
			t.Errorf("alarm %s: %v; want the rest drilled", row.Alarm, row.Problems)
		}
	}
	var out bytes.Buffer
	_ = rep.Write(&out)
	if !strings.Contains(out.String(), first.Alarm+": BROKEN: could not set alarm") {
		t.Errorf("report does not name the alarm it could not set:\n%s", out.String())
	}
	d.wg.Wait()
	checkRestored(t, d)
}

// Interrupted (Ctrl-C) while an alarm is in ALARM: Run returns, and every
// alarm it set is restored and its queue removed before it does.
func TestDrillRestoresWhenInterrupted(t *testing.T) {
	requireFunction(t, "respond")
	requireFunction(t, "remediate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := shared.startDrillStack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runCtx, interrupt := context.WithCancelCause(ctx)
	// The drill logs each alarm when done with it: interrupt after the
	// first, while the drill sets the second.
	dr, err := shared.newDrill(ctx, d, &onLine{match: ": ok", do: func() {
		go func() {
			for {
				for _, a := range d.si.AlarmStates() {
					if a.State == contract.StateAlarm {
						interrupt(errors.New("interrupted (test)"))
						return
					}
				}
				time.Sleep(time.Millisecond)
				if runCtx.Err() != nil {
					return
				}
			}
		}()
	}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := dr.Run(runCtx, DemoStack)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("Run(interrupted) = %v; want an error saying it was interrupted", err)
	}
	if rep == nil || len(rep.Rows) >= len(drillAlarms) {
		t.Fatalf("report %+v; want the drill stopped early", rep)
	}
	d.wg.Wait()
	checkRestored(t, d)
}

// Stack errors are clear and name the stack.
func TestDrillRefusesAMissingOrForeignStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := shared.startDrillStack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.si.AddStack(standin.Stack{Name: "OldPostdeploy", Outputs: map[string]string{"StateTableName": "t"}}); err != nil {
		t.Fatal(err)
	}
	dr, err := shared.newDrill(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		stack string
		want  error
		text  string
	}{
		{"NoSuchStack", drill.ErrNoStack, `stack "NoSuchStack"`},
		{"OldPostdeploy", drill.ErrOtherVersion, "TokenKeySecretArn"},
	}
	for _, tc := range tests {
		_, err := dr.Run(ctx, tc.stack)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("Run(%q) = %v; want %v naming %q", tc.stack, err, tc.want, tc.text)
		}
	}
	if n := len(d.si.CallsTo(standin.CloudWatch, "SetAlarmState")); n != 0 {
		t.Errorf("SetAlarmState called %d times for stacks the drill refused; want 0", n)
	}
}

// onLine calls do once when a written line contains match.
type onLine struct {
	mu    sync.Mutex
	match string
	do    func()
	done  bool
}

func (o *onLine) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.done && strings.Contains(string(p), o.match) {
		o.done = true
		o.do()
	}
	return len(p), nil
}
