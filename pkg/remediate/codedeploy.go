package remediate

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// CodeDeployAPI is the part of *codedeploy.Client the actions use.
type CodeDeployAPI interface {
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
	ListTagsForResource(ctx context.Context, in *codedeploy.ListTagsForResourceInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListTagsForResourceOutput, error)
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// codedeployRollback stops the deployment in progress in a deployment
// group with automatic rollback, and verifies that the rollback
// deployment succeeds.
type codedeployRollback struct{ api CodeDeployAPI }

func (codedeployRollback) Permissions() []string {
	return []string{"codedeploy:GetDeployment", "codedeploy:ListDeployments", "codedeploy:ListTagsForResource", "codedeploy:StopDeployment"}
}

func (codedeployRollback) Params() []Param {
	return []Param{
		{Name: "application", Required: true, Doc: "the CodeDeploy application"},
		{Name: "deploymentGroup", Required: true, Doc: "the deployment group"},
	}
}

func (codedeployRollback) Targets(a Alarm, p Params) ([]Target, error) {
	id := p["application"] + "/" + p["deploymentGroup"]
	return []Target{{
		Type: "codedeploy-deployment-group", ID: id,
		ARN: fmt.Sprintf("arn:%s:codedeploy:%s:%s:deploymentgroup:%s", partition(a.ARN), a.Region, a.AccountID, id),
	}}, nil
}

func (a codedeployRollback) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	out, err := a.api.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String(t.ARN)})
	if err != nil {
		return false, "", fmt.Errorf("list tags of deployment group %s: %w", t.ARN, err)
	}
	tags := map[string]string{}
	for _, x := range out.Tags {
		tags[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	ok, obs := tag.check(tags)
	return ok, obs, nil
}

func (a codedeployRollback) Plan(ctx context.Context, t Target, p Params) (Call, string, error) {
	out, err := a.api.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
		ApplicationName:     aws.String(p["application"]),
		DeploymentGroupName: aws.String(p["deploymentGroup"]),
		IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusCreated},
	})
	if err != nil {
		return Call{}, "", fmt.Errorf("list active deployments of %s: %w", t.ID, err)
	}
	if len(out.Deployments) == 0 {
		return Call{}, "no deployment in progress in " + t.ID + " to roll back", nil
	}
	id := out.Deployments[0]
	return Call{
		API:   "codedeploy:StopDeployment",
		Input: &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)},
		Note:  "stop deployment " + id + " of " + t.ID + " and roll back to the last good revision",
	}, "", nil
}

func (a codedeployRollback) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*codedeploy.StopDeploymentInput](c)
	if err != nil {
		return Result{}, err
	}
	out, err := a.api.StopDeployment(ctx, in, onceCodeDeploy)
	if err != nil {
		return Result{}, fmt.Errorf("stop deployment %s with rollback: %w", aws.ToString(in.DeploymentId), err)
	}
	return Result{Summary: fmt.Sprintf("deployment %s stop: %s %s", aws.ToString(in.DeploymentId), out.Status, aws.ToString(out.StatusMessage)), Ref: aws.ToString(in.DeploymentId)}, nil
}

func (a codedeployRollback) Verify(ctx context.Context, _ Target, _ Call, r Result) (bool, string, error) {
	d, err := a.deployment(ctx, r.Ref)
	if err != nil {
		return false, "", err
	}
	obs := fmt.Sprintf("deployment %s %s", r.Ref, d.Status)
	if d.RollbackInfo == nil || aws.ToString(d.RollbackInfo.RollbackDeploymentId) == "" {
		if d.Status == cdtypes.DeploymentStatusStopped || d.Status == cdtypes.DeploymentStatusFailed {
			if d.RollbackInfo != nil && aws.ToString(d.RollbackInfo.RollbackMessage) != "" {
				return false, obs + "; " + aws.ToString(d.RollbackInfo.RollbackMessage), fmt.Errorf("%w: %s stopped without a rollback deployment", ErrFailed, r.Ref)
			}
		}
		return false, obs + "; no rollback deployment yet", nil
	}
	rb := aws.ToString(d.RollbackInfo.RollbackDeploymentId)
	rd, err := a.deployment(ctx, rb)
	if err != nil {
		return false, obs, err
	}
	obs += fmt.Sprintf("; rollback deployment %s %s", rb, rd.Status)
	switch rd.Status {
	case cdtypes.DeploymentStatusSucceeded:
		return true, obs, nil
	case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
		return false, obs, fmt.Errorf("%w: rollback deployment %s %s", ErrFailed, rb, rd.Status)
	}
	return false, obs, nil
}

func (a codedeployRollback) deployment(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	out, err := a.api.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s: %w", id, err)
	}
	if out.DeploymentInfo == nil {
		return nil, fmt.Errorf("get deployment %s: empty answer", id)
	}
	return out.DeploymentInfo, nil
}

// partition is the ARN partition of arn ("aws", "aws-cn", ...).
func partition(arn string) string {
	var parts [3]string
	n := 0
	start := 0
	for i := 0; i < len(arn) && n < 2; i++ {
		if arn[i] == ':' {
			parts[n] = arn[start:i]
			n++
			start = i + 1
		}
	}
	if n == 2 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}
