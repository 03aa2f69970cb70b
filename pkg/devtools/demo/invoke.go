package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// invokePipeline is where `invoke` claims a CodePipeline job runs.
var invokePipeline = pipelineContext{Pipeline: "prod-api", Stage: "Production", Action: "PostDeployVerify", ExecutionID: "3c1f0a52-9d4e-4b8a-a7f1-2e6d5c4b3a21"}

// runInvoke replays one event against a function's real binary:
//
//	go run ./pkg/devtools/demo invoke -fn verify -event events/verify-inline.json
//
// It prints the function's result, the AWS calls it made (to the
// stand-in) and its logs.
func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "the function: a directory under functions/ (verify, remediate, respond)")
	eventPath := fs.String("event", "", "the event file, e.g. events/verify-inline.json")
	seed := fs.String("scenario", "", "a stand-in scenario file seeding AWS state (default: pkg/devtools/demo/scenarios/invoke-<fn>.yaml, else <fn>.yaml, when one exists)")
	follow := fs.Bool("follow", false, "CodePipeline jobs: invoke again with the continuation token until the job ends, as CodePipeline does")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *fn == "" || *eventPath == "" {
		fmt.Fprintln(stderr, "invoke: -fn and -event are required, e.g. make invoke FN=verify EVENT=events/verify-inline.json")
		return 2
	}
	if err := invoke(ctx, *fn, *eventPath, *seed, *follow, stdout); err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 1
	}
	return 0
}

func invoke(ctx context.Context, name, eventPath, seed string, follow bool, out io.Writer) error {
	root, err := lambdarun.ModuleRoot()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
		names, _ := lambdarun.FunctionNames(root)
		return fmt.Errorf("no function %q: want one of %s", name, strings.Join(names, ", "))
	}
	payload, err := os.ReadFile(eventPath)
	if err != nil {
		return fmt.Errorf("read the event: %w", err)
	}
	if !json.Valid(payload) {
		return fmt.Errorf("%s is not JSON: Lambda only delivers JSON events", eventPath)
	}
	if seed == "" {
		for _, def := range []string{"invoke-" + name + ".yaml", name + ".yaml"} {
			if p := filepath.Join(root, "pkg", "devtools", "demo", "scenarios", def); fileExists(p) {
				seed = p
				break
			}
		}
	}
	sc := standin.Scenario{}
	if seed != "" {
		if sc, err = standin.LoadScenario(seed); err != nil {
			return fmt.Errorf("load the stand-in scenario: %w", err)
		}
	}
	si, err := standin.New(sc)
	if err != nil {
		return fmt.Errorf("seed the stand-in: %w", err)
	}
	if err := si.Start(); err != nil {
		return fmt.Errorf("start the stand-in: %w", err)
	}
	defer si.Close()

	bin, err := os.MkdirTemp("", "postdeploy-invoke-")
	if err != nil {
		return fmt.Errorf("create a directory for the bootstrap: %w", err)
	}
	defer func() { _ = os.RemoveAll(bin) }()
	bins, err := lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: root, Out: bin, Packages: []string{"./functions/" + name}})
	if err != nil {
		return err
	}
	r := &rig{root: root, binDir: bin, bins: bins}
	defer r.Close()
	fn, err := r.start(ctx, name, si)
	if err != nil {
		return err
	}
	defer func() { _ = fn.Close() }()

	fmt.Fprintf(out, "invoke %s (%s, timeout %s) with %s; AWS stand-in at %s", name, fn.ARN(), fn.Timeout(), eventPath, si.URL())
	if seed != "" {
		fmt.Fprintf(out, " seeded from %s", rel(root, seed))
	}
	fmt.Fprintln(out)

	var results []*lambdarun.Result
	var job *jobRun
	if ev, ok := codePipelineJob(payload); ok {
		run, err := runPipelineJob(ctx, fn, si, ev, invokePipeline, follow)
		if err != nil {
			return err
		}
		results, job = run.Invocations, &run
	} else {
		res, err := fn.Invoke(ctx, payload)
		if err != nil {
			return err
		}
		results = []*lambdarun.Result{res}
	}

	for i, res := range results {
		section(out, fmt.Sprintf("invocation %d of %d: request %s (%s%s)", i+1, len(results), res.RequestID, seconds(res.Duration), coldNote(res)))
		if res.Err != nil {
			fmt.Fprintf(out, "function error %s: %s\n", res.Err.Type, res.Err.Message)
		} else {
			fmt.Fprintf(out, "response: %s\n", pretty(res.Payload))
		}
	}
	if job != nil {
		writeJob(out, *job, si)
	}
	writeCalls(out, si.Calls())
	writePublished(out, si.Published())
	for i, res := range results {
		section(out, fmt.Sprintf("logs of invocation %d", i+1))
		_, _ = out.Write(res.Logs)
	}
	for _, res := range results {
		if res.Err != nil {
			return fmt.Errorf("the function failed: %s", res.Err.Type)
		}
	}
	return nil
}

