package contract

import "github.com/postdeploy/postdeploy/pkg/verdict"

// The suite's own EventBridge event: verify publishes one when a
// verification reaches its verdict; respond (rollback, notification) and
// anyone else may subscribe to it.
const (
	VerificationSource     = "postdeploy.verify"
	VerificationDetailType = "Post-Deploy Verification Completed"
)

// VerificationCompleted is the detail of the "Post-Deploy Verification
// Completed" event.
type VerificationCompleted struct {
	Verdict verdict.Verdict `json:"verdict"`
	// Pipeline, ExecutionID, Stage and Action name the CodePipeline
	// action that ran the verification.
	Pipeline    string `json:"pipeline,omitempty"`
	ExecutionID string `json:"executionId,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Action      string `json:"action,omitempty"`
	// JobID is the CodePipeline job's id ("" for a CodeDeploy hook).
	JobID   string `json:"jobId"`
	Summary string `json:"summary"`
	// FailedChecks names the checks whose verdict was not Succeeded.
	FailedChecks []string `json:"failedChecks"`
	// Checks holds each check's final verdict.
	Checks      []verdict.Result `json:"checks"`
	Samples     int              `json:"samples"`
	BakeSeconds int              `json:"bakeSeconds"`

	// The CodeDeploy lifecycle hook that ran the verification (set, and
	// Pipeline empty, when a hook ran it): the deployment, its application
	// and deployment group, the hook (e.g. "AfterAllowTestTraffic") and
	// its execution id. A failed hook makes CodeDeploy fail the
	// deployment, and roll it back when the group's automatic rollback
	// on failure is on (AutoRollback, read from the deployment group):
	// consumers must not roll back through CodePipeline.
	DeploymentID    string `json:"deploymentId,omitempty"`
	Application     string `json:"application,omitempty"`
	DeploymentGroup string `json:"deploymentGroup,omitempty"`
	Hook            string `json:"hook,omitempty"`
	HookExecutionID string `json:"hookExecutionId,omitempty"`
	AutoRollback    bool   `json:"autoRollback,omitempty"`
}
