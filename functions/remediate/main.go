// Command remediate is subscribed to the SNS topics CloudWatch alarms
// notify, and fixes known failures by itself — safely, verifiably, with a
// full audit trail. It only wires; the policy, the actions and the
// safety layer live in pkg/remediate.
package main

import (
	"context"
	"embed"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// shipped is the policy shipped with the function, used when
// POSTDEPLOY_REMEDIATION_POLICY names file:policy.yaml and no such file
// sits beside the binary.
//
//go:embed policy.yaml
var shipped embed.FS

func main() {
	log := telemetry.NewLogger()
	slog.SetDefault(log)
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("remediate cannot start", "error", err.Error())
		os.Exit(1) // reported by Lambda as an init error
	}
	lambda.Start(h) // the raw payload: see remediate.Handler.Invoke
}

// newHandler reads the configuration, loads and validates the policy,
// and builds every client once per cold start.
func newHandler(ctx context.Context, getenv config.Getenv, log *slog.Logger) (*remediate.Handler, error) {
	cfg, err := config.LoadRemediate(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsclient.Load(ctx)
	if err != nil {
		return nil, err
	}
	cwProto, err := awsclient.CloudWatchProtocol(cfg.CloudWatchProtocol)
	if err != nil {
		return nil, err
	}
	home, err := config.AccountID(getenv)
	if err != nil {
		return nil, err
	}
	router := notify.Router{API: sns.NewFromConfig(awsCfg), Topics: cfg.Topics, Format: cfg.NotifyFormat}
	metrics := telemetry.NewMetrics(cfg.MetricNamespace, os.Stdout)
	engine, err := remediate.NewEngine(ctx, remediate.Setup{
		AWS:            awsCfg,
		Alarms:         cloudwatch.NewFromConfig(awsCfg, cwProto),
		Notify:         router,
		Store:          state.New(dynamodb.NewFromConfig(awsCfg), cfg.StateTable),
		Metrics:        metrics,
		Log:            log,
		PolicySource:   cfg.PolicySource,
		PolicyDir:      getenv("LAMBDA_TASK_ROOT"),
		Shipped:        shipped,
		DryRun:         cfg.DryRun,
		RunbookBaseURL: cfg.RunbookBaseURL,
		Members: remediate.NewMembers(home, awsCfg, sts.NewFromConfig(awsCfg), func(c aws.Config) remediate.AlarmAPI {
			return cloudwatch.NewFromConfig(c, cwProto)
		}),
	})
	if err != nil {
		return nil, err
	}
	return &remediate.Handler{
		Engine:  engine,
		Log:     log,
		Metrics: metrics,
	}, nil
}
