package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// ErrNoStack says CloudFormation has no stack of that name in the caller's
// account and region.
var ErrNoStack = errors.New("no such stack")

// ErrOtherVersion says the stack is not a postdeploy stack of the version
// this drill knows (an output it needs is missing).
var ErrOtherVersion = errors.New("not a postdeploy stack of this version")

// RequiredOutputs are the stack outputs the drill needs: the state table
// (remediate's audit trail) and, as the mark of a stack at least as new
// as this drill, the token key secret. The topics are its AWS::SNS::Topic
// resources.
var RequiredOutputs = []string{"StateTableName", "TokenKeySecretArn"}

// Stack is what the drill works on, as CloudFormation describes it.
type Stack struct {
	Name, ID        string
	Region, Account string
	// Table is the state table (output StateTableName).
	Table string
	// Alarms, Dashboards are names; Topics ARNs; all sorted.
	Alarms, Dashboards, Topics []string
}

// Discover reads the stack from CloudFormation.
func Discover(ctx context.Context, api StackAPI, name string) (*Stack, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		// CloudFormation answers ValidationError "Stack with id <name> does
		// not exist" (DescribeStacks, AWS CloudFormation API Reference:
		// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
			return nil, fmt.Errorf("stack %q: %w in this account and region: check STACK and REGION (the name `make deploy` used; default Postdeploy)", name, ErrNoStack)
		}
		return nil, fmt.Errorf("describe stack %q: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("stack %q: %w in this account and region (DescribeStacks returned %d stacks)", name, ErrNoStack, len(out.Stacks))
	}
	st := out.Stacks[0]
	s := &Stack{Name: aws.ToString(st.StackName), ID: aws.ToString(st.StackId)}
	if p := strings.SplitN(s.ID, ":", 6); len(p) == 6 {
		s.Region, s.Account = p[3], p[4]
	}
	switch st.StackStatus {
	case cfntypes.StackStatusCreateComplete, cfntypes.StackStatusUpdateComplete,
		cfntypes.StackStatusUpdateRollbackComplete, cfntypes.StackStatusImportComplete:
	default:
		return nil, fmt.Errorf("stack %q is %s: the drill runs on a stack whose last create or update completed; wait for it, or fix it and deploy again", name, st.StackStatus)
	}
	outputs := map[string]string{}
	for _, o := range st.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	var missing []string
	for _, k := range RequiredOutputs {
		if outputs[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("stack %q: %w (it has no output %s): deploy this checkout with `make deploy`, or run the drill from the checkout that deployed the stack",
			name, ErrOtherVersion, strings.Join(missing, ", "))
	}
	s.Table = outputs["StateTableName"]

	p := cloudformation.NewListStackResourcesPaginator(api, &cloudformation.ListStackResourcesInput{StackName: aws.String(s.ID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the resources of stack %q: %w", name, err)
		}
		for _, r := range page.StackResourceSummaries {
			id := aws.ToString(r.PhysicalResourceId)
			if id == "" {
				continue
			}
			// Physical ids: an alarm's and a dashboard's name, a topic's
			// ARN ("Ref" return values, AWS::CloudWatch::Alarm,
			// AWS::CloudWatch::Dashboard and AWS::SNS::Topic in the
			// CloudFormation Template Reference).
			switch aws.ToString(r.ResourceType) {
			case "AWS::CloudWatch::Alarm":
				s.Alarms = append(s.Alarms, id)
			case "AWS::CloudWatch::Dashboard":
				s.Dashboards = append(s.Dashboards, id)
			case "AWS::SNS::Topic":
				s.Topics = append(s.Topics, id)
			}
		}
	}
	slices.Sort(s.Alarms)
	slices.Sort(s.Dashboards)
	slices.Sort(s.Topics)
	if len(s.Topics) == 0 {
		return nil, fmt.Errorf("stack %q: %w (it has no SNS topics)", name, ErrOtherVersion)
	}
	return s, nil
}
