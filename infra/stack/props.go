package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// Defaults of Props.
const (
	DefaultAssetDir            = "dist"
	DefaultSpecParameterPrefix = "/postdeploy/"
	DefaultLogRetentionDays    = 30
)

// DefaultOptInTag is the opt-in tag of the policy shipped with
// functions/remediate (functions/remediate/policy.yaml).
var DefaultOptInTag = remediate.Tag{Key: "postdeploy:remediate", Value: remediate.DefaultOptInValue}

// DefaultRunbooks are the SSM Automation runbooks the shipped policy's
// ssm.runbook rules start.
var DefaultRunbooks = []string{"AWS-RestartEC2Instance"}

// Props configures the stack. The zero value of every field means its
// default.
type Props struct {
	awscdk.StackProps
	// AssetDir holds <fn>/bootstrap for verify, remediate and respond
	// (default "dist", where `make build` writes them). Tests pass a
	// temporary directory with placeholder files.
	AssetDir string
	// SpecParameterPrefix is the SSM parameter path verify may read specs
	// from (default "/postdeploy/"; it must start and end with "/").
	SpecParameterPrefix string
	// EventBusName names the event bus the stack creates for verify's
	// verdicts, whose resource policy lets only verify's role put events
	// and on which respond's verdict rule listens (default: a name CDK
	// generates). It must not be "default": every principal of the
	// account with events:PutEvents may publish there.
	EventBusName string
	// MetricNamespace is the namespace of the suite's EMF metrics
	// (default "Postdeploy").
	MetricNamespace string
	// RemediateConcurrency, when above 0, reserves that much of the
	// account's concurrency for remediate and caps it there (default:
	// none; an account whose unreserved concurrency would drop below
	// Lambda's minimum of 100 fails to create a function with reserved
	// concurrency, which new accounts on a low quota do).
	RemediateConcurrency int
	// LogRetentionDays keeps the functions' logs this long (default 30;
	// one of CloudWatch Logs' allowed values).
	LogRetentionDays int
	// AlertEmails subscribes addresses to the topics of their kinds.
	AlertEmails map[notify.Kind][]string
	// Application, when set, adds the team's alarm set for it, and
	// narrows the System Health and Application Performance dashboards
	// to it.
	Application *monitoring.Target
	// ExamplePipeline adds an example CodePipeline with the verify action
	// after its deploy stage.
	ExamplePipeline bool
	// RemediationPolicy is where remediate reads its policy:
	// "file:<path>" inside its asset directory (default
	// "file:policy.yaml", the policy `make build` ships beside the
	// binary) or "ssm:<parameter name>" under SpecParameterPrefix's
	// account and region.
	RemediationPolicy string
	// RemediateDryRun forces remediate into dry run: it decides and
	// reports, and changes nothing.
	RemediateDryRun bool
	// RollbackPolicy is what respond does when verification fails:
	// "notify" (default), "rollback-stage" or "stop-deployment".
	RollbackPolicy string
	// RollbackPipelines are the pipelines respond may roll back (IAM
	// codepipeline:RollbackStage), each "<pipeline>" (any of its stages)
	// or "<pipeline>/<stage>", a trailing "*" matching a name prefix, e.g.
	// ["shop-prod/Deploy", "billing-*"]. Required with RollbackPolicy
	// "rollback-stage" unless the example pipeline is its only target.
	RollbackPipelines []string
	// OptInTag is the tag a resource must carry for remediate to act on
	// it; the IAM statements of every mutating remediation action that
	// supports a tag condition require it too (default
	// postdeploy:remediate=true, the shipped policy's). It must equal the
	// remediation policy's optInTag.
	OptInTag remediate.Tag
	// Runbooks are the SSM Automation runbooks ssm.runbook rules may start
	// (default ["AWS-RestartEC2Instance"], the shipped policy's). The
	// stack's automation role (AutomationRoleName) gets what each needs.
	Runbooks []string
	// RespondRemediates hands the alarm state changes respond receives
	// from EventBridge to the remediation engine too (same policy, same
	// permissions as remediate), for alarms that do not notify the alert
	// topics. Off by default: remediate, subscribed to the topics, acts;
	// respond notifies.
	RespondRemediates bool
}

