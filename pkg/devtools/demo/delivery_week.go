package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/devtools/emfsum"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// The delivery week: one service, sample-api, shipped through a pipeline
// whose "Production" stage deploys (CodeDeploy) and then verifies
// (postdeploy verify), from Monday 2026-11-30 00:00 UTC; and docs-site,
// a pipeline with no production stage. Worked by hand:
//
//	e1  source Mon 08:00, deployed Mon 09:30          lead 1h30m
//	e2  source Tue 10:00, deployed Tue 12:30          lead 2h30m
//	    verification Failed Tue 12:45 → failed change
//	    rollback r1 (ROLLBACK execution) deployed Tue 13:15 → restored in 30m
//	e3  source Wed 14:00, deployed Thu 10:00          lead 20h
//	    alarm sample-api-5xx ALARM Thu 11:00, OK 11:45 → failed change, restored in 45m
//	e4  source Fri 09:00, deployed Fri 10:00          lead 1h
//	builds: 4 SUCCEEDED, 1 FAILED (one success delivered twice) → 80%
//	executions: e1, r1, e3, e4 Succeeded, e2 Failed → 80%
//	docs-site d1 Succeeded → ignored: no production stage
//
// Four keys: 4 deployments this week (the rollback is not a change);
// lead time median (1h30m + 2h30m) / 2 = 2h; change failure rate 2 / 4
// = 50%; time to restore median (30m + 45m) / 2 = 37m30s.
var weekStart = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func wk(day int, hh, mm int) time.Time {
	return weekStart.Add(time.Duration(day)*24*time.Hour + time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// The hand-worked keys.
var weekKeys = delivery.Keys{
	Deployments: 4, LeadTime: 2 * time.Hour, Failed: 2, ChangeFailureRate: 50,
	TimeToRestore: 37*time.Minute + 30*time.Second, Restores: 2,
}

const (
	weekPipeline = "sample-api"
	weekAlarm    = "sample-api-5xx"
	weekProject  = "sample-api-build"
)

// weekScenario is the stand-in's world: the pipelines' declarations and
// every execution as CodePipeline reports it once done.
func weekScenario() standin.Scenario {
	prod := func(exec string, deployStart, deployEnd time.Time, verify string, verifyEnd time.Time) []standin.ActionExecution {
		return []standin.ActionExecution{
			{StageName: "Source", ActionName: "Source", Status: "Succeeded", StartTime: deployStart.Add(-time.Hour), EndTime: deployStart.Add(-59 * time.Minute)},
			{StageName: "Production", ActionName: "Deploy", Status: "Succeeded", StartTime: deployStart, EndTime: deployEnd, ExternalID: "d-" + exec},
			{StageName: "Production", ActionName: "PostDeployVerify", Status: verify, StartTime: deployEnd, EndTime: verifyEnd},
		}
	}
	exec := func(id, status string, source time.Time, actions []standin.ActionExecution) standin.PipelineExecution {
		return standin.PipelineExecution{PipelineName: weekPipeline, ID: id, Status: status, Actions: actions,
			Revisions: []standin.ArtifactRevision{{Name: "SourceArtifact", RevisionID: "rev-" + id, Created: source}}}
	}
	r1 := exec("r1", "Succeeded", wk(0, 8, 0), []standin.ActionExecution{
		{StageName: "Production", ActionName: "Deploy", Status: "Succeeded", StartTime: wk(1, 13, 0), EndTime: wk(1, 13, 15)},
	})
	r1.ExecutionType = "ROLLBACK"
	return standin.Scenario{
		Pipelines: []standin.Pipeline{
			{Name: weekPipeline, Stages: []standin.PipelineStage{
				{Name: "Source", Actions: []standin.PipelineAction{{Name: "Source", Category: "Source", Provider: "CodeStarSourceConnection"}}},
				{Name: "Build", Actions: []standin.PipelineAction{{Name: "Build", Category: "Build", Provider: "CodeBuild"}}},
				{Name: "Production", Actions: []standin.PipelineAction{
					{Name: "Deploy", Category: "Deploy", Provider: "CodeDeploy"},
					{Name: "PostDeployVerify", Category: "Invoke", Provider: "Lambda", Configuration: map[string]string{"FunctionName": "postdeploy-verify"}},
				}},
			}},
			{Name: "docs-site", Stages: []standin.PipelineStage{
				{Name: "Source", Actions: []standin.PipelineAction{{Name: "Source", Category: "Source", Provider: "S3"}}},
				{Name: "Publish", Actions: []standin.PipelineAction{{Name: "Publish", Category: "Deploy", Provider: "S3"}}},
			}},
		},
		PipelineExecutions: []standin.PipelineExecution{
			exec("e1", "Succeeded", wk(0, 8, 0), prod("e1", wk(0, 9, 0), wk(0, 9, 30), "Succeeded", wk(0, 9, 40))),
			exec("e2", "Failed", wk(1, 10, 0), prod("e2", wk(1, 12, 0), wk(1, 12, 30), "Failed", wk(1, 12, 45))),
			r1,
			exec("e3", "Succeeded", wk(2, 14, 0), prod("e3", wk(3, 9, 30), wk(3, 10, 0), "Succeeded", wk(3, 10, 10))),
			exec("e4", "Succeeded", wk(4, 9, 0), prod("e4", wk(4, 9, 30), wk(4, 10, 0), "Succeeded", wk(4, 10, 10))),
			{PipelineName: "docs-site", ID: "d1", Status: "Succeeded"},
		},
		Alarms: []standin.Alarm{{Name: weekAlarm, Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: "GreaterThanThreshold"}},
	}
}

// weekEvent is one EventBridge event of the week, at its time; alarm,
// when set, moves the stand-in's alarm to that state first.
type weekEvent struct {
	at    time.Time
	alarm string
	ev    events.EventBridgeEvent
}

func bridge(id, source, detailType string, at time.Time, detail any, resources ...string) events.EventBridgeEvent {
	b, _ := json.Marshal(detail)
	return events.EventBridgeEvent{Version: "0", ID: id, Source: source, DetailType: detailType, AccountID: standin.AccountID,
		Time: at, Region: standin.Region, Resources: resources, Detail: b}
}

func pipelineARN(p string) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", standin.Region, standin.AccountID, p)
}

// weekEvents is the week as EventBridge delivers it: in time order except
// e2's verdict, which arrives before e2's deploy event, and with e1's
// deploy event and one build delivered twice.
func weekEvents() []weekEvent {
	var out []weekEvent
	n := 0
	add := func(at time.Time, source, dt string, detail any, res ...string) {
		n++
		out = append(out, weekEvent{at: at, ev: bridge(fmt.Sprintf("week-%02d", n), source, dt, at, detail, res...)})
	}
	build := func(id, status string, at time.Time) {
		arn := fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s:%s", standin.Region, standin.AccountID, weekProject, id)
		add(at, events.CodeBuildEventSource, events.CodeBuildStateChangeDetailType,
			map[string]any{"build-status": status, "project-name": weekProject, "build-id": arn}, arn)
	}
	action := func(p, exec, stage, name, category, state string, at time.Time) {
		add(at, events.CodePipelineEventSource, events.CodePipelineActionEventDetailType, map[string]any{
			"pipeline": p, "execution-id": exec, "stage": stage, "action": name, "state": state, "version": 1,
			"type": map[string]any{"owner": "AWS", "category": category, "provider": "CodeDeploy", "version": 1},
		}, pipelineARN(p))
	}
	stage := func(p, exec, stage, state string, at time.Time) {
		add(at, events.CodePipelineEventSource, events.CodePipelineStageEventDetailType,
			map[string]any{"pipeline": p, "execution-id": exec, "stage": stage, "state": state, "version": 1}, pipelineARN(p))
	}
	execution := func(p, exec, state string, at time.Time) {
		add(at, events.CodePipelineEventSource, events.CodePipelineExecutionEventDetailType,
			map[string]any{"pipeline": p, "execution-id": exec, "state": state, "version": 1}, pipelineARN(p))
	}
	verification := func(exec string, v verdict.Verdict, at time.Time) {
		add(at, contract.VerificationSource, contract.VerificationDetailType, contract.VerificationCompleted{
			Verdict: v, Pipeline: weekPipeline, ExecutionID: exec, Stage: "Production", Action: "PostDeployVerify", JobID: "job-" + exec,
			Summary: "error-rate: 12.5% of requests failed", FailedChecks: []string{"error-rate"},
		})
	}
	alarm := func(state, previous string, at time.Time) {
		arn := fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", standin.Region, standin.AccountID, weekAlarm)
		add(at, contract.AlarmSource, contract.DetailTypeAlarmStateChange, map[string]any{
			"alarmName":     weekAlarm,
			"state":         map[string]any{"value": state, "reason": "Threshold Crossed", "timestamp": at.Format("2006-01-02T15:04:05.000-0700")},
			"previousState": map[string]any{"value": previous, "reason": "Threshold Crossed", "timestamp": at.Add(-time.Hour).Format("2006-01-02T15:04:05.000-0700")},
			"configuration": map[string]any{"metrics": []any{}},
		}, arn)
		out[len(out)-1].alarm = state
	}

	build("b1", "SUCCEEDED", wk(0, 8, 30))
	action(weekPipeline, "e1", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(0, 9, 30))
	action(weekPipeline, "e1", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(0, 9, 30)) // EventBridge delivers at least once
	stage(weekPipeline, "e1", "Production", "SUCCEEDED", wk(0, 9, 40))
	execution(weekPipeline, "e1", "SUCCEEDED", wk(0, 9, 40))

	build("b2", "SUCCEEDED", wk(1, 11, 0))
	build("b2", "SUCCEEDED", wk(1, 11, 0))
	verification("e2", verdict.Failed, wk(1, 12, 45)) // before e2's deploy event: out of order
	action(weekPipeline, "e2", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(1, 12, 30))
	stage(weekPipeline, "e2", "Production", "FAILED", wk(1, 12, 45))
	execution(weekPipeline, "e2", "FAILED", wk(1, 12, 45))
	action(weekPipeline, "r1", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(1, 13, 15))
	execution(weekPipeline, "r1", "SUCCEEDED", wk(1, 13, 15))

	build("b3", "FAILED", wk(2, 13, 0))
	build("b4", "SUCCEEDED", wk(2, 15, 0))
	action(weekPipeline, "e3", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(3, 10, 0))
	execution(weekPipeline, "e3", "SUCCEEDED", wk(3, 10, 10))
	alarm("ALARM", "OK", wk(3, 11, 0))
	alarm("OK", "ALARM", wk(3, 11, 45))

	build("b5", "SUCCEEDED", wk(4, 9, 20))
	action(weekPipeline, "e4", "Production", "Deploy", "Deploy", "SUCCEEDED", wk(4, 10, 0))
	execution(weekPipeline, "e4", "SUCCEEDED", wk(4, 10, 10))

	execution("docs-site", "d1", "SUCCEEDED", wk(5, 10, 0))
	return out
}

// weekResult is what respond emitted over the week, worked into the
// four keys.
type weekResult struct {
	Keys                delivery.Keys
	BuildRate, PipeRate float64
	IgnoredNoProduction float64
	Sums                map[string]float64
	LeadTimes, Restores []float64
}

// deliveryWeek plays the week through respond's real binary and checks
// the four keys it emitted (EMF on its stdout) against the hand-worked
// ones.
func deliveryWeek(ctx context.Context, r *rig) result {
	var res result
	start := time.Now()
	wr, si, err := playWeek(ctx, r, &res)
	if si != nil {
		defer si.Close()
	}
	if err != nil {
		return errorResult(err)
	}
	res.Elapsed = time.Since(start)
	res.AWSCalls = len(si.Calls())
	k := wr.Keys
	res.Got = fmt.Sprintf("%d deploys/week, lead %s, CFR %.0f%%, restore %s", k.Deployments, k.LeadTime, k.ChangeFailureRate, k.TimeToRestore)
	if k != weekKeys {
		res.problem("four keys %+v; want the hand-worked %+v", k, weekKeys)
	}
	if wr.BuildRate != 80 || wr.PipeRate != 80 {
		res.problem("build success %.1f%%, pipeline success %.1f%%; want 80%% and 80%%", wr.BuildRate, wr.PipeRate)
	}
	if wr.IgnoredNoProduction != 1 {
		res.problem("docs-site ignored %v times (no production stage); want 1", wr.IgnoredNoProduction)
	}
	res.NoteTitle = "The delivery week, as respond emitted it"
	res.Note = fmt.Sprintf("deployment frequency   %d production deployments this week (the rollback is not a change)\n"+
		"lead time for changes  median %s (each: %s)\n"+
		"change failure rate    %.0f%% (%d of %d: a failed verification, an incident)\n"+
		"time to restore        median %s (each: %s)\n"+
		"build success rate     %.0f%%; pipeline success rate %.0f%%",
		k.Deployments, k.LeadTime, durations(wr.LeadTimes), k.ChangeFailureRate, k.Failed, k.Deployments,
		k.TimeToRestore, durations(wr.Restores), wr.BuildRate, wr.PipeRate)
	return res
}

func durations(secs []float64) string {
	var b bytes.Buffer
	for i, s := range secs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString((time.Duration(s) * time.Second).String())
	}
	return b.String()
}

