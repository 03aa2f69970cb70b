// Command verify is the CodePipeline Invoke action that verifies a
// deployment after it lands: it runs the verification spec over the bake
// window and reports success or failure to CodePipeline. It only wires;
// the decisions live in pkg/verify and pkg/check.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/registry"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

func main() {
	log := telemetry.NewLogger()
	slog.SetDefault(log)
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("verify cannot start", "error", err.Error())
		os.Exit(1) // reported by Lambda as an init error
	}
	lambda.Start(h.Handle)
}

// newHandler reads the configuration and builds every client once per
// cold start.
func newHandler(ctx context.Context, getenv config.Getenv, log *slog.Logger) (*verify.Verifier, error) {
	cfg, err := config.LoadVerify(getenv)
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
	clients := registry.Clients{
		CloudWatch: cloudwatch.NewFromConfig(awsCfg, cwProto),
		ECR:        ecr.NewFromConfig(awsCfg),
		Inspector:  inspector2.NewFromConfig(awsCfg),
		Now:        time.Now,
	}
	return &verify.Verifier{
		CodePipeline: codepipeline.NewFromConfig(awsCfg),
		Loader: verify.Loader{
			SSM: ssm.NewFromConfig(awsCfg),
			S3: func(c aws.Credentials) verify.S3API {
				return awsclient.S3(awsCfg, credentials.StaticCredentialsProvider{Value: c})
			},
		},
		Build:        func(s spec.Spec) (check.Suite, error) { return registry.Build(s, clients) },
		Events:       telemetry.Events{API: eventbridge.NewFromConfig(awsCfg), Bus: cfg.EventBus, Source: contract.VerificationSource},
		Metrics:      telemetry.NewMetrics(cfg.MetricNamespace, os.Stdout),
		Log:          log,
		SafetyMargin: cfg.SafetyMargin,
	}, nil
}
