package remediate

import (
	"context"
	"io/fs"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Setup is what a function supplies to build the engine once per cold
// start: functions/remediate for SNS alarms, functions/respond for
// EventBridge ones.
type Setup struct {
	// AWS builds the actions' SDK clients (NewClients).
	AWS     aws.Config
	Alarms  AlarmAPI
	Notify  Notifier
	Store   StateStore // a *state.Store
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// PolicySource is "file:<path>" or "ssm:<name>"; file paths are
	// relative to PolicyDir (the function's LAMBDA_TASK_ROOT, default
	// "."), and Shipped, when set, is the policy embedded in the binary.
	PolicySource string
	PolicyDir    string
	Shipped      fs.FS
	DryRun       bool
	// RunbookBaseURL is used when the policy sets none.
	RunbookBaseURL string
	// Members, when set, lets the engine act on member accounts' alarms.
	Members *Members
}

// NewEngine loads and validates the policy and builds the engine with
// every action's clients.
func NewEngine(ctx context.Context, s Setup) (*Engine, error) {
	clients := NewClients(s.AWS, s.Notify)
	dir := s.PolicyDir
	if dir == "" {
		dir = "."
	}
	policy, err := LoadPolicy(ctx, s.PolicySource, clients.SSM, dir, s.Shipped)
	if err != nil {
		return nil, err
	}
	return (&Engine{
		Policy:         policy,
		Actions:        Actions(clients),
		Store:          s.Store,
		Alarms:         s.Alarms,
		Notify:         s.Notify,
		Metrics:        s.Metrics,
		Log:            s.Log,
		DryRun:         s.DryRun,
		Region:         s.AWS.Region,
		RunbookBaseURL: s.RunbookBaseURL,
		Members:        s.Members,
		Now:            time.Now,
	}).SetDefaults(), nil
}
