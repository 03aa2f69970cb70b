// Command respond turns EventBridge events — alarm state changes,
// pipeline, deployment and build failures, security findings, and the
// suite's own verification verdicts — into triaged, deduplicated
// notifications on the SNS topic of each alert kind and, where the policy
// says so, actions (stage rollback, remediation). It only wires; the
// handler and its decisions live in pkg/respond, triage and rendering in
// pkg/triage and pkg/notify.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/delivery"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/respond"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

func main() {
	log := telemetry.NewLogger()
	slog.SetDefault(log)
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("respond cannot start", "error", err.Error())
		os.Exit(1) // reported by Lambda as an init error
	}
	// The *Handler is a lambda.Handler: the runtime passes it the raw
	// payload, so one that is not JSON is counted as malformed rather than
	// failing in the runtime's decoder.
	lambda.Start(h)
}

// newHandler reads the configuration and builds every client once per
// cold start.
func newHandler(ctx context.Context, getenv config.Getenv, log *slog.Logger) (*respond.Handler, error) {
	cfg, err := config.LoadRespond(getenv)
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
	metrics := telemetry.NewMetrics(cfg.MetricNamespace, os.Stdout)
	router := notify.Router{API: sns.NewFromConfig(awsCfg), Topics: cfg.Topics, Format: cfg.NotifyFormat}
	ddb := dynamodb.NewFromConfig(awsCfg)
	store := state.New(ddb, cfg.StateTable)
	alarms := cloudwatch.NewFromConfig(awsCfg, cwProto)
	h := &respond.Handler{
		Log:          log,
		Metrics:      metrics,
		Notify:       router,
		Pipeline:     codepipeline.NewFromConfig(awsCfg),
		Deploy:       codedeploy.NewFromConfig(awsCfg),
		Alarms:       alarms,
		Claims:       store,
		DedupeWindow: cfg.DedupeWindow,
		Scorer: triage.Scorer{
			Weights:        cfg.Weights,
			SLAs:           cfg.SLAs,
			CriticalityTag: cfg.CriticalityTag,
			Assets:         cfg.Assets,
		},
		MinPriority:    cfg.MinPriority,
		RunbookBaseURL: cfg.RunbookBaseURL,
		RollbackPolicy: cfg.RollbackPolicy,
		VerifyFunction: cfg.VerifyFunction,
		Now:            time.Now,
		Findings:       respond.FindingOptions{Concurrency: cfg.Vuln.Concurrency, Batch: cfg.Vuln.PublishBatch},
		SuiteAlarms:    respond.SuiteAlarms{Prefix: cfg.SuiteAlarmPrefix, Escalation: cfg.Topics[notify.Escalation]},
	}
	dcfg, err := config.LoadDelivery(getenv)
	if err != nil {
		return nil, err
	}
	h.Delivery = &respond.DeliveryFeed{Recorder: delivery.NewRecorder(ddb, cfg.StateTable, metrics, log, dcfg.ChangeFailureWindow), Config: dcfg}
	h.Vuln = vulnManagement(awsCfg, cfg, router, ddb, store, metrics, log)
	if !cfg.RemediateAlarms {
		log.InfoContext(ctx, "alarm remediation off: alarms are notified only (set "+config.EnvRemediationPolicy+" to hand them to the remediation engine)")
	}
	if cfg.RemediateAlarms {
		engine, err := remediate.NewEngine(ctx, remediate.Setup{
			AWS:            awsCfg,
			Alarms:         alarms,
			Notify:         router,
			Store:          store,
			Metrics:        metrics,
			Log:            log,
			PolicySource:   cfg.PolicySource,
			PolicyDir:      getenv("LAMBDA_TASK_ROOT"),
			DryRun:         cfg.DryRun,
			RunbookBaseURL: cfg.RunbookBaseURL,
		})
		if err != nil {
			return nil, fmt.Errorf("%w (set %s=false to notify on alarms without remediating)", err, config.EnvRemediateAlarms)
		}
		h.Remediator = respond.EngineRemediator{Engine: engine}
	}
	return h, nil
}