// weekClock is the stand-in's clock, moved to each event's time.
type weekClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *weekClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *weekClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// playWeek runs the week's events through respond and adds up what it
// emitted.
func playWeek(ctx context.Context, r *rig, res *result) (weekResult, *standin.Server, error) {
	clock := &weekClock{t: weekStart}
	si, err := standin.New(weekScenario(), standin.WithClock(clock.now))
	if err != nil {
		return weekResult{}, nil, fmt.Errorf("seed the stand-in: %w", err)
	}
	if err := si.Start(); err != nil {
		return weekResult{}, si, fmt.Errorf("start the stand-in: %w", err)
	}
	table, err := r.freshTable(ctx)
	if err != nil {
		return weekResult{}, si, err
	}
	fn, err := r.start(ctx, "respond", si, table, config.EnvIncidentAlarms+"="+weekAlarm+"="+weekPipeline)
	if err != nil {
		return weekResult{}, si, err
	}
	defer func() { _ = fn.Close() }()
	var emf bytes.Buffer
	for _, we := range weekEvents() {
		clock.set(we.at)
		if we.alarm != "" {
			if err := si.SetAlarmState(weekAlarm, we.alarm, "Threshold Crossed"); err != nil {
				return weekResult{}, si, err
			}
		}
		payload, _ := json.Marshal(we.ev)
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			return weekResult{}, si, fmt.Errorf("invoke respond with %s: %w", we.ev.ID, err)
		}
		res.Invocations++
		if out.Err != nil {
			res.problem("%s (%s): function error %v", we.ev.ID, we.ev.DetailType, out.Err)
		}
		emf.Write(out.Logs)
	}
	wr, err := sumWeek(emf.Bytes())
	return wr, si, err
}