// Context keys read by PropsFromContext.
const (
	CtxAssetDir             = "assetDir"
	CtxSpecParameterPrefix  = "specParameterPrefix"
	CtxEventBus             = "eventBus"
	CtxMetricNamespace      = "metricNamespace"
	CtxRemediateConcurrency = "remediateConcurrency"
	CtxLogRetentionDays     = "logRetentionDays"
	CtxAlertEmails          = "alertEmails"
	CtxApplication          = "application"
	CtxExamplePipeline      = "examplePipeline"
	CtxRemediationPolicy    = "remediationPolicy"
	CtxRemediateDryRun      = "remediateDryRun"
	CtxRollbackPolicy       = "rollbackPolicy"
	CtxRespondRemediates    = "respondRemediates"
	CtxRollbackPipelines    = "rollbackPipelines"
	CtxOptInTag             = "optInTag"
	CtxRunbooks             = "runbooks"
)

// ContextKeys lists every key PropsFromContext reads.
var ContextKeys = []string{
	CtxAssetDir, CtxSpecParameterPrefix, CtxEventBus, CtxMetricNamespace, CtxRemediateConcurrency,
	CtxLogRetentionDays, CtxAlertEmails, CtxApplication, CtxExamplePipeline,
	CtxRemediationPolicy, CtxRemediateDryRun, CtxRollbackPolicy, CtxRespondRemediates,
	CtxRollbackPipelines, CtxOptInTag, CtxRunbooks,
}

// PropsFromContext reads Props from CDK context values: get is
// node.TryGetContext. A value may be JSON (from cdk.json) or a string
// (from `cdk synth -c key=value`, where objects are written as JSON
// text). The error joins every problem, each naming the key.
func PropsFromContext(get func(key string) any) (Props, error) {
	var p Props
	var errs []error
	str := func(key string) string {
		switch v := get(key).(type) {
		case nil:
			return ""
		case string:
			return strings.TrimSpace(v)
		default:
			errs = append(errs, fmt.Errorf("context %s=%v: must be a string", key, v))
			return ""
		}
	}
	num := func(key string) int {
		switch v := get(key).(type) {
		case nil:
			return 0
		case float64:
			if v != float64(int(v)) || v < 1 {
				errs = append(errs, fmt.Errorf("context %s=%v: must be a whole number above 0", key, v))
				return 0
			}
			return int(v)
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("context %s=%q: must be a whole number above 0", key, v))
				return 0
			}
			return n
		default:
			errs = append(errs, fmt.Errorf("context %s=%v: must be a whole number above 0", key, v))
			return 0
		}
	}
	object := func(key string, dst any) bool {
		v := get(key)
		if v == nil {
			return false
		}
		var b []byte
		if s, ok := v.(string); ok {
			if strings.TrimSpace(s) == "" {
				return false
			}
			b = []byte(s)
		} else {
			var err error
			if b, err = json.Marshal(v); err != nil {
				errs = append(errs, fmt.Errorf("context %s: %w", key, err))
				return false
			}
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w (see infra/README.md for its shape)", key, err))
			return false
		}
		return true
	}

	p.AssetDir = str(CtxAssetDir)
	p.SpecParameterPrefix = str(CtxSpecParameterPrefix)
	p.EventBusName = str(CtxEventBus)
	p.MetricNamespace = str(CtxMetricNamespace)
	p.RemediateConcurrency = num(CtxRemediateConcurrency)
	p.LogRetentionDays = num(CtxLogRetentionDays)

	var emails map[string][]string
	if object(CtxAlertEmails, &emails) {
		p.AlertEmails = make(map[notify.Kind][]string, len(emails))
		for k, v := range emails {
			p.AlertEmails[notify.Kind(k)] = v
		}
	}
	var app monitoring.Target
	if object(CtxApplication, &app) {
		p.Application = &app
	}
	boolean := func(key string) bool {
		switch v := get(key).(type) {
		case nil:
			return false
		case bool:
			return v
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("context %s=%q: must be true or false", key, v))
			}
			return b
		default:
			errs = append(errs, fmt.Errorf("context %s=%v: must be true or false", key, v))
			return false
		}
	}
	p.ExamplePipeline = boolean(CtxExamplePipeline)
	p.RemediateDryRun = boolean(CtxRemediateDryRun)
	p.RespondRemediates = boolean(CtxRespondRemediates)
	p.RemediationPolicy = str(CtxRemediationPolicy)
	p.RollbackPolicy = str(CtxRollbackPolicy)
	// A list is a JSON array (cdk.json, or -c 'key=["a","b"]') or
	// comma-separated text (-c key=a,b).
	names := func(key string) []string {
		if s, ok := get(key).(string); ok && !strings.HasPrefix(strings.TrimSpace(s), "[") {
			var out []string
			for _, v := range strings.Split(s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					out = append(out, v)
				}
			}
			return out
		}
		var out []string
		object(key, &out)
		return out
	}
	p.RollbackPipelines = names(CtxRollbackPipelines)
	p.Runbooks = names(CtxRunbooks)
	var tag remediate.Tag
	if object(CtxOptInTag, &tag) {
		p.OptInTag = tag
	}
	if err := errors.Join(errs...); err != nil {
		return Props{}, err
	}
	return p, nil
}

