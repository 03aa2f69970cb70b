package remediate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMAPI is the part of *ssm.Client the actions use, and LoadPolicy
// (GetParameter), so one client serves both.
type SSMAPI interface {
	ParameterAPI
	StartAutomationExecution(ctx context.Context, in *ssm.StartAutomationExecutionInput, optFns ...func(*ssm.Options)) (*ssm.StartAutomationExecutionOutput, error)
	GetAutomationExecution(ctx context.Context, in *ssm.GetAutomationExecutionInput, optFns ...func(*ssm.Options)) (*ssm.GetAutomationExecutionOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// ssmRunbook starts an SSM Automation runbook (for example
// AWS-RestartEC2Instance) against one EC2 instance, whose opt-in tag is
// checked, and verifies that the execution succeeds.
type ssmRunbook struct {
	api SSMAPI
	ec2 EC2API
}

const runbookParamPrefix = "parameters."

func (ssmRunbook) Permissions() []string {
	return []string{"ec2:DescribeInstances", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution"}
}

func (ssmRunbook) Params() []Param {
	return []Param{
		{Name: "document", Required: true, Doc: "the Automation document, e.g. AWS-RestartEC2Instance"},
		{Name: "instanceId", Required: true, Doc: "the instance the runbook acts on (its opt-in tag is checked)"},
		{Name: runbookParamPrefix + "*", Doc: "a runbook parameter, e.g. parameters.InstanceId: '{{.Dimensions.InstanceId}}'; comma-separate a list"},
	}
}

func (ssmRunbook) CheckParams(p Params) map[string]string { return checkInstanceID(p, "instanceId") }

func (ssmRunbook) Targets(_ Alarm, p Params) ([]Target, error) {
	return []Target{{Type: "ec2-instance", ID: p["instanceId"]}}, nil
}

func (a ssmRunbook) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	return instanceOptedIn(ctx, a.ec2, t.ID, tag)
}

func (ssmRunbook) Plan(_ context.Context, t Target, p Params) (Call, string, error) {
	params := map[string][]string{}
	var names []string
	for k, v := range p {
		if name, ok := strings.CutPrefix(k, runbookParamPrefix); ok {
			params[name] = strings.Split(v, ",")
			names = append(names, name)
		}
	}
	sort.Strings(names)
	doc := p["document"]
	return Call{
		API:   "ssm:StartAutomationExecution",
		Input: &ssm.StartAutomationExecutionInput{DocumentName: aws.String(doc), Parameters: params},
		Note:  fmt.Sprintf("run Automation runbook %s for instance %s (parameters %s)", doc, t.ID, strings.Join(names, ", ")),
	}, "", nil
}

// WithToken sets the execution's ClientToken, so the same decision is the
// same request to SSM (Idempotent).
func (ssmRunbook) WithToken(c Call, token string) Call {
	if in, ok := c.Input.(*ssm.StartAutomationExecutionInput); ok {
		cp := *in
		cp.ClientToken = aws.String(token)
		c.Input = &cp
	}
	return c
}

func (a ssmRunbook) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*ssm.StartAutomationExecutionInput](c)
	if err != nil {
		return Result{}, err
	}
	out, err := a.api.StartAutomationExecution(ctx, in, onceSSM)
	if err != nil {
		return Result{}, fmt.Errorf("start Automation runbook %s: %w", aws.ToString(in.DocumentName), err)
	}
	id := aws.ToString(out.AutomationExecutionId)
	return Result{Summary: "Automation execution " + id + " of " + aws.ToString(in.DocumentName) + " started", Ref: id}, nil
}

func (a ssmRunbook) Verify(ctx context.Context, _ Target, _ Call, r Result) (bool, string, error) {
	out, err := a.api.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(r.Ref)})
	if err != nil {
		return false, "", fmt.Errorf("get Automation execution %s: %w", r.Ref, err)
	}
	if out.AutomationExecution == nil {
		return false, "", fmt.Errorf("get Automation execution %s: empty answer", r.Ref)
	}
	ex := out.AutomationExecution
	obs := fmt.Sprintf("Automation execution %s %s", r.Ref, ex.AutomationExecutionStatus)
	if msg := aws.ToString(ex.FailureMessage); msg != "" {
		obs += ": " + msg
	}
	switch ex.AutomationExecutionStatus {
	case ssmtypes.AutomationExecutionStatusSuccess:
		return true, obs, nil
	case ssmtypes.AutomationExecutionStatusFailed, ssmtypes.AutomationExecutionStatusCancelled, ssmtypes.AutomationExecutionStatusTimedout,
		ssmtypes.AutomationExecutionStatusRejected, ssmtypes.AutomationExecutionStatusCompletedWithFailure:
		return false, obs, fmt.Errorf("%w: %s", ErrFailed, obs)
	}
	return false, obs, nil
}
