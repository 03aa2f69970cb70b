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
	// JobID is the CodePipeline job's id.
	JobID   string `json:"jobId"`
	Summary string `json:"summary"`
	// FailedChecks names the checks whose verdict was not Succeeded.
	FailedChecks []string `json:"failedChecks"`
	// Checks holds each check's final verdict.
	Checks      []verdict.Result `json:"checks"`
	Samples     int              `json:"samples"`
	BakeSeconds int              `json:"bakeSeconds"`
}
