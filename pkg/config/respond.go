package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// EnvTopicPrefix prefixes the variable holding each alert kind's SNS topic
// ARN: TopicEnv(notify.HighCPU) is "POSTDEPLOY_TOPIC_HIGH_CPU".
const EnvTopicPrefix = "POSTDEPLOY_TOPIC_"

// TopicEnv names the variable holding kind's topic ARN.
func TopicEnv(k notify.Kind) string {
	return EnvTopicPrefix + strings.ToUpper(strings.ReplaceAll(string(k), "-", "_"))
}

// Environment variables of functions/respond (besides the topics).
const (
	// EnvStateTable is the DynamoDB state table (dedupe claims). Required.
	EnvStateTable = "POSTDEPLOY_STATE_TABLE"
	// EnvDedupeWindow is how long a notified finding is not notified again
	// (default 24h).
	EnvDedupeWindow = "POSTDEPLOY_DEDUPE_WINDOW"
	// EnvTriageWeights weighs the risk score, e.g.
	// "severity=0.4,likelihood=0.3,impact=0.2,compliance=0.1" (the default).
	EnvTriageWeights = "POSTDEPLOY_TRIAGE_WEIGHTS"
	// EnvTriageSLAs sets the time to remediate per priority, e.g.
	// "P1=24h,P2=168h,P3=720h,P4=2160h" (the default).
	EnvTriageSLAs = "POSTDEPLOY_TRIAGE_SLAS"
	// EnvCriticalityTag is the resource tag that holds an asset's
	// criticality: critical, high, medium, low (default "criticality").
	EnvCriticalityTag = "POSTDEPLOY_CRITICALITY_TAG"
	// EnvAssetCriticality gives criticality to resources whose events carry
	// no tags (ECR repositories, instance ids): "prod-api=critical,tools=low".
	EnvAssetCriticality = "POSTDEPLOY_ASSET_CRITICALITY"
	// EnvNotifyMinPriority is the lowest finding priority notified (default
	// P4: every finding). Findings below it are counted and logged only.
	EnvNotifyMinPriority = "POSTDEPLOY_NOTIFY_MIN_PRIORITY"
	// EnvNotifyFormat is the SNS message body: "text" (default) or
	// "chatbot" (AWS Chatbot custom notifications for Slack/Teams).
	EnvNotifyFormat = "POSTDEPLOY_NOTIFY_FORMAT"
	// EnvRunbookBaseURL is where the runbooks live; messages link
	// <base>/<runbook-id>. Optional.
	EnvRunbookBaseURL = "POSTDEPLOY_RUNBOOK_BASE_URL"
	// EnvRollbackPolicy is what respond does when post-deploy verification
	// fails: "notify" (default: notify only), "rollback-stage" (CodePipeline
	// RollbackStage to the last successful execution) or "stop-deployment"
	// (stop the stage's in-flight CodeDeploy deployment with rollback).
	EnvRollbackPolicy = "POSTDEPLOY_ROLLBACK_POLICY"
	// EnvVerifyFunction is the name or ARN of the verify function. respond
	// rolls back only after CodePipeline confirms that the execution's
	// verify action failed and that the action is an Invoke of this
	// function (its FunctionName configuration). Required when
	// POSTDEPLOY_ROLLBACK_POLICY is not "notify".
	EnvVerifyFunction = "POSTDEPLOY_VERIFY_FUNCTION"
	// EnvRemediateAlarms passes alarm state changes to the remediation
	// engine as well as notifying (default: true when
	// POSTDEPLOY_REMEDIATION_POLICY is set, false otherwise — with no
	// policy configured there is nothing to remediate with; true without
	// it reads "file:policy.yaml"). The engine reads the policy from
	// POSTDEPLOY_REMEDIATION_POLICY and honours
	// POSTDEPLOY_REMEDIATE_DRY_RUN, as functions/remediate does; it claims
	// each state change in the state table, so an alarm that reaches both
	// functions is acted on once.
	EnvRemediateAlarms = "POSTDEPLOY_REMEDIATE_ALARMS"
	// EnvSuiteAlarmPrefix starts the names of the suite's own alarms
	// (function errors, throttles, dead letters), which notify the
	// escalation topic through their own alarm actions: respond does not
	// notify them again. The stack sets it to SuiteAlarmPrefix(its name).
	// Unset: respond treats every alarm alike.
	EnvSuiteAlarmPrefix = "POSTDEPLOY_SUITE_ALARM_PREFIX"
)

// SuiteAlarmPrefix starts the name of each of the suite's own alarms in
// the stack stackName: "<stackName>-".
func SuiteAlarmPrefix(stackName string) string { return stackName + "-" }

// The rollback policies.
const (
	RollbackNotify         = "notify"
	RollbackStage          = "rollback-stage"
	RollbackStopDeployment = "stop-deployment"
)

// Respond is functions/respond's configuration.
type Respond struct {
	Common
	Topics         map[notify.Kind]string
	StateTable     string
	DedupeWindow   time.Duration
	Weights        triage.Weights
	SLAs           map[triage.Priority]time.Duration
	CriticalityTag string
	Assets         map[string]triage.Criticality
	MinPriority    triage.Priority
	NotifyFormat   notify.Format
	RunbookBaseURL string
	RollbackPolicy string
	// VerifyFunction is the verify function's name or ARN (EnvVerifyFunction).
	VerifyFunction  string
	RemediateAlarms bool
	// PolicySource and DryRun configure the remediation engine when
	// RemediateAlarms is on (see LoadRemediate).
	PolicySource string
	DryRun       bool
	// Vuln is the security path at scale and vulnerability management
	// (vuln.go).
	Vuln Vuln
	// SuiteAlarmPrefix is EnvSuiteAlarmPrefix ("" when unset).
	SuiteAlarmPrefix string
}

