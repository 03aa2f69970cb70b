package remediate

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
)

// One mutating call per decision. The SDK's standard retryer sends a call
// again after a 5xx, a timeout or a connection reset — answers that may
// arrive after the service acted — so each action's mutating call is made
// with awsclient.MutatingRetryer, which retries only what proves the
// request was not processed (a throttling code, a failed dial). The reads
// around it (tags, plans, verification) keep the standard retryer.
//
// Idempotency tokens, where the API has one:
//   - ssm:StartAutomationExecution takes a ClientToken ("User-provided
//     idempotency token. The token must be unique, is case insensitive,
//     enforces the UUID format, and can't be reused": AWS Systems Manager
//     API Reference, StartAutomationExecution,
//     https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html);
//     ssmRunbook implements Idempotent and the engine gives it
//     idempotencyToken.
//   - ecs:UpdateService, ec2:RebootInstances,
//     autoscaling:SetDesiredCapacity and codedeploy:StopDeployment take
//     none (nor does codedeploy:CreateDeployment, which no action calls):
//     the retryer is the only guard. lambda:UpdateAlias takes none either,
//     but the planned call carries the alias's RevisionId, so a repeat
//     after the first landed fails with PreconditionFailedException.
//
// sns:Publish (the notify action, and every decision's notification)
// keeps the standard retryer on purpose: a person told twice is better
// than an escalation lost to a 5xx, and SNS delivers at least once to
// subscribers anyway.

func onceECS(o *ecs.Options)                 { o.Retryer = awsclient.MutatingRetryer() }
func onceEC2(o *ec2.Options)                 { o.Retryer = awsclient.MutatingRetryer() }
func onceAutoScaling(o *autoscaling.Options) { o.Retryer = awsclient.MutatingRetryer() }
func onceCodeDeploy(o *codedeploy.Options)   { o.Retryer = awsclient.MutatingRetryer() }
func onceLambda(o *lambda.Options)           { o.Retryer = awsclient.MutatingRetryer() }
func onceSSM(o *ssm.Options)                 { o.Retryer = awsclient.MutatingRetryer() }

// Idempotent is implemented by actions whose mutating API takes an
// idempotency token: the engine gives the planned call one derived from
// the decision (idempotencyToken), before the call is audited, reported
// or made.
type Idempotent interface {
	WithToken(c Call, token string) Call
}

// idempotencyToken is the token of one decision: the state change (its
// key: alarm ARN, new state, time), the action and the target. It is a
// UUID in form (8-4-4-4-12 lowercase hex, version 8 "custom" and the RFC
// 9562 variant), as StartAutomationExecution's ClientToken requires, and
// the same decision always gets the same one.
func idempotencyToken(stateChangeKey, action string, t Target) string {
	h := sha256.Sum256([]byte(stateChangeKey + "\x00" + action + "\x00" + t.Type + "\x00" + t.ID))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// mayHaveLanded reports whether a failed mutating call may still have
// taken effect. Only an answer that refuses the request proves it did
// not: an API error with a 4xx status, or one the service's model marks
// as the client's fault (validation, access denied, not found,
// conflicts), or a throttle or failed dial (awsclient.NotProcessed).
// A 5xx ("InternalFailure: The request processing has failed because of
// an unknown error, exception or failure", Common Errors of every AWS API
// reference), a timeout or a connection lost after the request was sent
// say nothing of whether the service acted. Such a call is Unverified,
// never Failed, and never repeated.
func mayHaveLanded(err error) bool {
	if awsclient.NotProcessed(err) {
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 400 && status.HTTPStatusCode() < 500 {
		return false
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultClient {
		return false
	}
	return true
}
