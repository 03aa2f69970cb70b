package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// scenario is one story the demo plays through the real binaries. Each
// later function adds its own: write a func(ctx, *rig) result and add it
// to scenarios().
type scenario struct {
	Name string
	// Expected is the outcome it must have, as the report shows it.
	Expected string
	// Function is the function it runs; the scenario fails when it is not
	// built.
	Function string
	Run      func(ctx context.Context, r *rig) result
}

// result is a scenario's outcome.
type result struct {
	Got         string
	Invocations int
	AWSCalls    int
	Elapsed     time.Duration
	// Problems say how the outcome differs from Expected; none means it
	// is as expected.
	Problems []string
	// NoteTitle and Note are shown under the table (e.g. the failure
	// message verify wrote).
	NoteTitle string
	Note      string
}

func (r *result) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// scenarios lists what the demo plays, in order.
func scenarios() []scenario {
	return []scenario{
		{
			Name:     "healthy deploy passes after a 4s bake",
			Expected: "Succeeded, ≥2 invocations",
			Function: "verify",
			Run:      verifyHealthy,
		},
		{
			Name:     "broken deploy fails with its message",
			Expected: "Failed (JobFailed)",
			Function: "verify",
			Run:      verifyBroken,
		},
		{
			Name:     "bad spec is refused, every problem named",
			Expected: "Failed (ConfigurationError)",
			Function: "verify",
			Run:      verifyBadSpec,
		},
		{
			Name:     "alarm remediated once despite duplicate delivery",
			Expected: "1 redeploy, duplicate+fixed",
			Function: "remediate",
			Run:      remediateOnce,
		},
		{
			Name:     "critical image finding reaches the security topic",
			Expected: "1 on security topic, P1, risk 90/100",
			Function: "respond",
			Run:      respondCriticalFinding,
		},
		{
			Name:     "finding opens, updates and resolves one OpsCenter ticket",
			Expected: "1 OpsItem: opened P2, updated P1, Resolved",
			Function: "respond",
			Run:      respondVulnTicket,
		},
		{
			Name:     "a week of deliveries: the four DORA keys",
			Expected: "4 deploys/week, lead 2h0m0s, CFR 50%, restore 37m30s",
			Function: "respond",
			Run:      deliveryWeek,
		},
		{
			Name:     "ECS blue/green hook fails on the green task set",
			Expected: "Failed, 1 status call(s)",
			Function: "verify",
			Run:      codeDeployHookFailsOnGreen,
		},
		{
			Name:     "a second account: verified and remediated through its roles",
			Expected: "verify Succeeded, remediate fixed, 1 redeploy in 222222222222",
			Function: "remediate",
			Run:      acrossAccounts,
		},
	}
}

// demoPipeline is where the demo's jobs claim to run.
var demoPipeline = pipelineContext{Pipeline: "sample-api", Stage: "Production", Action: "PostDeployVerify", ExecutionID: "b1e0c2d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e"}

const (
	specParameter = "/postdeploy/sample-api/verify"
	artifactName  = "BuildOutput"
	artifactFile  = "deploy/verify.yaml"
)

// scenarioFile is the path of a file under pkg/devtools/demo/scenarios.
func (r *rig) scenarioFile(name string) string {
	return filepath.Join(r.root, "pkg", "devtools", "demo", "scenarios", name)
}

// newStandin starts a stand-in seeded from a scenario file.
func (r *rig) newStandin(file string) (*standin.Server, error) {
	sc, err := standin.LoadScenario(r.scenarioFile(file))
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", file, err)
	}
	si, err := standin.New(sc)
	if err != nil {
		return nil, fmt.Errorf("seed the stand-in from %s: %w", file, err)
	}
	if err := si.Start(); err != nil {
		return nil, fmt.Errorf("start the stand-in: %w", err)
	}
	return si, nil
}

// verifyParams is UserParameters for a spec source plus the service URL.
func verifyParams(r *rig, source map[string]any) string {
	source["variables"] = map[string]string{"SERVICE_URL": r.service.URL()}
	b, _ := json.Marshal(source)
	return string(b)
}

// playVerify deploys version, then runs one verify action over the job
// event, and fills the common parts of the result.
func playVerify(ctx context.Context, r *rig, seed, version string, ev func(si *standin.Server) (events.CodePipelineJobEvent, error)) (result, jobRun, *standin.Server, error) {
	var res result
	start := time.Now()
	si, err := r.newStandin(seed)
	if err != nil {
		return res, jobRun{}, nil, err
	}
	r.service.deploy(version)
	e, err := ev(si)
	if err != nil {
		si.Close()
		return res, jobRun{}, nil, err
	}
	fn, err := r.start(ctx, "verify", si)
	if err != nil {
		si.Close()
		return res, jobRun{}, nil, err
	}
	defer func() { _ = fn.Close() }()
	run, err := runPipelineJob(ctx, fn, si, e, demoPipeline, true)
	res.Elapsed = time.Since(start)
	res.Invocations = len(run.Invocations)
	res.AWSCalls = len(si.Calls())
	res.Got = run.Outcome()
	if err != nil {
		si.Close()
		return res, run, nil, err
	}
	if run.Stalled != "" {
		res.problem("%s", run.Stalled)
	}
	if n := run.Terminal(); n != 1 {
		res.problem("the action got %d terminal reports; want exactly 1", n)
	}
	for _, inv := range run.Invocations {
		if inv.Err != nil {
			res.problem("invocation %s failed: %v", inv.RequestID, inv.Err)
		}
	}
	return res, run, si, nil
}

