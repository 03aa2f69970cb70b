package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/postdeploy/postdeploy/infra/monitoring"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// Defaults of Props.
const (
	DefaultAssetDir             = "dist"
	DefaultSpecParameterPrefix  = "/postdeploy/"
	DefaultRemediateConcurrency = 2
	DefaultLogRetentionDays     = 30
)

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
	// EventBusName is the bus verify publishes verdicts to and respond's
	// verdict rule listens on (default "default").
	EventBusName string
	// MetricNamespace is the namespace of the suite's EMF metrics
	// (default "Postdeploy").
	MetricNamespace string
	// RemediateConcurrency is remediate's reserved concurrency, a hard cap
	// on how many remediations run at once (default 2).
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
)

// ContextKeys lists every key PropsFromContext reads.
var ContextKeys = []string{
	CtxAssetDir, CtxSpecParameterPrefix, CtxEventBus, CtxMetricNamespace, CtxRemediateConcurrency,
	CtxLogRetentionDays, CtxAlertEmails, CtxApplication, CtxExamplePipeline,
	CtxRemediationPolicy, CtxRemediateDryRun, CtxRollbackPolicy, CtxRespondRemediates,
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
	if p.EventBusName == "" {
		p.EventBusName = config.DefaultEventBus
	}
	if !busName.MatchString(p.EventBusName) {
		errs = append(errs, fmt.Errorf("eventBus=%q: must be an event bus name (letters, digits, . _ -), not an ARN", p.EventBusName))
	}
	if p.MetricNamespace == "" {
		p.MetricNamespace = config.DefaultMetricNamespace
	}
	if p.RemediateConcurrency == 0 {
		p.RemediateConcurrency = DefaultRemediateConcurrency
	}
	if p.RemediateConcurrency < 1 {
		errs = append(errs, fmt.Errorf("remediateConcurrency=%d: must be at least 1", p.RemediateConcurrency))
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