// withDefaults fills in the defaults and reports every invalid field.
func (p Props) withDefaults() (Props, error) {
	var errs []error
	if p.AssetDir == "" {
		p.AssetDir = DefaultAssetDir
	}
	if p.SpecParameterPrefix == "" {
		p.SpecParameterPrefix = DefaultSpecParameterPrefix
	}
	if !paramPrefix.MatchString(p.SpecParameterPrefix) {
		errs = append(errs, fmt.Errorf("specParameterPrefix=%q: must be an SSM path that starts and ends with '/', e.g. /postdeploy/", p.SpecParameterPrefix))
	}
	switch {
	case p.EventBusName == config.DefaultEventBus:
		errs = append(errs, fmt.Errorf("eventBus=%q: verdicts travel on a bus the stack creates, whose policy admits only verify's role; any principal of the account may put events on the default bus. Leave eventBus unset or name a new bus", p.EventBusName))
	case p.EventBusName != "" && !busName.MatchString(p.EventBusName):
		errs = append(errs, fmt.Errorf("eventBus=%q: must be an event bus name (letters, digits, . _ -), not an ARN", p.EventBusName))
	}
	if p.MetricNamespace == "" {
		p.MetricNamespace = config.DefaultMetricNamespace
	}
	if p.RemediateConcurrency < 0 {
		errs = append(errs, fmt.Errorf("remediateConcurrency=%d: must be a whole number above 0, or unset for no reserved concurrency", p.RemediateConcurrency))
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	if _, ok := retention[p.LogRetentionDays]; !ok {
		errs = append(errs, fmt.Errorf("logRetentionDays=%d: must be one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", p.LogRetentionDays))
	}
	for k, addrs := range p.AlertEmails {
		if !isKind(k) {
			errs = append(errs, fmt.Errorf("alertEmails[%q]: unknown alert kind; want one of %s", k, kindList()))
		}
		for _, a := range addrs {
			if m, err := mail.ParseAddress(a); err != nil || m.Address != a {
				errs = append(errs, fmt.Errorf("alertEmails[%q]: %q is not a plain email address such as oncall@example.com", k, a))
			}
		}
	}
	if p.RemediationPolicy == "" {
		p.RemediationPolicy = config.DefaultRemediationPolicy
	}
	if kind, ref, ok := strings.Cut(p.RemediationPolicy, ":"); !ok || (kind != "file" && kind != "ssm") || ref == "" ||
		(kind == "ssm" && !strings.HasPrefix(ref, "/")) || (kind == "file" && (strings.HasPrefix(ref, "/") || strings.Contains(ref, ".."))) {
		errs = append(errs, fmt.Errorf("remediationPolicy=%q: must be file:<path inside the function's directory> or ssm:/<parameter name>, e.g. %q or \"ssm:/postdeploy/remediation-policy\"", p.RemediationPolicy, config.DefaultRemediationPolicy))
	}
	if p.RollbackPolicy == "" {
		p.RollbackPolicy = config.RollbackNotify
	}
	switch p.RollbackPolicy {
	case config.RollbackNotify, config.RollbackStage, config.RollbackStopDeployment:
	default:
		errs = append(errs, fmt.Errorf("rollbackPolicy=%q: must be %q, %q or %q", p.RollbackPolicy, config.RollbackNotify, config.RollbackStage, config.RollbackStopDeployment))
	}
	for i, r := range p.RollbackPipelines {
		if !rollbackTarget.MatchString(r) {
			errs = append(errs, fmt.Errorf("rollbackPipelines[%d]=%q: must be <pipeline> or <pipeline>/<stage> (letters, digits, . @ - _), a trailing * matching a prefix, e.g. \"shop-prod/Deploy\" or \"shop-*\"", i, r))
		}
	}
	if p.RollbackPolicy == config.RollbackStage && len(p.RollbackPipelines) == 0 && !p.ExamplePipeline {
		errs = append(errs, fmt.Errorf("rollbackPipelines: required with rollbackPolicy=%s: name the pipelines (or pipeline/stage) respond may roll back, e.g. [\"shop-prod\"] or [\"shop-*\"]; IAM allows RollbackStage on them only", config.RollbackStage))
	}
	if p.OptInTag == (remediate.Tag{}) {
		p.OptInTag = DefaultOptInTag
	}
	if p.OptInTag.Value == "" {
		p.OptInTag.Value = remediate.DefaultOptInValue
	}
	if !tagKey.MatchString(p.OptInTag.Key) {
		errs = append(errs, fmt.Errorf("optInTag.key=%q: must be a tag key (1-128 letters, digits, spaces and _ . : / = + - @), e.g. %q", p.OptInTag.Key, DefaultOptInTag.Key))
	}
	if p.Runbooks == nil {
		p.Runbooks = slices.Clone(DefaultRunbooks)
	}
	for i, r := range p.Runbooks {
		if !runbookName.MatchString(r) {
			errs = append(errs, fmt.Errorf("runbooks[%d]=%q: must be an SSM document name (3-128 letters, digits, _ - .)", i, r))
		} else if _, ok := runbookPermissions[r]; !ok {
			errs = append(errs, fmt.Errorf("runbooks[%d]=%q: the stack's automation role knows what these runbooks need: %s; add %q's permissions to runbookPermissions in infra/stack/automation.go", i, r, strings.Join(knownRunbooks(), ", "), r))
		}
	}
	if p.Application != nil {
		if err := p.Application.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return p, errors.Join(errs...)
}

var (
	paramPrefix = regexp.MustCompile(`^/([A-Za-z0-9_.\-]+/)*$`)
	busName     = regexp.MustCompile(`^[A-Za-z0-9._\-]{1,256}$`)
	// CodePipeline's pipeline and stage names: [A-Za-z0-9.@\-_]+
	// (API Reference, PipelineDeclaration and StageDeclaration).
	rollbackTarget = regexp.MustCompile(`^[A-Za-z0-9.@\-_]+(\*|/[A-Za-z0-9.@\-_]+\*?)?$`)
	// SSM document names: [a-zA-Z0-9_\-.]{3,128} (API Reference,
	// CreateDocument).
	runbookName = regexp.MustCompile(`^[A-Za-z0-9_\-.]{3,128}$`)
	// Tag keys (Tagging AWS resources, tag naming limits).
	tagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
)

func isKind(k notify.Kind) bool {
	for _, v := range notify.Kinds {
		if v == k {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(notify.Kinds))
	for i, k := range notify.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
