package config

import (
	"errors"
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// Environment variables of functions/remediate (besides the topics,
// POSTDEPLOY_TOPIC_<KIND>, and the state table, POSTDEPLOY_STATE_TABLE,
// which it shares with functions/respond).
const (
	// EnvRemediationPolicy says where the remediation policy is:
	// "file:<path>" (relative paths are under the function's directory,
	// LAMBDA_TASK_ROOT) or "ssm:<parameter name>" (a String or
	// SecureString parameter). Default "file:policy.yaml", the policy
	// shipped with the function.
	EnvRemediationPolicy = "POSTDEPLOY_REMEDIATION_POLICY"
	// EnvRemediateDryRun forces dry run whatever the policy says: every
	// decision is made and reported, no mutating API is called (default
	// false; it can only add caution, never remove a policy's dry run).
	EnvRemediateDryRun = "POSTDEPLOY_REMEDIATE_DRY_RUN"
)

// DefaultRemediationPolicy is the policy file shipped with the function.
const DefaultRemediationPolicy = "file:policy.yaml"

// Remediate is functions/remediate's configuration.
type Remediate struct {
	Common
	Topics     map[notify.Kind]string
	StateTable string
	// PolicySource is "file:<path>" or "ssm:<name>".
	PolicySource   string
	DryRun         bool
	NotifyFormat   notify.Format
	RunbookBaseURL string
}

// LoadRemediate reads functions/remediate's settings; the error joins
// every problem found.
func LoadRemediate(getenv Getenv) (Remediate, error) {
	l := &loader{getenv: getenv}
	c := Remediate{Common: l.common(), Topics: l.topics()}
	c.StateTable = l.str(EnvStateTable, "")
	if c.StateTable == "" {
		l.errs = append(l.errs, fmt.Errorf("%s: required: the DynamoDB state table that holds idempotency claims, cooldowns, rate limits, incidents and the audit trail", EnvStateTable))
	}
	c.PolicySource = l.policySource("")
	c.DryRun = l.bool(EnvRemediateDryRun, false)
	c.NotifyFormat = l.notifyFormat()
	c.RunbookBaseURL = l.runbookBaseURL()
	return c, errors.Join(l.errs...)
}
