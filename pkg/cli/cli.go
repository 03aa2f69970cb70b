package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/deadline"
)

// Exit statuses, documented in the README ("postdeploy CLI").
const (
	// ExitOK: lint found nothing; run passed (what verify reports as
	// success: Succeeded, or undecided with limits.inconclusive: pass).
	ExitOK = 0
	// ExitProblems: lint found problems; run's verdict is Failed.
	ExitProblems = 1
	// ExitUsage: bad arguments, an unreadable file, or (run) an invalid
	// spec or a JUnit report that could not be written.
	ExitUsage = 2
	// ExitUndecided: run ended Inconclusive or in Error (without
	// limits.inconclusive: pass), was interrupted, or could not start
	// (no AWS credentials or region).
	ExitUndecided = 3
)

// App is the command line tool with what it reaches outside: tests
// replace any of them; Main uses the process's own.
type App struct {
	Stdout, Stderr io.Writer
	// Stdin is what `postdeploy lint -` reads (default os.Stdin).
	Stdin io.Reader
	// ReadFile reads a spec (default ReadSpec).
	ReadFile func(string) ([]byte, error)
	// WriteFile writes the JUnit report (default os.WriteFile).
	WriteFile func(string, []byte, os.FileMode) error
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// AWSConfig loads the caller's AWS configuration (default
	// awsclient.Load: the SDK's default chain, AWS_ENDPOINT_URL and
	// AWS_ENDPOINT_URL_<SERVICE> included).
	AWSConfig func(context.Context) (aws.Config, error)
	// Now and Sleep are the clock (default time.Now, deadline.Sleep).
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// Main runs the tool with args (without the program name) and returns
// the exit status. An interrupt (Ctrl-C) or SIGTERM ends a run early.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return (&App{Stdout: stdout, Stderr: stderr}).Run(ctx, args)
}

func (a *App) defaults() {
	if a.Stdin == nil {
		a.Stdin = os.Stdin
	}
	if a.ReadFile == nil {
		a.ReadFile = ReadSpec
	}
	if a.WriteFile == nil {
		a.WriteFile = os.WriteFile
	}
	if a.Getenv == nil {
		a.Getenv = os.Getenv
	}
	if a.AWSConfig == nil {
		a.AWSConfig = awsclient.Load
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Sleep == nil {
		a.Sleep = deadline.Sleep
	}
}

const usage = `postdeploy verifies a deployment with a verification spec.

Usage:
  postdeploy lint [--format text|json] [--var NAME=VALUE]... SPEC...
      Validate specs strictly; print every problem as FILE:LINE:COLUMN: PATH: MESSAGE.
  postdeploy run [--var NAME=VALUE]... [--junit FILE] SPEC
      Run the verification with your AWS credentials and region; print each
      sample, then the message verify would send.
  postdeploy schema
      Print the spec's JSON Schema.
` + drillUsage + `
Exit status: 0 clean / passed, 1 problems / Failed, 2 usage or spec error,
3 Inconclusive, Error, interrupted, or no AWS configuration.
`

// Run runs one command.
func (a *App) Run(ctx context.Context, args []string) int {
	a.defaults()
	if len(args) == 0 {
		fmt.Fprint(a.Stderr, usage)
		return ExitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "lint":
		return a.lint(rest)
	case "run":
		return a.run(ctx, rest)
	case "schema":
		return a.schema(rest)
	case "drill":
		return a.drill(ctx, rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(a.Stderr, "postdeploy: unknown command %q (commands: lint, run, schema, drill)\n\n%s", cmd, usage)
		return ExitUsage
	}
}

// flags returns a flag set for a command that reports its problems on
// stderr, and parses args with it; ok is false (and the usage printed)
// on a bad flag.
func (a *App) flags(name string, define func(*flag.FlagSet), args []string) ([]string, int, bool) {
	fs := flag.NewFlagSet("postdeploy "+name, flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	define(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ExitOK, false
		}
		return nil, ExitUsage, false
	}
	return fs.Args(), 0, true
}

// vars is the repeated --var NAME=VALUE flag.
type vars map[string]string

func (v vars) String() string { return "" }

func (v vars) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if _, dup := v[name]; dup {
		return fmt.Errorf("variable %q is given twice", name)
	}
	v[name] = value
	return nil
}
