package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/respond"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// vulnManagement wires vulnerability management: the log in the state
// table, OpsCenter tickets (CreateOpsItem is made idempotent by its
// /aws/dedup key, and the client retries only calls the service proves
// it did not process) or Jira Cloud tickets (credentials read from
// Secrets Manager on first use) when configured, and the Inspector2 and
// ECR readers that confirm resolutions.
func vulnManagement(awsCfg aws.Config, cfg config.Respond, router notify.Router, ddb state.API, claims *state.Store, metrics *telemetry.Metrics, log *slog.Logger) *respond.VulnManagement {
	if !cfg.Vuln.Enabled {
		log.Info("vulnerability management off (" + config.EnvVulnManagement + "=false): findings are notified, not logged, ticketed or resolved")
		return nil
	}
	if cfg.Vuln.ReportTopic != "" {
		router.Topics[vuln.KindReport] = cfg.Vuln.ReportTopic
	}
	m := vuln.Manager{
		Store: vuln.NewStore(ddb, cfg.StateTable), Claims: claims, TicketMin: cfg.Vuln.TicketMin,
		Notify: router, Metrics: metrics, Log: log, DigestThreshold: cfg.Vuln.DigestThreshold, DigestWindow: cfg.DedupeWindow,
	}
	switch cfg.Vuln.Tickets {
	case config.TicketsOpsCenter:
		m.Tickets = &vuln.OpsCenter{
			API:         ssm.NewFromConfig(awsCfg, func(o *ssm.Options) { o.Retryer = awsclient.MutatingRetryer() }),
			NotifyTopic: cfg.Vuln.TicketTopic,
		}
	case config.TicketsJira:
		j := cfg.Vuln.Jira
		m.Tickets = &vuln.Jira{
			BaseURL: j.URL, Project: j.Project, IssueType: j.IssueType, Priorities: j.Priorities, Fields: j.Fields,
			DoneTransition: j.DoneTransition, Secret: j.Secret, Secrets: secretsmanager.NewFromConfig(awsCfg),
			HTTP: &http.Client{Timeout: 10 * time.Second},
		}
	}
	v := &respond.VulnManagement{Inspector: inspector2.NewFromConfig(awsCfg), ECR: ecr.NewFromConfig(awsCfg)}
	m.StillOpen = v.StillOpen
	v.Manager = vuln.New(m)
	return v
}
