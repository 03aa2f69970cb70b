package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Sender is the part of notify.Router respond uses.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (string, error)
}

// PipelineAPI is the part of *codepipeline.Client respond uses.
type PipelineAPI interface {
	GetPipelineExecution(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error)
	ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error)
	ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error)
	RollbackStage(ctx context.Context, in *codepipeline.RollbackStageInput, optFns ...func(*codepipeline.Options)) (*codepipeline.RollbackStageOutput, error)
	GetPipeline(ctx context.Context, in *codepipeline.GetPipelineInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineOutput, error)
}

// DeployAPI is the part of *codedeploy.Client respond uses.
type DeployAPI interface {
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	GetDeploymentGroup(ctx context.Context, in *codedeploy.GetDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
}

// AlarmAPI is the part of *cloudwatch.Client respond uses.
type AlarmAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Remediator hands an alarm state change to the remediation engine and
// says what it did, in one line for the notification.
type Remediator interface {
	Remediate(ctx context.Context, a contract.Alarm) (string, error)
}

// Releaser is implemented by state stores that can drop a claim (pkg/state's
// *Store): respond releases a dedupe claim when the notification could not
// be sent, so the retried event notifies.
type Releaser interface {
	Release(ctx context.Context, key string) error
}

// Handler turns EventBridge events into triaged, deduplicated, routed
// notifications and, where the policy says so, actions.
type Handler struct {
	Log      *slog.Logger
	Metrics  *telemetry.Metrics
	Notify   Sender
	Pipeline PipelineAPI
	Deploy   DeployAPI
	Alarms   AlarmAPI
	// Remediator, when set, receives alarm state changes.
	Remediator Remediator
	// SuiteAlarms are the suite's own alarms, left to their alarm actions
	// (alarm.go).
	SuiteAlarms SuiteAlarms
	// Claims dedupes notifications and actions (pkg/state's *Store); nil
	// notifies everything.
	Claims triage.Claimer
	// DedupeWindow is how long a notified finding stays quiet.
	DedupeWindow time.Duration
	Scorer       triage.Scorer
	// MinPriority is the lowest finding priority notified (P4: all).
	MinPriority    triage.Priority
	RunbookBaseURL string
	// Findings tunes the security path for events of many findings
	// (vulnbatch.go): bounded concurrency, SNS PublishBatch.
	Findings FindingOptions
	// Vuln is vulnerability management (vulnmanage.go): the log,
	// tickets, resolutions, digests, the scheduled runs; nil: off.
	Vuln *VulnManagement
	// RollbackPolicy is config.RollbackNotify, RollbackStage or
	// RollbackStopDeployment.
	RollbackPolicy string
	// VerifyFunction is the verify function's name or ARN: a rollback
	// needs CodePipeline to report the failed action as an Invoke of it.
	VerifyFunction string
	// Delivery, when set, feeds the delivery-performance metrics
	// (delivery.go).
	Delivery *DeliveryFeed
	Now      func() time.Time

	// sleep replaces the wait between CodePipeline reads in tests.
	sleep func(context.Context, time.Duration) error
}

// Event kinds, the Kind dimension of EventsHandled.
const (
	kindAlarm        = "alarm"
	kindPipeline     = "pipeline"
	kindDeployment   = "deployment"
	kindBuild        = "build"
	kindVerification = "verification"
	kindFinding      = "finding"
)

// malformed marks a detail respond cannot read: counted, logged with
// the reason, and dropped (retrying cannot fix it).
type malformed struct{ err error }

func (m malformed) Error() string { return m.err.Error() }
func (m malformed) Unwrap() error { return m.err }

func badDetail(ev events.EventBridgeEvent, field string, err error) error {
	return malformed{fmt.Errorf("malformed %q event from %s: %s: %w", ev.DetailType, ev.Source, field, err)}
}

// HandleEvent processes one EventBridge event. It returns an error only
// when a retry can help (a notification could not be published); unknown
// and malformed events are counted and dropped.
func (h *Handler) HandleEvent(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.logger().With("source", printable(ev.Source, maxLogChars), "detailType", printable(ev.DetailType, maxLogChars), "eventId", printable(ev.ID, maxLogChars))
	kind, run := h.route(ev.Source, ev.DetailType)
	if run == nil {
		h.unhandled(ctx, log, ev.Source)
		return nil
	}
	// The work stops a margin before the Lambda deadline (deadline.go),
	// so that a notification that could not be sent in time still has
	// its claim released, with ctx, before Lambda kills the run.
	work, cancel := workContext(ctx)
	err := run(work, ev, log)
	if err == nil {
		err = h.deliver(work, ev, log)
	}
	cancel()
	var m malformed
	var tm *triage.MalformedError
	switch {
	case errors.As(err, &m) || errors.As(err, &tm):
		log.ErrorContext(ctx, "malformed event dropped", "error", err.Error())
		h.Metrics.Emit(map[string]string{"Source": ev.Source}, telemetry.Value{Name: telemetry.MetricEventsMalformed, Unit: telemetry.UnitCount, Value: 1})
		return nil
	case err != nil:
		if nd := stoppedNearDeadline(work); nd != nil {
			err = fmt.Errorf("%w (%w)", err, nd)
		}
		for _, key := range unsentKeys(err) { // every claim whose notification was not sent (vulnbatch.go)
			h.release(ctx, key, log)
		}
		log.ErrorContext(ctx, "event failed; returning the error so Lambda retries it", "kind", kind, "error", err.Error())
		return err
	}
	h.Metrics.Emit(map[string]string{"Kind": kind}, telemetry.Value{Name: telemetry.MetricEventsHandled, Unit: telemetry.UnitCount, Value: 1})
	return nil
}

type step func(context.Context, events.EventBridgeEvent, *slog.Logger) error

// unhandled logs and counts an EventBridge event respond has no rule for.
func (h *Handler) unhandled(ctx context.Context, log *slog.Logger, source string) {
	log.WarnContext(ctx, "unhandled event: no rule for this source and detail-type; dropped")
	h.Metrics.Emit(map[string]string{"Source": dimension(source, "unknown-source")}, telemetry.Value{Name: telemetry.MetricEventsUnhandled, Unit: telemetry.UnitCount, Value: 1})
}

func (h *Handler) route(src, dt string) (string, step) {
	switch {
	case src == contract.AlarmSource && dt == contract.DetailTypeAlarmStateChange:
		return kindAlarm, h.alarm
	case src == events.CodePipelineEventSource && (dt == events.CodePipelineExecutionEventDetailType || dt == events.CodePipelineActionEventDetailType):
		return kindPipeline, h.pipeline
	case src == events.CodePipelineEventSource && dt == events.CodePipelineStageEventDetailType:
		return kindPipeline, h.pipelineStage
	case src == events.CodeDeployEventSource && dt == events.CodeDeployDeploymentEventDetailType:
		return kindDeployment, h.deployment
	case src == events.CodeBuildEventSource && dt == events.CodeBuildStateChangeDetailType:
		return kindBuild, h.build
	case src == contract.VerificationSource && dt == contract.VerificationDetailType:
		return kindVerification, h.verification
	case triage.IsSecurity(src, dt):
		return kindFinding, h.findings
	case isVulnSchedule(src, dt):
		return kindSchedule, h.vulnScheduled
	}
	return "", nil
}

// unsent is a notification that could not be published after its dedupe
// claim key was taken. HandleEvent releases the claim with the
// invocation's own context, which outlives the work context by the
// deadline margin, so Lambda's retry notifies.
type unsent struct {
	key string
	err error
}

func (u unsent) Error() string { return u.err.Error() }
func (u unsent) Unwrap() error { return u.err }

// send publishes an alert under claimKey's dedupe claim. When publishing
// fails it returns an unsent error naming the claim, for HandleEvent to
// release; a claim is never released after a successful publish. (A
// Publish that SNS accepted but whose answer arrived after the work
// context ended counts as failed: the retry may notify twice, which is
// better than not at all.)
func (h *Handler) send(ctx context.Context, a notify.Alert, claimKey string, log *slog.Logger) error {
	id, err := h.Notify.Send(ctx, a.Message())
	if err != nil {
		err = fmt.Errorf("notify %s: %w", a.Kind, err)
		if claimKey != "" {
			return unsent{key: claimKey, err: err}
		}
		return err
	}
	log.InfoContext(ctx, "notification sent", "kind", a.Kind, "severity", a.Severity, "priority", a.Priority, "subject", notify.Subject(a.Message().Subject), "messageId", id)
	h.Metrics.Emit(map[string]string{"Kind": string(a.Kind)}, telemetry.Value{Name: telemetry.MetricNotificationsSent, Unit: telemetry.UnitCount, Value: 1})
	return nil
}

// release drops the dedupe claim of a notification that was not sent, so
// Lambda's retry of the event notifies. ctx is the invocation's context,
// not the (ended) work context.
func (h *Handler) release(ctx context.Context, key string, log *slog.Logger) {
	r, ok := h.Claims.(Releaser)
	if !ok {
		return
	}
	if err := r.Release(ctx, key); err != nil {
		log.ErrorContext(ctx, "release dedupe claim after a failed notification: Lambda's retry will find the event already notified and drop it; check the state table and notify by hand",
			"key", key, "error", err.Error())
		return
	}
	log.InfoContext(ctx, "dedupe claim released after a failed notification, so Lambda's retry notifies", "key", key)
}

// claim reports whether key is claimed for the first time within window;
// with no store, or when the store fails, it says yes (a duplicate is
// better than a lost alert) and logs.
func (h *Handler) claim(ctx context.Context, key string, window time.Duration, attrs map[string]string, log *slog.Logger) bool {
	if h.Claims == nil {
		return true
	}
	first, err := h.Claims.Claim(ctx, key, window, attrs)
	if err != nil {
		log.ErrorContext(ctx, "dedupe claim failed; notifying anyway", "key", key, "error", err.Error())
		return true
	}
	return first
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) window() time.Duration {
	if h.DedupeWindow > 0 {
		return h.DedupeWindow
	}
	return triage.DefaultDedupeWindow
}

func (h *Handler) rollbackPolicy() string {
	if h.RollbackPolicy == "" {
		return config.RollbackNotify
	}
	return h.RollbackPolicy
}
