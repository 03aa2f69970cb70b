package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// fnSettings is how the demo deploys one function under the harness: its
// timeout and the environment the CDK stack would give it.
type fnSettings struct {
	Timeout time.Duration
	Env     []string
	// UsesDynamoDB: the function gets AWS_ENDPOINT_URL_DYNAMODB pointing
	// at dynalite and a state table.
	UsesDynamoDB bool
}

// verifyTimeout and verifyMargin make the demo's 4 s bake (one sample a
// second) need two invocations: verify stops sampling at deadline -
// min(margin, timeout/4), so with a 3 s timeout it samples at 0, 1 and
// 2 s, hands over with a continuation token, and the second invocation
// takes the 3 s sample and reports.
const (
	verifyTimeout = 3 * time.Second
	verifyMargin  = 500 * time.Millisecond
)

// tokenKeySecret is the Secrets Manager secret holding verify's
// continuation-token key in the stand-in.
const tokenKeySecret = "postdeploy/demo/token-key"

// stateTable is the DynamoDB table the stateful functions share.
const stateTable = "postdeploy-state"

// functionSettings are the functions the demo knows how to run. A
// function missing from functions/ is not built and its scenarios report
// that they cannot run.
var functionSettings = map[string]fnSettings{
	"verify": {
		Timeout: verifyTimeout,
		Env: []string{
			config.EnvSafetyMargin + "=" + verifyMargin.String(),
			config.EnvEventBus + "=default",
			// The demo's service listens on 127.0.0.1: only the local
			// harness opts probes into loopback, never the stack or a spec.
			config.EnvLocalProbes + "=loopback",
			// The stack's continuation-token key secret; start seeds it
			// in the stand-in (standin.EnsureSecret).
			config.EnvTokenKeySecret + "=" + tokenKeySecret,
		},
	},
	"respond": {
		Timeout:      10 * time.Second,
		UsesDynamoDB: true,
		Env: append(topicEnv(),
			config.EnvStateTable+"="+stateTable,
			config.EnvAssetCriticality+"=prod-api=critical",
			config.EnvRunbookBaseURL+"=https://runbooks.example.com/postdeploy",
		),
	},
	"remediate": {
		Timeout:      30 * time.Second,
		UsesDynamoDB: true,
		Env: append(topicEnv(),
			config.EnvStateTable+"="+stateTable,
			config.EnvRemediationPolicy+"=ssm:"+remediationPolicyParameter,
			config.EnvRunbookBaseURL+"=https://runbooks.example.com/postdeploy",
		),
	},
}

// remediationPolicyParameter holds the demo's remediation policy
// (scenarios/remediate.yaml seeds it).
const remediationPolicyParameter = "/postdeploy/demo/remediation-policy"

// topicARN is the demo's SNS topic for an alert kind.
func topicARN(k notify.Kind) string {
	return "arn:aws:sns:" + standin.Region + ":" + standin.AccountID + ":postdeploy-" + string(k)
}

// topicEnv is one POSTDEPLOY_TOPIC_<KIND> per alert kind, as the stack
// sets them.
func topicEnv() []string {
	var env []string
	for _, k := range notify.Kinds {
		env = append(env, config.TopicEnv(k)+"="+topicARN(k))
	}
	return env
}

// rig is everything the scenarios share: the bootstraps built once, the
// sample service, and dynalite (started on first use).
type rig struct {
	root      string            // the module root
	binDir    string            // where the bootstraps are
	bins      map[string]string // function name → bootstrap
	buildTime time.Duration
	service   *sampleService
	// logs receives every function's output as it runs (-v); nil keeps
	// it per invocation only.
	logs io.Writer

	dynOnce sync.Once
	dyn     *dynalite.Server
	dynErr  error
}

// newRig builds every function under functions/ for this host and starts
// the sample service.
func newRig(ctx context.Context, logs io.Writer) (*rig, error) {
	root, err := lambdarun.ModuleRoot()
	if err != nil {
		return nil, err
	}
	names, err := lambdarun.FunctionNames(root)
	if err != nil {
		return nil, err
	}
	bin, err := os.MkdirTemp("", "postdeploy-demo-")
	if err != nil {
		return nil, fmt.Errorf("create a directory for the bootstraps: %w", err)
	}
	r := &rig{root: root, binDir: bin, logs: logs}
	start := time.Now()
	pkgs := make([]string, len(names))
	for i, n := range names {
		pkgs[i] = "./functions/" + n
	}
	r.bins, err = lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: root, Out: bin, Packages: pkgs})
	if err != nil {
		_ = os.RemoveAll(bin)
		return nil, fmt.Errorf("build the functions: %w", err)
	}
	r.buildTime = time.Since(start)
	r.service = startSampleService()
	return r, nil
}

// Close stops everything the rig started and removes the bootstraps.
func (r *rig) Close() {
	if r.service != nil {
		r.service.Close()
	}
	if r.dyn != nil {
		_ = r.dyn.Close()
	}
	_ = os.RemoveAll(r.binDir)
}

// dynalite starts dynalite once and returns it.
func (r *rig) dynalite(ctx context.Context) (*dynalite.Server, error) {
	r.dynOnce.Do(func() {
		r.dyn, r.dynErr = dynalite.Start(ctx)
		if r.dynErr != nil {
			return
		}
		r.dynErr = createStateTable(ctx, r.dyn)
	})
	return r.dyn, r.dynErr
}

// errNotBuilt says a scenario's function is not in functions/ yet.
var errNotBuilt = errors.New("not in functions/ yet")

// start runs a function under the harness, pointed at the stand-in (and
// dynalite when it uses DynamoDB). extra is added last.
func (r *rig) start(ctx context.Context, name string, si *standin.Server, extra ...string) (*lambdarun.Function, error) {
	return r.startWithTimeout(ctx, name, si, 0, extra...)
}

// startWithTimeout is start with the function timeout set (0 keeps the
// function's own).
func (r *rig) startWithTimeout(ctx context.Context, name string, si *standin.Server, timeout time.Duration, extra ...string) (*lambdarun.Function, error) {
	bin, ok := r.bins[name]
	if !ok {
		return nil, fmt.Errorf("function %q: %w", name, errNotBuilt)
	}
	set := functionSettings[name]
	if timeout > 0 {
		set.Timeout = timeout
	}
	if name == "verify" {
		si.EnsureSecret(tokenKeySecret)
	}
	env := append([]string{}, si.Env()...)
	env = append(env, set.Env...)
	if set.UsesDynamoDB {
		d, err := r.dynalite(ctx)
		if err != nil {
			return nil, fmt.Errorf("function %q needs DynamoDB: %w", name, err)
		}
		env = append(env, "AWS_ENDPOINT_URL_DYNAMODB="+d.Endpoint)
	}
	env = append(env, extra...)
	logs := r.logs
	if logs != nil {
		logs = &prefixWriter{prefix: "  " + name + " | ", w: logs}
	}
	return lambdarun.Start(lambdarun.Config{Name: name, Bootstrap: bin, Timeout: set.Timeout, Env: env, Logs: logs})
}

// prefixWriter prefixes each line written through it.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	w      io.Writer
	mid    bool // in the middle of a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// createStateTable creates the functions' state table in dynalite.
func createStateTable(ctx context.Context, d *dynalite.Server) error {
	if err := state.CreateTable(ctx, d.Client(), stateTable); err != nil {
		return fmt.Errorf("create the state table %q in dynalite: %w", stateTable, err)
	}
	return nil
}