// sumWeek works respond's EMF output into the four keys, as CloudWatch's
// statistics over the week would: Sum of counts, p50 of durations.
func sumWeek(emf []byte) (weekResult, error) {
	sums, err := emfsum.Sum(emf)
	if err != nil {
		return weekResult{}, err
	}
	p := "{" + delivery.DimPipeline + "=" + weekPipeline + "}"
	wr := weekResult{Sums: sums}
	wr.LeadTimes, _ = emfsum.Values(emf, delivery.MetricLeadTime+p)
	wr.Restores, _ = emfsum.Values(emf, delivery.MetricTimeToRestore+p)
	k := delivery.Keys{Deployments: int(sums[delivery.MetricDeployments+p]), Failed: int(sums[delivery.MetricChangeFailures+p]), Restores: len(wr.Restores)}
	k.LeadTime, k.TimeToRestore = medianSeconds(wr.LeadTimes), medianSeconds(wr.Restores)
	if k.Deployments > 0 {
		k.ChangeFailureRate = 100 * float64(k.Failed) / float64(k.Deployments)
	}
	wr.Keys = k
	rate := func(metric, dim, name string) float64 {
		s := sums[metric+"{"+delivery.DimOutcome+"=Succeeded,"+dim+"="+name+"}"]
		f := sums[metric+"{"+delivery.DimOutcome+"=Failed,"+dim+"="+name+"}"]
		if s+f == 0 {
			return 0
		}
		return 100 * s / (s + f)
	}
	wr.BuildRate = rate(delivery.MetricBuilds, delivery.DimProject, weekProject)
	wr.PipeRate = rate(delivery.MetricPipelineExecutions, delivery.DimPipeline, weekPipeline)
	wr.IgnoredNoProduction = sums[delivery.MetricEventsIgnored+"{"+delivery.DimReason+"="+delivery.ReasonNoProductionStage+"}"]
	return wr, nil
}

func medianSeconds(vs []float64) time.Duration {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return time.Duration(m * float64(time.Second))
}
