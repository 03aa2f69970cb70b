package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// environment is what the functions run against: a stand-in seeded with
// nothing (cold starts make no call that needs state), dynalite with a
// state table, and each function's settings as the stack gives them.
type environment struct {
	root  string
	si    *standin.Server
	dyn   *dynalite.Server
	table string
}

const benchTable = "postdeploy-bench-state"

func newEnvironment(ctx context.Context, root string) (*environment, error) {
	si, err := standin.New(standin.Scenario{})
	if err != nil {
		return nil, fmt.Errorf("create the AWS stand-in: %w", err)
	}
	if err := si.Start(); err != nil {
		return nil, fmt.Errorf("start the AWS stand-in: %w", err)
	}
	e := &environment{root: root, si: si, table: benchTable}
	e.dyn, err = dynalite.Start(ctx)
	if err != nil {
		si.Close()
		return nil, fmt.Errorf("start dynalite for the functions' state table: %w", err)
	}
	if err := state.CreateTable(ctx, e.dyn.Client(), benchTable); err != nil {
		e.Close()
		return nil, fmt.Errorf("create the state table %q in dynalite: %w", benchTable, err)
	}
	return e, nil
}

func (e *environment) Close() {
	if e.dyn != nil {
		_ = e.dyn.Close()
	}
	if e.si != nil {
		e.si.Close()
	}
}

// topicARN is the SNS topic of an alert kind.
func topicARN(k notify.Kind) string {
	return "arn:aws:sns:" + standin.Region + ":" + standin.AccountID + ":postdeploy-" + string(k)
}

// tokenKeySecret holds verify's continuation-token key in the stand-in.
const tokenKeySecret = "postdeploy/bench/token-key"

// fnEnv is the environment a function gets: the stand-in's endpoint, the
// settings the stack would give it, DynamoDB at dynalite.
func (e *environment) fnEnv(si *standin.Server, fn string) []string {
	env := append([]string{}, si.Env()...)
	env = append(env, "AWS_ENDPOINT_URL_DYNAMODB="+e.dyn.Endpoint)
	switch fn {
	case "verify":
		env = append(env, config.EnvEventBus+"=default")
		// verify's continuation-token key, as the stack provides it.
		si.EnsureSecret(tokenKeySecret)
		env = append(env, config.EnvTokenKeySecret+"="+tokenKeySecret)
		// The heavy sample's probes answer on 127.0.0.1: only the local
		// harness opts probes into loopback, as the demo does.
		env = append(env, config.EnvLocalProbes+"=loopback")
	case "respond", "remediate":
		for _, k := range notify.Kinds {
			env = append(env, config.TopicEnv(k)+"="+topicARN(k))
		}
		env = append(env, config.EnvStateTable+"="+e.table, config.EnvRunbookBaseURL+"=https://runbooks.example.com/postdeploy")
	}
	return env
}

// trivialEvent is the least work each function can be given: verify one
// alarm check over a prefix nothing matches, remediate an alarm back to
// OK, respond an event no rule routes. Each still decodes its event and
// answers as it would in Lambda.
func (e *environment) trivialEvent(fn string) ([]byte, error) {
	switch fn {
	case "fn":
		return []byte(`{"action":"echo"}`), nil
	case "verify":
		return []byte(`{"CodePipeline.job":{"id":"` + newJobID() + `","accountId":"123456789012","data":{"actionConfiguration":{"configuration":{"FunctionName":"postdeploy-verify","UserParameters":"{\"spec\":{\"bake\":\"0s\",\"checks\":[{\"name\":\"alarms\",\"alarms\":{\"prefix\":\"nothing-matches-\"}}]}}"}},"inputArtifacts":[],"outputArtifacts":[]}}}`), nil
	case "remediate":
		return os.ReadFile(filepath.Join(e.root, "events", "remediate-ecs-ok.json"))
	case "respond":
		return os.ReadFile(filepath.Join(e.root, "events", "respond-unknown.json"))
	}
	return nil, fmt.Errorf("no trivial event for function %q", fn)
}