// verifyHealthy: the spec comes from SSM; the healthy version answers; the
// bake outlasts one invocation, so the continuation loop really runs.
func verifyHealthy(ctx context.Context, r *rig) result {
	res, run, si, err := playVerify(ctx, r, "verify-healthy.yaml", versionHealthy, func(si *standin.Server) (events.CodePipelineJobEvent, error) {
		b, err := os.ReadFile(r.scenarioFile("verify-spec.yaml"))
		if err != nil {
			return events.CodePipelineJobEvent{}, fmt.Errorf("read the spec: %w", err)
		}
		si.SetParameter(standin.Parameter{Name: specParameter, Value: string(b)})
		return newJobEvent(verifyParams(r, map[string]any{"ssmParameter": specParameter})), nil
	})
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	if res.Got != "Succeeded" {
		res.problem("the action ended %s; want Succeeded", res.Got)
		if run.Final != nil {
			res.NoteTitle, res.Note = "What verify reported for the healthy deploy", run.Final.Message+run.Final.Summary
		}
	}
	if len(run.JobIDs) < 2 {
		res.problem("the bake took %d job(s); want ≥2 (a continuation)", len(run.JobIDs))
	}
	if !publishedVerdict(si, "Succeeded") {
		res.problem("no \"Post-Deploy Verification Completed\" event with verdict Succeeded reached EventBridge")
	}
	return res
}

// verifyBroken: the spec comes from the build's output artifact (a zip
// in S3); the broken version answers 503, slowly.
func verifyBroken(ctx context.Context, r *rig) result {
	res, run, si, err := playVerify(ctx, r, "verify-broken.yaml", versionBroken, func(si *standin.Server) (events.CodePipelineJobEvent, error) {
		b, err := os.ReadFile(r.scenarioFile("verify-spec.yaml"))
		if err != nil {
			return events.CodePipelineJobEvent{}, fmt.Errorf("read the spec: %w", err)
		}
		z, err := zipOf(map[string][]byte{artifactFile: b})
		if err != nil {
			return events.CodePipelineJobEvent{}, err
		}
		bucket, key := "codepipeline-us-east-1-artifacts", "sample-api/BuildOutput/7Hc2kQe.zip"
		si.PutObject(bucket, key, z, "application/zip")
		art := events.CodePipelineInputArtifact{Name: artifactName, Location: events.CodePipelineInputLocation{
			LocationType: "S3", S3Location: events.CodePipelineS3Location{BucketName: bucket, ObjectKey: key}}}
		return newJobEvent(verifyParams(r, map[string]any{"artifactFile": artifactFile, "artifact": artifactName}), art), nil
	})
	r.service.deploy(versionHealthy)
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	if res.Got != "Failed (JobFailed)" {
		res.problem("the action ended %s; want Failed (JobFailed)", res.Got)
	}
	if run.Final != nil && run.Final.Kind == "failure" {
		res.NoteTitle = "What verify told CodePipeline about the broken deploy (PutJobFailureResult, " + run.Final.FailureType + ")"
		res.Note = run.Final.Message
		if !strings.Contains(run.Final.Message, "api-health") {
			res.problem("the failure message does not name the failing check api-health")
		}
	}
	if !publishedVerdict(si, "Failed") {
		res.problem("no \"Post-Deploy Verification Completed\" event with verdict Failed reached EventBridge")
	}
	return res
}

// verifyBadSpec replays events/verify-bad-spec.json: a spec with several
// mistakes must be refused as a ConfigurationError naming each.
func verifyBadSpec(ctx context.Context, r *rig) result {
	res, run, si, err := playVerify(ctx, r, "verify-healthy.yaml", versionHealthy, func(*standin.Server) (events.CodePipelineJobEvent, error) {
		return readJobEvent(filepath.Join(r.root, "events", "verify-bad-spec.json"))
	})
	if err != nil {
		return errorResult(err)
	}
	defer si.Close()
	if res.Got != "Failed (ConfigurationError)" {
		res.problem("the action ended %s; want Failed (ConfigurationError)", res.Got)
	}
	if run.Final != nil {
		for _, want := range []string{"bake", "checks[0].http.url", "limits.inconclusive"} {
			if !strings.Contains(run.Final.Message, want) {
				res.problem("the ConfigurationError message does not name %s", want)
			}
		}
	}
	return res
}

func errorResult(err error) result {
	return result{Got: "could not run", Problems: []string{err.Error()}}
}

// publishedVerdict reports whether verify's completion event with the
// verdict reached the stand-in's EventBridge.
func publishedVerdict(si *standin.Server, v string) bool {
	for _, e := range si.Events() {
		if e["DetailType"] != "Post-Deploy Verification Completed" {
			continue
		}
		detail, _ := e["Detail"].(string)
		var d struct {
			Verdict string `json:"verdict"`
		}
		if json.Unmarshal([]byte(detail), &d) == nil && d.Verdict == v {
			return true
		}
	}
	return false
}

func readJobEvent(path string) (events.CodePipelineJobEvent, error) {
	var ev events.CodePipelineJobEvent
	b, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("read the job event: %w", err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("decode the job event %s: %w", path, err)
	}
	return ev, nil
}

func zipOf(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
		if _, err := w.Write(b); err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}
