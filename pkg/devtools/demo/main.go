package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// demoTimeout bounds the whole demo; it normally takes well under a minute.
const demoTimeout = 3 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program; it returns the exit code so every deferred cleanup
// runs before the process exits.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "invoke" {
		return runInvoke(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "drill" {
		return runDrillCommand(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "stream every function's logs while the scenarios run")
	only := fs.String("run", "", "play only the scenarios whose name matches this regular expression")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./pkg/devtools/demo [-v] [-run REGEXP]")
		fmt.Fprintln(stderr, "       go run ./pkg/devtools/demo invoke -fn NAME -event FILE [-scenario FILE] [-follow]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(stderr, "demo: -run %q: %v\n", *only, err)
			return 2
		}
	}
	var logs io.Writer
	if *verbose {
		logs = stderr
	}
	ps, total, build, err := playAll(ctx, filter, logs, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	writeReport(stdout, ps, total, build)
	for _, p := range ps {
		if !p.ok() {
			return 1
		}
	}
	fmt.Fprintln(stdout, "Replay one event against one function: make invoke FN=verify EVENT=events/verify-inline.json")
	return 0
}

// playList is the scenarios to play (tests replace it).
var playList = scenarios

// playAll builds the functions, starts the shared parts and plays each
// scenario in turn.
func playAll(ctx context.Context, filter *regexp.Regexp, logs, progress io.Writer) ([]played, time.Duration, time.Duration, error) {
	start := time.Now()
	fmt.Fprintln(progress, "postdeploy demo: real function binaries under a local Lambda Runtime API, talking to a local AWS stand-in and dynalite over the real SDK wire protocols. No AWS account, no network.")
	fmt.Fprint(progress, "building the functions for this machine… ")
	r, err := newRig(ctx, logs)
	if err != nil {
		fmt.Fprintln(progress)
		return nil, 0, 0, err
	}
	defer r.Close()
	// The build is bounded by the go command; the scenarios by demoTimeout.
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	fmt.Fprintf(progress, "%s in %s\nsample service on %s\n\n", strings.Join(keys(r.bins), ", "), seconds(r.buildTime), r.service.URL())

	var ps []played
	for _, sc := range playList() {
		if filter != nil && !filter.MatchString(sc.Name) {
			continue
		}
		fmt.Fprintf(progress, "▶ %s… ", sc.Name)
		var res result
		if _, ok := r.bins[sc.Function]; !ok {
			res = result{Got: "not run", Problems: []string{fmt.Sprintf("functions/%s is not built (no functions/%s/main.go)", sc.Function, sc.Function)}}
		} else {
			res = sc.Run(ctx, r)
		}
		fmt.Fprintf(progress, "%s (%s)\n", res.Got, seconds(res.Elapsed))
		ps = append(ps, played{scenario: sc, result: res})
		if ctx.Err() != nil {
			return ps, time.Since(start), r.buildTime, fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
	}
	fmt.Fprintln(progress)
	return ps, time.Since(start), r.buildTime, nil
}

func keys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
