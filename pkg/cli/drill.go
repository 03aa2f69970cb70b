package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postdeploy/postdeploy/pkg/drill"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// drillUsage is `postdeploy drill`'s line in the usage.
const drillUsage = `  postdeploy drill --stack NAME [--region REGION] [--timeout 60s]
      Alert drill of a deployed stack with your AWS credentials: set each alarm
      to ALARM ("postdeploy drill"), confirm the notification, respond and
      remediate (dry run), restore every alarm; check the dashboards have data.
`

// drill runs the alert drill (pkg/drill) against a deployed stack. Exit
// status: 0 every alert path works, 1 one is broken, 2 usage, 3 could not
// start (no such stack, another version, no AWS configuration) or
// interrupted.
func (a *App) drill(ctx context.Context, args []string) int {
	var (
		stack, region string
		timeout       time.Duration
	)
	rest, code, ok := a.flags("drill", func(fs *flag.FlagSet) {
		fs.StringVar(&stack, "stack", "", "the deployed stack's name (required; `make deploy` names it Postdeploy)")
		fs.StringVar(&region, "region", "", "its region (default: your AWS configuration's)")
		fs.DurationVar(&timeout, "timeout", drill.DefaultTimeout, "how long each alarm's alert path may take")
	}, args)
	if !ok {
		return code
	}
	if stack == "" || len(rest) > 0 {
		fmt.Fprint(a.Stderr, "postdeploy drill: name the stack and nothing else: postdeploy drill --stack Postdeploy [--region eu-west-1]\n")
		return ExitUsage
	}
	cfg, err := a.AWSConfig(ctx)
	if err != nil {
		fmt.Fprintf(a.Stderr, "postdeploy drill: load your AWS configuration: %v\n", err)
		return ExitUndecided
	}
	if region != "" {
		cfg.Region = region
	}
	if cfg.Region == "" {
		fmt.Fprint(a.Stderr, "postdeploy drill: no AWS region: pass --region or set AWS_REGION\n")
		return ExitUndecided
	}
	ddb := dynamodb.NewFromConfig(cfg)
	d := &drill.Drill{
		Stacks:  cloudformation.NewFromConfig(cfg),
		Alarms:  cloudwatch.NewFromConfig(cfg),
		Topics:  sns.NewFromConfig(cfg),
		Queues:  sqs.NewFromConfig(cfg),
		Trail:   func(table string) drill.AuditTrail { return state.New(ddb, table) },
		Timeout: timeout,
		Log:     a.Stderr,
		Now:     a.Now,
		Sleep:   a.Sleep,
	}
	return RunDrill(ctx, d, stack, a)
}

// RunDrill runs d against stack and prints its report on a's stdout
// (progress and errors on stderr), returning the exit status.
func RunDrill(ctx context.Context, d *drill.Drill, stack string, a *App) int {
	rep, err := d.Run(ctx, stack)
	if rep != nil {
		if werr := rep.Write(a.Stdout); werr != nil {
			fmt.Fprintf(a.Stderr, "postdeploy drill: %v\n", werr)
		}
	}
	switch {
	case err != nil: // drill.ErrNoStack, drill.ErrOtherVersion, an interruption
		fmt.Fprintf(a.Stderr, "postdeploy drill: %v\n", err)
		return ExitUndecided
	case !rep.OK():
		return ExitProblems
	}
	return ExitOK
}