// coldStart is one function's cold-start figures.
type coldStart struct {
	Function string
	Samples  []time.Duration
	Median   time.Duration
	P90      time.Duration
	// Inits are the costliest package initialisers (inittrace).
	Inits []initCost
	// InitTotal is the clock time of every package initialiser.
	InitTotal time.Duration
	// MainSetup is the median init duration less the package
	// initialisers: main's own work before the first GET /next (config,
	// logger, AWS config, clients).
	MainSetup time.Duration
	// IdleRSSKiB is the peak RSS after the trivial event: what the
	// binary costs before any real work.
	IdleRSSKiB int64
}

// coldStarts starts fn runs times, each for one trivial event, and
// records process start to first response.
func coldStarts(ctx context.Context, e *environment, fn, bin string, runs int) (coldStart, error) {
	cs := coldStart{Function: fn}
	ev, err := e.trivialEvent(fn)
	if err != nil {
		return cs, err
	}
	var inits []time.Duration
	for range runs {
		res, err := invokeCold(ctx, e, fn, bin, ev, nil, nil)
		if err != nil {
			return cs, err
		}
		cs.Samples = append(cs.Samples, res.InitDuration+res.Duration)
		inits = append(inits, res.InitDuration)
	}
	cs.Median, cs.P90 = percentile(cs.Samples, 50), percentile(cs.Samples, 90)
	cs.MainSetup = percentile(inits, 50)
	return cs, nil
}

// invokeCold runs bin once, cold, for ev.
// When rss is set it receives the process's peak RSS after the
// invocation.
func invokeCold(ctx context.Context, e *environment, fn, bin string, ev []byte, extra []string, rss *int64) (*lambdarun.Result, error) {
	f, err := lambdarun.Start(lambdarun.Config{Name: fn, Bootstrap: bin, Timeout: 30 * time.Second, Env: append(e.fnEnv(e.si, fn), extra...)})
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	res, err := f.Invoke(ctx, ev)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, fmt.Errorf("%s answered the trivial event with %w\nlogs:\n%s", fn, res.Err, res.Logs)
	}
	if !res.ColdStart {
		return nil, fmt.Errorf("%s: the first invocation was not a cold start", fn)
	}
	if rss != nil {
		if *rss, err = peakRSS(bin); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// initCost is one package initialiser's cost, from GODEBUG=inittrace=1.
type initCost struct {
	Package string
	Clock   time.Duration
	Bytes   int64
}

// initTrace starts fn once with GODEBUG=inittrace=1 and returns its
// package initialisers and its peak RSS after the trivial event.
func initTrace(ctx context.Context, e *environment, fn, bin string, rss *int64) ([]initCost, error) {
	ev, err := e.trivialEvent(fn)
	if err != nil {
		return nil, err
	}
	res, err := invokeCold(ctx, e, fn, bin, ev, []string{"GODEBUG=inittrace=1"}, rss)
	if err != nil {
		return nil, err
	}
	return parseInitTrace(string(res.Logs)), nil
}

// parseInitTrace reads the runtime's inittrace lines:
//
//	init github.com/aws/aws-sdk-go-v2/aws @0.52 ms, 0.013 ms clock, 4096 bytes, 40 allocs
func parseInitTrace(logs string) []initCost {
	var out []initCost
	for line := range strings.SplitSeq(logs, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "init ")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		// pkg @T ms, C ms clock, B bytes, A allocs
		if len(fields) < 8 || !strings.HasPrefix(fields[1], "@") || fields[5] != "clock," {
			continue
		}
		clock, err := strconv.ParseFloat(fields[3], 64)
		if err != nil {
			continue
		}
		b, _ := strconv.ParseInt(fields[6], 10, 64)
		out = append(out, initCost{Package: fields[0], Clock: time.Duration(clock * float64(time.Millisecond)), Bytes: b})
	}
	return out
}

func newJobID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, time.Now().UnixNano()&0xffffffffffff)
}
