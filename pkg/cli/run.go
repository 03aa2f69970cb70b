package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check/registry"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

func (a *App) run(ctx context.Context, args []string) int {
	var (
		vs    = vars{}
		junit string
	)
	files, code, ok := a.flags("run", func(fs *flag.FlagSet) {
		fs.Var(vs, "var", "a variable the spec refers to as #{NAME}: NAME=VALUE (repeatable)")
		fs.StringVar(&junit, "junit", "", "write a JUnit XML report (one testcase per check) to this file")
	}, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		fmt.Fprintln(a.Stderr, "postdeploy run: name exactly one spec file: postdeploy run deploy/verify.yaml")
		return ExitUsage
	}
	file := files[0]
	data, err := a.ReadFile(file)
	if err != nil {
		fmt.Fprintf(a.Stderr, "postdeploy run: %v\n", err)
		return ExitUsage
	}
	// The same strict reading as lint (and as verify): a spec with any
	// problem is never run.
	if res := LintFile(file, data, vs); !res.Valid {
		for _, p := range res.Problems {
			fmt.Fprintln(a.Stderr, p.String())
		}
		fmt.Fprintf(a.Stderr, "postdeploy run: %s has %s; not running it\n", file, plural(len(res.Problems), "problem"))
		return ExitUsage
	}
	s, err := spec.Parse(data, vs)
	if err != nil { // LintFile said it is valid; keep the promise anyway
		fmt.Fprintf(a.Stderr, "postdeploy run: %s: %v\n", file, err)
		return ExitUsage
	}
	clients, err := a.clients(ctx)
	if err != nil {
		fmt.Fprintf(a.Stderr, "postdeploy run: %v\n", err)
		return ExitUndecided
	}
	suite, err := registry.Build(s, clients)
	if err != nil {
		fmt.Fprintf(a.Stderr, "postdeploy run: %s: %v\n", file, err)
		return ExitUsage
	}
	fmt.Fprintf(a.Stderr, "postdeploy: verifying %s: %s, bake %s every %s\n", file, plural(len(s.Checks), "check"), s.Bake, s.Interval)
	started := a.Now()
	l := verify.Local{Now: a.Now, Sleep: a.Sleep, OnSample: func(n int, at time.Time, rs []verdict.Result) {
		writeSample(a.Stderr, s, started, n, at, rs)
	}}
	rep := l.Run(ctx, s, suite)
	fmt.Fprintln(a.Stdout, rep.Message)
	if junit != "" {
		b, err := JUnit(file, started, rep)
		if err == nil {
			err = a.WriteFile(junit, b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(a.Stderr, "postdeploy run: write the JUnit report %s: %v\n", junit, err)
			return ExitUsage
		}
	}
	return exitFor(rep)
}

// exitFor is run's exit status for a report: what the verify action would
// tell CodePipeline, with the undecided outcomes kept apart from a
// failure.
func exitFor(rep verify.Report) int {
	switch {
	case rep.Interrupted:
		return ExitUndecided
	case rep.Passed:
		return ExitOK
	case rep.Verdict == verdict.Failed:
		return ExitProblems
	}
	return ExitUndecided
}

// clients builds the checks' AWS clients from the caller's configuration,
// as functions/verify does from the function's.
func (a *App) clients(ctx context.Context) (registry.Clients, error) {
	cfg, err := a.AWSConfig(ctx)
	if err != nil {
		return registry.Clients{}, fmt.Errorf("%w (postdeploy run uses your AWS credentials and region: AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID…)", err)
	}
	if cfg.Region == "" {
		return registry.Clients{}, errors.New("no AWS region: set AWS_REGION or a region in your AWS profile (postdeploy run looks where your credentials point)")
	}
	cwProto, err := awsclient.CloudWatchProtocol(a.Getenv(config.EnvCloudWatchProtocol))
	if err != nil {
		return registry.Clients{}, fmt.Errorf("%s: %w", config.EnvCloudWatchProtocol, err)
	}
	allowLoopback, err := registry.LocalProbes(a.Getenv)
	if err != nil {
		return registry.Clients{}, err
	}
	return registry.Clients{
		CloudWatch:    cloudwatch.NewFromConfig(cfg, cwProto),
		ECR:           ecr.NewFromConfig(cfg),
		Inspector:     inspector2.NewFromConfig(cfg),
		Now:           a.Now,
		AllowLoopback: allowLoopback,
		// A spec's roleArn and region (spec.Where) are honoured as verify
		// honours them: sts:AssumeRole with the caller's credentials, the
		// session named for this run in the role account's CloudTrail.
		Assumer: awsclient.NewAssumer(sts.NewFromConfig(cfg), awsclient.SessionName("postdeploy-cli", a.Now().UTC().Format("20060102T150405Z"))),
	}, nil
}

// writeSample prints one sample as a person follows a bake: its number
// out of those the bake takes, the time since the start, each check's
// verdict, and the evidence of each that did not succeed.
func writeSample(w io.Writer, s spec.Spec, started time.Time, n int, at time.Time, rs []verdict.Result) {
	total := 1
	if s.Interval > 0 {
		total = int(s.Bake.D()/s.Interval.D()) + 1
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = s.Checks[i].Name + " " + r.Verdict.String()
	}
	fmt.Fprintf(w, "sample %d/%d at +%s: %s\n", n, total, at.Sub(started).Round(time.Second), strings.Join(parts, ", "))
	for i, r := range rs {
		if r.Verdict != verdict.Succeeded {
			fmt.Fprintf(w, "  %s: %s\n", s.Checks[i].Name, r.Evidence())
		}
	}
}
