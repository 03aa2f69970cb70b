// Command verify is the CodePipeline Invoke action that verifies a
// deployment after it lands: it runs the verification spec over the bake
// window and reports success or failure to CodePipeline. It only wires;
// the decisions live in pkg/verify and pkg/check.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/registry"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// A verify that cannot be configured must still end the pipeline's wait
// and tell Lambda why, never exit with a bare status 1 (Lambda would show
// Runtime.ExitError and the job would wait out its 20 minutes):
//   - when a CodePipeline client can be built, the runtime loop runs
//     verify.Unconfigured, which fails every job with a
//     ConfigurationError naming the problem and returns a
//     verify.ConfigError with the same message to Lambda;
//   - when not even that client can be built (the AWS SDK configuration
//     itself is bad), no job can be failed, so the problem goes to
//     Lambda's init error (verify.ReportInitError) and the process exits.
func main() {
	log := telemetry.NewLogger()
	slog.SetDefault(log)
	ctx := context.Background()
	handle, err := setup(ctx, os.Getenv, log)
	if err != nil {
		log.ErrorContext(ctx, "verify cannot start and cannot reach CodePipeline; reporting Lambda's init error", "errorType", verify.InitErrorType, "error", err.Error())
		if rerr := verify.ReportInitError(ctx, nil, os.Getenv("AWS_LAMBDA_RUNTIME_API"), err); rerr != nil {
			log.ErrorContext(ctx, "could not report the init error", "error", rerr.Error())
		}
		os.Exit(1)
	}
	lambda.Start(handle)
}

// handler is what the runtime loop runs: *verify.Verifier or
// *verify.Unconfigured, each a lambda.Handler that decodes the payload
// itself (so anything but a CodePipeline job is refused by name) and a
// typed Handle for the job.
type handler interface {
	lambda.Handler
	Handle(context.Context, events.CodePipelineJobEvent) error
}

// setup reads the configuration and builds every client once per cold
// start. With a bad configuration it returns verify.Unconfigured's
// handler; it returns an error only when no CodePipeline client can be
// built.
func setup(ctx context.Context, getenv config.Getenv, log *slog.Logger) (handler, error) {
	cfg, cfgErr := config.LoadVerify(getenv)
	awsCfg, err := awsclient.Load(ctx)
	if err != nil {
		return nil, errors.Join(cfgErr, err)
	}
	v, err := newVerifier(cfg, getenv, awsCfg, log)
	if err == nil && cfgErr == nil {
		err = warmKeys(ctx, v.Keys, log)
	}
	if err = errors.Join(cfgErr, err); err != nil {
		log.ErrorContext(ctx, "verify is misconfigured; every job will be failed with a ConfigurationError", "errorType", "ConfigError", "error", err.Error())
		margin := cfg.SafetyMargin
		if margin <= 0 {
			margin = config.DefaultSafetyMargin
		}
		u := &verify.Unconfigured{CodePipeline: codepipeline.NewFromConfig(awsCfg), CodeDeploy: codedeploy.NewFromConfig(awsCfg), Err: err, Log: log, Metrics: telemetry.NewMetrics(cfg.MetricNamespace, os.Stdout), SafetyMargin: margin}
		return u, nil
	}
	return v, nil
}

// keyReadTimeout bounds the cold start's read of the token key: Lambda
// gives the whole init phase 10 seconds.
const keyReadTimeout = 5 * time.Second

// warmKeys reads the continuation-token key at cold start. A problem the
// stack must fix (no secret, no access) is returned, so the function
// fails its jobs as misconfigured; a transient failure is only logged:
// the key is read again on the first job.
func warmKeys(ctx context.Context, keys verify.KeySource, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, keyReadTimeout)
	defer cancel()
	_, err := keys.Keys(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, verify.ErrConfig):
		return err
	}
	log.WarnContext(ctx, "could not read the continuation-token key at cold start; reading it again on the first job", "error", err.Error())
	return nil
}

// newVerifier builds the verifier from a valid configuration.
func newVerifier(cfg config.Verify, getenv config.Getenv, awsCfg aws.Config, log *slog.Logger) (*verify.Verifier, error) {
	cwProto, err := awsclient.CloudWatchProtocol(cfg.CloudWatchProtocol)
	if err != nil {
		return nil, err
	}
	// Only the local harness sets config.EnvLocalProbes; the stack never
	// does, and a spec cannot.
	allowLoopback, err := registry.LocalProbes(getenv)
	if err != nil {
		return nil, err
	}
	clients := registry.Clients{
		CloudWatch:    cloudwatch.NewFromConfig(awsCfg, cwProto),
		ECR:           ecr.NewFromConfig(awsCfg),
		Inspector:     inspector2.NewFromConfig(awsCfg),
		Now:           time.Now,
		AllowLoopback: allowLoopback,
	}
	hooksCfg, err := config.LoadHooks(getenv)
	if err != nil {
		return nil, err
	}
	v := &verify.Verifier{
		CodePipeline: codepipeline.NewFromConfig(awsCfg),
		Loader: verify.Loader{
			SSM: ssm.NewFromConfig(awsCfg),
			S3: func(c aws.Credentials) verify.S3API {
				return awsclient.S3(awsCfg, credentials.StaticCredentialsProvider{Value: c})
			},
		},
		Build: func(s spec.Spec) (check.Suite, error) { return registry.Build(s, clients) },
		// A spec naming roleArn/region gets the invocation's Assumer: one
		// STS client, credentials cached per role and region per job.
		STS: sts.NewFromConfig(awsCfg),
		BuildWith: func(s spec.Spec, a *awsclient.Assumer) (check.Suite, error) {
			c := clients
			c.Assumer = a
			return registry.Build(s, c)
		},
		Keys:         &verify.TokenKeySource{API: secretsmanager.NewFromConfig(awsCfg), SecretID: cfg.TokenKeySecret},
		Events:       telemetry.Events{API: eventbridge.NewFromConfig(awsCfg), Bus: cfg.EventBus, Source: contract.VerificationSource},
		Metrics:      telemetry.NewMetrics(cfg.MetricNamespace, os.Stdout),
		Log:          log,
		SafetyMargin: cfg.SafetyMargin,
	}
	v.Hooks = newHooks(hooksCfg, awsCfg, v)
	return v, nil
}

// newHooks builds the CodeDeploy lifecycle hook handler on v's engine
// (pkg/verify/hook.go says why verify answers hooks itself). Its mutating
// calls (PutLifecycleEventHookExecutionStatus, the self-Invoke) set
// awsclient.MutatingRetryer per call.
func newHooks(c config.Hooks, awsCfg aws.Config, v *verify.Verifier) *verify.HookVerifier {
	h := &verify.HookVerifier{
		V:            v,
		CodeDeploy:   codedeploy.NewFromConfig(awsCfg),
		ELB:          elbv2.NewFromConfig(awsCfg),
		Lambda:       awslambda.NewFromConfig(awsCfg),
		FunctionName: c.FunctionName,
		SpecPrefix:   c.SpecPrefix,
	}
	if c.StateTable != "" {
		h.Claims = state.New(dynamodb.NewFromConfig(awsCfg), c.StateTable)
	}
	return h
}