// codePipelineJob recognises a CodePipeline job event.
func codePipelineJob(payload []byte) (events.CodePipelineJobEvent, bool) {
	var ev events.CodePipelineJobEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.CodePipelineJob.ID == "" {
		return ev, false
	}
	return ev, true
}

func writeJob(out io.Writer, run jobRun, si *standin.Server) {
	section(out, "CodePipeline")
	for _, id := range run.JobIDs {
		st, _ := si.Job(id)
		for _, rep := range st.Reports {
			switch {
			case rep.Kind == "failure":
				fmt.Fprintf(out, "job %s: PutJobFailureResult %s:\n%s\n", id, rep.FailureType, indent(rep.Message, "  │ "))
			case rep.ContinuationToken != "":
				fmt.Fprintf(out, "job %s: PutJobSuccessResult with a continuation token (still baking): %s\n", id, rep.Summary)
			default:
				fmt.Fprintf(out, "job %s: PutJobSuccessResult:\n%s\n", id, indent(rep.Summary, "  │ "))
				if len(rep.OutputVariables) > 0 {
					b, _ := json.Marshal(rep.OutputVariables)
					fmt.Fprintf(out, "  output variables: %s\n", b)
				}
			}
		}
	}
	if run.Stalled != "" {
		fmt.Fprintf(out, "action not finished: %s", run.Stalled)
		if run.Stalled == "continued (not followed)" {
			fmt.Fprint(out, "; add -follow to play the continuations as CodePipeline would")
		}
		fmt.Fprintln(out)
	}
}

func writeCalls(out io.Writer, calls []standin.Call) {
	section(out, fmt.Sprintf("AWS calls the function made (%d)", len(calls)))
	if len(calls) == 0 {
		fmt.Fprintln(out, "(none)")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSERVICE\tOPERATION\tPROTOCOL\tANSWER\t")
	t0 := calls[0].Time
	for _, c := range calls {
		answer := "ok"
		if c.ErrorCode != "" {
			answer = c.ErrorCode
		}
		if c.Fault != "" {
			answer += " (injected " + c.Fault + ")"
		}
		fmt.Fprintf(tw, "+%s\t%s\t%s\t%s\t%s\t\n", c.Time.Sub(t0).Round(time.Millisecond), c.Service, c.Operation, c.Protocol, answer)
	}
	_ = tw.Flush()
}

// writePublished shows the SNS notifications the function sent, as
// the subscribers would read them.
func writePublished(out io.Writer, ps []standin.Published) {
	for _, p := range ps {
		section(out, "SNS message to "+p.TopicARN)
		if len(p.Attributes) > 0 {
			b, _ := json.Marshal(p.Attributes)
			fmt.Fprintf(out, "attributes: %s\n", b)
		}
		fmt.Fprintf(out, "subject: %s\n%s\n", p.Subject, indent(p.Message, "  │ "))
	}
}

func section(out io.Writer, title string) {
	fmt.Fprintf(out, "\n── %s ──\n", title)
}

func coldNote(res *lambdarun.Result) string {
	if res.ColdStart {
		return ", cold start " + seconds(res.InitDuration)
	}
	return ""
}

func pretty(b []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return string(b)
	}
	return buf.String()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