// LoadRespond reads functions/respond's settings; the error joins every
// problem found.
func LoadRespond(getenv Getenv) (Respond, error) {
	l := &loader{getenv: getenv}
	c := Respond{Common: l.common(), Topics: l.topics()}
	c.StateTable = l.str(EnvStateTable, "")
	if c.StateTable == "" {
		l.errs = append(l.errs, fmt.Errorf("%s: required: the DynamoDB state table that dedupes notifications", EnvStateTable))
	}
	c.DedupeWindow = l.duration(EnvDedupeWindow, triage.DefaultDedupeWindow)
	if c.DedupeWindow == 0 {
		l.errs = append(l.errs, fmt.Errorf("%s=0: must be above 0 (e.g. \"24h\")", EnvDedupeWindow))
	}
	w, err := triage.ParseWeights(l.getenv(EnvTriageWeights))
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w", EnvTriageWeights, err))
		w = triage.DefaultWeights
	}
	c.Weights = w
	slas, err := triage.ParseSLAs(l.getenv(EnvTriageSLAs))
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w", EnvTriageSLAs, err))
		slas, _ = triage.ParseSLAs("")
	}
	c.SLAs = slas
	c.CriticalityTag = l.str(EnvCriticalityTag, "criticality")
	c.Assets = l.assets()
	c.MinPriority = triage.P4
	if v := l.str(EnvNotifyMinPriority, ""); v != "" {
		p, err := triage.ParsePriority(v)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", EnvNotifyMinPriority, err))
		} else {
			c.MinPriority = p
		}
	}
	c.NotifyFormat = l.notifyFormat()
	c.RunbookBaseURL = l.runbookBaseURL()
	c.RollbackPolicy = l.oneOf(EnvRollbackPolicy, RollbackNotify, RollbackNotify, RollbackStage, RollbackStopDeployment)
	c.VerifyFunction = l.verifyFunction(c.RollbackPolicy)
	c.RemediateAlarms = l.bool(EnvRemediateAlarms, l.str(EnvRemediationPolicy, "") != "")
	if c.RemediateAlarms {
		c.PolicySource = l.policySource(fmt.Sprintf(" (or set %s=false)", EnvRemediateAlarms))
		c.DryRun = l.bool(EnvRemediateDryRun, false)
	}
	c.Vuln = l.vuln()
	c.SuiteAlarmPrefix = l.suiteAlarmPrefix()
	return c, errors.Join(l.errs...)
}

// topics reads every kind's topic ARN; each is required.
func (l *loader) topics() map[notify.Kind]string {
	out := make(map[notify.Kind]string, len(notify.Kinds))
	for _, k := range notify.Kinds {
		name := TopicEnv(k)
		v := l.str(name, "")
		switch {
		case v == "":
			l.errs = append(l.errs, fmt.Errorf("%s: required: the ARN of the %s alerts SNS topic", name, k))
		case !strings.HasPrefix(v, "arn:") || !strings.Contains(v, ":sns:"):
			l.errs = append(l.errs, fmt.Errorf("%s=%q: must be an SNS topic ARN (arn:aws:sns:region:account:name)", name, v))
		default:
			out[k] = v
		}
	}
	return out
}

func (l *loader) assets() map[string]triage.Criticality {
	v := l.str(EnvAssetCriticality, "")
	if v == "" {
		return nil
	}
	out := map[string]triage.Criticality{}
	for part := range strings.SplitSeq(v, ",") {
		name, level, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(name) == "" {
			l.errs = append(l.errs, fmt.Errorf("%s: %q: want resource=criticality, e.g. prod-api=critical", EnvAssetCriticality, part))
			continue
		}
		c, err := triage.ParseCriticality(level)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %q: %w", EnvAssetCriticality, part, err))
			continue
		}
		out[strings.TrimSpace(name)] = c
	}
	return out
}

// verifyFunction reads EnvVerifyFunction: required when the rollback
// policy acts, since respond rolls back only for a failed Invoke of this
// function.
func (l *loader) verifyFunction(policy string) string {
	v := l.str(EnvVerifyFunction, "")
	switch {
	case v == "" && policy != RollbackNotify && policy != "":
		l.errs = append(l.errs, fmt.Errorf("%s: required with %s=%s: the verify function's name or ARN, so respond rolls back only a stage whose verify action (an Invoke of that function) CodePipeline reports Failed",
			EnvVerifyFunction, EnvRollbackPolicy, policy))
	case strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		l.errs = append(l.errs, fmt.Errorf("%s=%q: a function name or ARN has no spaces or control characters (e.g. postdeploy-verify)", EnvVerifyFunction, v))
		return ""
	}
	return v
}

// suiteAlarmPrefix reads EnvSuiteAlarmPrefix: the start of an alarm name
// (CloudWatch alarm names are 1 to 255 characters; PutMetricAlarm,
// AlarmName, CloudWatch API Reference), without control characters.
func (l *loader) suiteAlarmPrefix() string {
	v := l.str(EnvSuiteAlarmPrefix, "")
	switch {
	case len(v) > 255:
		l.errs = append(l.errs, fmt.Errorf("%s: %d characters: an alarm name has at most 255; set the suite's alarm name prefix (the stack sets \"<stack name>-\")", EnvSuiteAlarmPrefix, len(v)))
		return ""
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		l.errs = append(l.errs, fmt.Errorf("%s=%q: an alarm name prefix has no control characters (the stack sets \"<stack name>-\", e.g. \"Postdeploy-\")", EnvSuiteAlarmPrefix, v))
		return ""
	}
	return v
}
