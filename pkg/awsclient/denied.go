package awsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// deniedCodes are the error codes AWS services answer a call IAM refused
// with: AccessDenied (query protocols: CloudWatch, STS, Auto Scaling),
// AccessDeniedException (JSON protocols: ECR, Inspector2, ECS, SSM,
// Lambda), UnauthorizedOperation (EC2) and AuthorizationError (SNS). Each
// service's "Common Errors" page lists its spelling
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
	"AuthorizationError":    true,
}

// Denied reports whether err is a call IAM refused.
func Denied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && deniedCodes[apiErr.ErrorCode()]
}

// DeniedError is a call IAM refused, made through a Target: it names the
// IAM action, the role, its account and region, and the fix.
type DeniedError struct {
	Target Target
	// Action is the IAM action, e.g. cloudwatch:DescribeAlarms.
	Action string
	Err    error
}

func (e *DeniedError) Error() string {
	if e.Target.RoleARN == "" {
		return fmt.Sprintf("%s was denied to this function's role (%s): grant it to the function's role: %v", e.Action, e.Target, e.Err)
	}
	return fmt.Sprintf("%s was denied to role %s in account %s (region %s): grant %s to that role in account %s (the postdeploy member stack's role has it) or name a role that has it: %v",
		e.Action, e.Target.RoleARN, e.Target.Account(), regionOr(e.Target.Region), e.Action, e.Target.Account(), e.Err)
}

func (e *DeniedError) Unwrap() error { return e.Err }

// iamPrefix maps the SDK's service ids to IAM's action prefixes where
// they differ from the lower-cased id.
var iamPrefix = map[string]string{
	"Auto Scaling": "autoscaling",
	"EventBridge":  "events",
	"CloudWatch":   "cloudwatch",
}

// IAMAction returns the IAM action for an SDK service id and operation:
// ("CloudWatch", "DescribeAlarms") → "cloudwatch:DescribeAlarms".
func IAMAction(serviceID, operation string) string {
	p, ok := iamPrefix[serviceID]
	if !ok {
		p = strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	}
	return p + ":" + operation
}

// Scope returns the API option that makes one call look at t through a:
// every refusal it meets (a role that cannot be assumed, a call IAM
// denies) comes back as an *AssumeError or *DeniedError naming the role,
// the action and the fix, and is recorded on a (Refusals). Per-service
// option functions (CloudWatchAt, ...) add the credentials and region.
func (a *Assumer) Scope(t Target) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("postdeployRefusals",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					return out, md, nil
				}
				var ae *AssumeError
				if errors.As(err, &ae) {
					return out, md, ae
				}
				if Denied(err) {
					de := &DeniedError{Target: t, Action: IAMAction(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)), Err: err}
					a.note("deny "+de.Action+" "+t.RoleARN+" "+t.Region, de)
					return out, md, de
				}
				return out, md, err
			}), middleware.Before)
	}
}
