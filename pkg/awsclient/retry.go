package awsclient

import (
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// MutatingRetryer returns a new retryer for calls that change something
// (ECS UpdateService, SSM StartAutomationExecution, CodePipeline
// RollbackStage, CodeDeploy StopDeployment, ...). It retries only when the
// error proves the service did not process the request, so one decision
// sends one mutation:
//
//   - a throttling error code (the SDK's retry.DefaultThrottleErrorCodes).
//     Every service's API reference lists ThrottlingException under "Common
//     Errors" as "The request was denied due to request throttling" (for
//     example https://docs.aws.amazon.com/securityhub/1.0/APIReference/CommonErrors.html):
//     the request was refused, not performed;
//   - a connection that failed while dialing (connection refused, a
//     temporary DNS failure, a dial timeout): no byte of the request left
//     the client.
//
// Everything else is returned to the caller after one attempt: 5xx answers
// (InternalFailure "The request processing has failed" and
// ServiceUnavailable may arrive after the service acted), RequestTimeout,
// timeouts while awaiting the response, connection resets and EOFs after the
// request was written, and a DNS name that does not exist. The SDK's
// standard retryer retries all of these (see the aws/retry package
// documentation and the SDK developer guide "Retries and Timeouts",
// https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/retries-timeouts),
// which is right for reads and wrong for mutations.
//
// Each call returns a new retryer, as the SDK guide asks, so clients do not
// share a retry token bucket. Use it per client:
//
//	ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.Retryer = awsclient.MutatingRetryer() })
//
// and keep the standard retryer for the read-only clients.
func MutatingRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				return aws.BoolTernary(NotProcessed(err))
			}),
		}
	})
}

// NotProcessed reports whether err proves the service did not process the
// request: a throttling error code, or a connection that failed before the
// request was sent. It is the one rule MutatingRetryer retries on; callers
// may also use it to tell "refused, nothing happened" from "unknown whether
// it happened" when they audit a failed mutation.
func NotProcessed(err error) bool {
	return throttled(err) || notSent(err)
}

// throttled reports whether err carries one of the SDK's throttling error
// codes.
func throttled(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[apiErr.ErrorCode()]
	return ok
}

// notSent reports whether err is a dial failure: the connection was never
// established, so the request was never written. A name that does not exist
// (NXDOMAIN) is not retried: it will not exist on the next attempt either.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
