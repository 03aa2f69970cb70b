package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	out      string
	bench    string
	dist     string
	runs     int
	findings int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "where to write the report, relative to the module root")
	fs.StringVar(&o.bench, "bench", "", "go test -bench output to take the in-process figures from (make bench writes dist/bench.txt)")
	fs.StringVar(&o.dist, "dist", "dist", "where make build put <fn>/bootstrap (linux/arm64), relative to the module root")
	fs.IntVar(&o.runs, "runs", 15, "cold starts per function")
	fs.IntVar(&o.findings, "findings", 10000, "findings respond triages for its peak RSS (a multiple of 100)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.runs < 1 || o.findings < 100 || o.findings%100 != 0 {
		fmt.Fprintf(stderr, "benchreport: -runs %d, -findings %d: want -runs ≥ 1 and -findings a multiple of 100 (100 findings per event)\n", o.runs, o.findings)
		return 2
	}
	rep, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "benchreport:", err)
		return 1
	}
	path := o.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(rep.root, path)
	}
	// A document for the repository, read by everyone: 0644 like the
	// rest of the checkout.
	if err := os.WriteFile(path, []byte(rep.markdown()+keptSections(path)), 0o644); err != nil { //nolint:gosec // G306: a checked-in document, not a secret
		fmt.Fprintln(stderr, "benchreport: write the report:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	for _, f := range rep.figures {
		mark := "ok"
		if f.Over {
			mark = "OVER TARGET"
		}
		fmt.Fprintf(stdout, "  %-55s %-22s target %-12s %s\n", f.Name, f.Measured, f.Target, mark)
	}
	return 0
}

// measure takes every figure.
func measure(ctx context.Context, o options, log io.Writer) (*report, error) {
	root, err := lambdarun.ModuleRoot()
	if err != nil {
		return nil, err
	}
	rep := &report{root: root, started: time.Now().UTC(), machine: describeMachine(), runs: o.runs}
	rep.loadBefore = loadAverage()

	bin, err := os.MkdirTemp("", "postdeploy-bench-")
	if err != nil {
		return nil, fmt.Errorf("create a directory for the bootstraps: %w", err)
	}
	defer func() { _ = os.RemoveAll(bin) }()
	fns, err := lambdarun.FunctionNames(root)
	if err != nil {
		return nil, err
	}
	pkgs := []string{"./pkg/devtools/lambdarun/testdata/fn"}
	for _, fn := range fns {
		pkgs = append(pkgs, "./functions/"+fn)
	}
	fmt.Fprintf(log, "building %d bootstraps for this host\n", len(pkgs))
	bins, err := lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: root, Out: bin, Packages: pkgs})
	if err != nil {
		return nil, fmt.Errorf("build the bootstraps for this host: %w", err)
	}

	env, err := newEnvironment(ctx, root)
	if err != nil {
		return nil, err
	}
	defer env.Close()

	fmt.Fprintf(log, "cold starts: %d per function\n", o.runs)
	floor, err := coldStarts(ctx, env, "fn", bins["fn"], o.runs)
	if err != nil {
		return nil, fmt.Errorf("cold start of the bare aws-lambda-go bootstrap: %w", err)
	}
	rep.floor = floor
	for _, fn := range fns {
		cs, err := coldStarts(ctx, env, fn, bins[fn], o.runs)
		if err != nil {
			return nil, fmt.Errorf("cold start of %s: %w", fn, err)
		}
		cs.Inits, err = initTrace(ctx, env, fn, bins[fn], &cs.IdleRSSKiB)
		if err != nil {
			return nil, fmt.Errorf("init trace of %s: %w", fn, err)
		}
		for _, c := range cs.Inits {
			cs.InitTotal += c.Clock
		}
		cs.MainSetup = max(cs.MainSetup-cs.InitTotal, 0)
		sort.Slice(cs.Inits, func(i, j int) bool { return cs.Inits[i].Clock > cs.Inits[j].Clock })
		rep.cold = append(rep.cold, cs)
	}

	fmt.Fprintln(log, "package sizes")
	for _, fn := range fns {
		sz, err := measurePackage(ctx, filepath.Join(root, o.dist, fn, "bootstrap"), bins[fn])
		if err != nil {
			return nil, err
		}
		sz.Function = fn
		if sz.Breakers, err = findDCEBreakers(ctx, root, "./functions/"+fn); err != nil {
			return nil, err
		}
		rep.sizes = append(rep.sizes, sz)
	}

	if _, ok := bins["verify"]; ok {
		fmt.Fprintf(log, "verify: heavy sample (%d probes, %d alarms, %d metric queries)\n", heavyProbes, heavyAlarms, heavyMetricQueries)
		h, err := heavyVerify(ctx, env, bins["verify"])
		if err != nil {
			return nil, fmt.Errorf("verify heavy sample: %w", err)
		}
		rep.verify = &h
	}
	if _, ok := bins["respond"]; ok {
		fmt.Fprintf(log, "respond: triage %d findings\n", o.findings)
		h, err := heavyRespond(ctx, env, bins["respond"], o.findings)
		if err != nil {
			return nil, fmt.Errorf("respond triage of %d findings: %w", o.findings, err)
		}
		rep.respond = &h
	}

	if o.bench != "" {
		path := o.bench
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read the go test -bench output: %w (make bench writes it; or leave -bench out)", err)
		}
		rep.benches, err = parseBench(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		rep.benchFile = o.bench
	}
	rep.loadAfter = loadAverage()
	rep.finished = time.Now().UTC()
	rep.build()
	return rep, nil
}
