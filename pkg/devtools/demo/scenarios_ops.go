package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// tableSeq numbers the state tables, one per scenario, so cooldowns and
// claims of one scenario never leak into another.
var tableSeq atomic.Int64

// freshTable creates an empty state table in dynalite and returns the
// environment that points a function at it.
func (r *rig) freshTable(ctx context.Context) (string, error) {
	d, err := r.dynalite(ctx)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%d", stateTable, tableSeq.Add(1))
	if err := state.CreateTable(ctx, d.Client(), name); err != nil {
		return "", fmt.Errorf("create state table %s in dynalite: %w", name, err)
	}
	return config.EnvStateTable + "=" + name, nil
}

// alarmEvent is events/remediate-ecs-alarm.json — SNS delivering
// CloudWatch's alarm notification — stamped with the time the stand-in's
// CloudWatch changed the alarm's state, as CloudWatch's own notification
// is (remediate refuses a state change time CloudWatch did not record).
func alarmEvent(r *rig, si *standin.Server) ([]byte, error) {
	if _, ok := si.AlarmStateChanged("prod-api-cpu-high"); !ok {
		return nil, errors.New("the stand-in has no alarm prod-api-cpu-high to notify about")
	}
	b, err := os.ReadFile(filepath.Join(r.root, "events", "remediate-ecs-alarm.json"))
	if err != nil {
		return nil, fmt.Errorf("read the alarm event: %w", err)
	}
	return si.StampAlarmNotifications(b)
}

// remediateOnce: CloudWatch's CPU alarm for the api service reaches
// remediate twice at the same moment (SNS and Lambda deliver at least
// once, and two execution environments take the copies). The service
// must be redeployed exactly once, the fix verified (the alarm clears),
// and people told once.
func remediateOnce(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	si, err := r.newStandin("remediate.yaml")
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	table, err := r.freshTable(ctx)
	if err != nil {
		return errorResult(err)
	}
	payload, err := alarmEvent(r, si)
	if err != nil {
		return errorResult(err)
	}

	// The fix takes: once the service is redeployed, CPU falls and the
	// alarm returns to OK, as CloudWatch would a few minutes later.
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go clearAlarmAfterFix(wctx, si)

	fns := make([]*lambdarun.Function, 2)
	defer func() {
		for _, fn := range fns {
			if fn != nil {
				_ = fn.Close()
			}
		}
	}()
	for i := range fns {
		if fns[i], err = r.start(ctx, "remediate", si, table); err != nil {
			return errorResult(err)
		}
	}
	results := make([]*lambdarun.Result, len(fns))
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { results[i], errs[i] = fn.Invoke(ctx, payload) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.AWSCalls = len(si.Calls())

	var decisions []string
	for i := range fns {
		if errs[i] != nil {
			return errorResult(errs[i])
		}
		res.Invocations++
		if results[i].Err != nil {
			res.problem("delivery %d: function error %v", i+1, results[i].Err)
		}
		decisions = append(decisions, logField(results[i].Logs, "alarm handled", "decision")...)
	}
	redeploys := len(si.CallsTo(standin.ECS, "UpdateService"))
	res.Got = fmt.Sprintf("%d redeploy, %s", redeploys, strings.Join(sortedCopy(decisions), "+"))
	if redeploys != 1 {
		res.problem("the service was redeployed %d times; want exactly once", redeploys)
	}
	if got := strings.Join(sortedCopy(decisions), "+"); got != "duplicate+fixed" {
		res.problem("the two deliveries were decided %q; want one fixed and one duplicate", got)
	}
	notes := publishedTo(si, notify.HighCPU)
	if len(notes) != 1 {
		res.problem("%d notifications reached the high-cpu topic; want exactly 1", len(notes))
	} else {
		res.NoteTitle, res.Note = "What remediate told the high-cpu topic (first lines)", firstLines(notes[0].Message, 3)
	}
	return res
}

// clearAlarmAfterFix sets the CPU alarm back to OK as soon as the
// service has been redeployed.
func clearAlarmAfterFix(ctx context.Context, si *standin.Server) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if len(si.CallsTo(standin.ECS, "UpdateService")) > 0 {
			_ = si.SetAlarmState("prod-api-cpu-high", "OK", "Threshold Crossed: 3 out of the last 3 datapoints [41.0, 38.5, 36.2] were not greater than the threshold (80.0).")
			return
		}
	}
}

// respondCriticalFinding: Inspector's critical finding on the deployed
// image (events/respond-inspector-finding.json) arrives through
// EventBridge — twice, as EventBridge may deliver it — and must reach the
// security topic once, as P1 with its risk score.
func respondCriticalFinding(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	si, err := r.newStandin("respond.yaml")
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	table, err := r.freshTable(ctx)
	if err != nil {
		return errorResult(err)
	}
	payload, err := os.ReadFile(filepath.Join(r.root, "events", "respond-inspector-finding.json"))
	if err != nil {
		return errorResult(fmt.Errorf("read the finding event: %w", err))
	}
	fn, err := r.start(ctx, "respond", si, table)
	if err != nil {
		return errorResult(err)
	}
	defer func() { _ = fn.Close() }()
	for i := range 2 {
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			return errorResult(err)
		}
		res.Invocations++
		if out.Err != nil {
			res.problem("delivery %d: function error %v", i+1, out.Err)
		}
	}
	res.Elapsed = time.Since(start)
	res.AWSCalls = len(si.Calls())

	notes := publishedTo(si, notify.Security)
	res.Got = fmt.Sprintf("%d on security topic", len(notes))
	if len(notes) != 1 {
		res.problem("%d notifications reached the security topic; want exactly 1 (the second delivery is a duplicate)", len(notes))
		return res
	}
	n := notes[0]
	res.Got += ", " + n.Attributes["priority"]
	if m := riskScore.FindString(n.Message); m != "" {
		res.Got += ", " + strings.ToLower(m)
	} else {
		res.problem("the security notification gives no risk score (\"Risk N/100\")")
	}
	if n.Attributes["score"] == "" {
		res.problem("the security notification has no score message attribute for subscription filters")
	}
	for _, want := range []string{"CRITICAL", "CVE-2022-3602", "Risk 90/100", "P1"} {
		if !strings.Contains(n.Subject+n.Message, want) {
			res.problem("the security notification does not say %q", want)
		}
	}
	res.NoteTitle, res.Note = "What respond told the security topic (first lines)", firstLines(n.Message, 5)
	return res
}

// riskScore finds the score in respond's message ("Risk 90/100").
var riskScore = regexp.MustCompile(`Risk \d+/100`)

// publishedTo returns the SNS messages published to kind's topic.
func publishedTo(si *standin.Server, kind notify.Kind) []standin.Published {
	var out []standin.Published
	for _, p := range si.Published() {
		if p.TopicARN == topicARN(kind) {
			out = append(out, p)
		}
	}
	return out
}

// logField returns field's value on each JSON log line whose message is
// msg.
func logField(logs []byte, msg, field string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["message"] != msg {
			continue
		}
		if v, ok := line[field].(string); ok {
			out = append(out, v)
		}
	}
	return out
}

func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
