package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// What verify reads from CodeDeploy before it acts on a hook invocation:
// the deployment (GetDeployment: application, deployment group, compute
// platform, status, load balancer and rollback configuration) and which
// lifecycle event is running on its target (ListDeploymentTargets and
// GetDeploymentTarget: each target's lifecycleEvents with their status
// and startTime; CodeDeploy API Reference, "GetDeploymentTarget",
// "ECSTarget", "LambdaTarget", "LifecycleEvent"). The hook execution id
// itself appears in no read API, so the hook that is running is the
// target's one hookable lifecycle event whose status is InProgress.

// CodeDeployAPI is the part of *codedeploy.Client the hook handler uses.
type CodeDeployAPI interface {
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	ListDeploymentTargets(ctx context.Context, in *codedeploy.ListDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error)
	GetDeploymentTarget(ctx context.Context, in *codedeploy.GetDeploymentTargetInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentTargetOutput, error)
	PutLifecycleEventHookExecutionStatus(ctx context.Context, in *codedeploy.PutLifecycleEventHookExecutionStatusInput, optFns ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error)
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// Hook spec variables: every hook spec may use these as #{NAME}.
const (
	VarDeploymentID    = "DEPLOYMENT_ID"
	VarApplication     = "APPLICATION"
	VarDeploymentGroup = "DEPLOYMENT_GROUP"
	VarHook            = "HOOK"
	// ECS blue/green, from the deployment's load balancer info and its
	// target's task sets (empty when the group has no test listener).
	VarTestListenerARN  = "TEST_LISTENER_ARN"
	VarProdListenerARN  = "PROD_LISTENER_ARN"
	VarGreenTaskSet     = "GREEN_TASK_SET"
	VarGreenTargetGroup = "GREEN_TARGET_GROUP"
	// Lambda, from the deployment target's function info.
	VarFunctionName  = "FUNCTION_NAME"
	VarFunctionAlias = "FUNCTION_ALIAS"
	VarTargetVersion = "TARGET_VERSION"
)

// hookRun is what CodeDeploy confirms about a hook invocation.
type hookRun struct {
	ev           contract.CodeDeployHookEvent
	platform     cdtypes.ComputePlatform
	application  string
	group        string
	hook         string
	started      time.Time // the lifecycle event's startTime
	autoRollback bool      // the deployment rolls back when it fails
	vars         map[string]string
}

// Why a hook invocation is not acted on.
var (
	errNoDeployment   = errors.New("CodeDeploy has no such deployment")
	errNotRunning     = errors.New("no hookable lifecycle event of the deployment is in progress")
	errNotHookable    = errors.New("the deployment's compute platform has no Lambda hooks")
	errAmbiguousHooks = errors.New("more than one hookable lifecycle event is in progress")
)

// resolve reads the deployment and its running lifecycle event from
// CodeDeploy. Errors wrapping errNoDeployment, errNotRunning,
// errNotHookable or errAmbiguousHooks are CodeDeploy's answer; any other
// error means CodeDeploy could not be read.
func resolve(ctx context.Context, api CodeDeployAPI, ev contract.CodeDeployHookEvent) (hookRun, error) {
	run := hookRun{ev: ev}
	out, err := api.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(ev.DeploymentID)})
	var nf *cdtypes.DeploymentDoesNotExistException
	switch {
	case errors.As(err, &nf):
		return run, fmt.Errorf("GetDeployment %s: %w: %w", ev.DeploymentID, errNoDeployment, err)
	case err != nil:
		return run, fmt.Errorf("GetDeployment %s: %w", ev.DeploymentID, err)
	case out.DeploymentInfo == nil:
		return run, fmt.Errorf("GetDeployment %s: %w (no deploymentInfo)", ev.DeploymentID, errNoDeployment)
	}
	d := out.DeploymentInfo
	run.platform = d.ComputePlatform
	run.application, run.group = aws.ToString(d.ApplicationName), aws.ToString(d.DeploymentGroupName)
	if run.platform != cdtypes.ComputePlatformEcs && run.platform != cdtypes.ComputePlatformLambda {
		return run, fmt.Errorf("deployment %s runs on compute platform %q: %w (only ECS and Lambda deployments call validation functions)", ev.DeploymentID, run.platform, errNotHookable)
	}
	if d.Status != cdtypes.DeploymentStatusInProgress {
		return run, fmt.Errorf("deployment %s is %s: %w", ev.DeploymentID, d.Status, errNotRunning)
	}
	if rb := d.AutoRollbackConfiguration; rb != nil && rb.Enabled && slices.Contains(rb.Events, cdtypes.AutoRollbackEventDeploymentFailure) {
		run.autoRollback = true
	}
	run.vars = map[string]string{VarDeploymentID: ev.DeploymentID, VarApplication: run.application, VarDeploymentGroup: run.group}
	if lb := d.LoadBalancerInfo; lb != nil && len(lb.TargetGroupPairInfoList) > 0 {
		p := lb.TargetGroupPairInfoList[0]
		if p.TestTrafficRoute != nil && len(p.TestTrafficRoute.ListenerArns) > 0 {
			run.vars[VarTestListenerARN] = p.TestTrafficRoute.ListenerArns[0]
		}
		if p.ProdTrafficRoute != nil && len(p.ProdTrafficRoute.ListenerArns) > 0 {
			run.vars[VarProdListenerARN] = p.ProdTrafficRoute.ListenerArns[0]
		}
	}
	ev2, err := runningEvent(ctx, api, &run)
	if err != nil {
		return run, err
	}
	run.hook = aws.ToString(ev2.LifecycleEventName)
	run.started = aws.ToTime(ev2.StartTime)
	run.vars[VarHook] = run.hook
	return run, nil
}

// runningEvent finds the deployment's one hookable lifecycle event in
// progress, filling the target's variables into run.
func runningEvent(ctx context.Context, api CodeDeployAPI, run *hookRun) (cdtypes.LifecycleEvent, error) {
	hookable := contract.ECSHooks
	if run.platform == cdtypes.ComputePlatformLambda {
		hookable = contract.LambdaHooks
	}
	var found []cdtypes.LifecycleEvent
	var next *string
	for page := 0; page < 10; page++ {
		lt, err := api.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(run.ev.DeploymentID), NextToken: next})
		if err != nil {
			return cdtypes.LifecycleEvent{}, fmt.Errorf("ListDeploymentTargets %s: %w", run.ev.DeploymentID, err)
		}
		for _, id := range lt.TargetIds {
			gt, err := api.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(run.ev.DeploymentID), TargetId: aws.String(id)})
			if err != nil {
				return cdtypes.LifecycleEvent{}, fmt.Errorf("GetDeploymentTarget %s %s: %w", run.ev.DeploymentID, id, err)
			}
			var events []cdtypes.LifecycleEvent
			if t := gt.DeploymentTarget; t != nil && t.EcsTarget != nil {
				events = t.EcsTarget.LifecycleEvents
				for _, ts := range t.EcsTarget.TaskSetsInfo {
					if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
						run.vars[VarGreenTaskSet] = aws.ToString(ts.Identifer) //nolint:misspell // the SDK spells ECSTaskSet.identifer so (CodeDeploy API Reference, ECSTaskSet)
						if ts.TargetGroup != nil {
							run.vars[VarGreenTargetGroup] = aws.ToString(ts.TargetGroup.Name)
						}
					}
				}
			} else if t != nil && t.LambdaTarget != nil {
				events = t.LambdaTarget.LifecycleEvents
				if fi := t.LambdaTarget.LambdaFunctionInfo; fi != nil {
					run.vars[VarFunctionName] = aws.ToString(fi.FunctionName)
					run.vars[VarFunctionAlias] = aws.ToString(fi.FunctionAlias)
					run.vars[VarTargetVersion] = aws.ToString(fi.TargetVersion)
				}
			}
			for _, e := range events {
				if e.Status == cdtypes.LifecycleEventStatusInProgress && slices.Contains(hookable, aws.ToString(e.LifecycleEventName)) {
					found = append(found, e)
				}
			}
		}
		if next = lt.NextToken; next == nil {
			break
		}
	}
	switch {
	case len(found) == 0:
		return cdtypes.LifecycleEvent{}, fmt.Errorf("deployment %s: %w", run.ev.DeploymentID, errNotRunning)
	case len(found) > 1:
		names := make([]string, len(found))
		for i, e := range found {
			names[i] = aws.ToString(e.LifecycleEventName)
		}
		return cdtypes.LifecycleEvent{}, fmt.Errorf("deployment %s: %w (%s)", run.ev.DeploymentID, errAmbiguousHooks, strings.Join(names, ", "))
	case found[0].StartTime == nil:
		return cdtypes.LifecycleEvent{}, fmt.Errorf("deployment %s: lifecycle event %s is in progress but CodeDeploy gives no startTime", run.ev.DeploymentID, aws.ToString(found[0].LifecycleEventName))
	}
	return found[0], nil
}

// stillRunning re-reads whether run's lifecycle event is still in
// progress, right before its status is reported.
func stillRunning(ctx context.Context, api CodeDeployAPI, run hookRun) (bool, error) {
	again := hookRun{ev: run.ev, platform: run.platform, vars: map[string]string{}}
	e, err := runningEvent(ctx, api, &again)
	switch {
	case errors.Is(err, errNotRunning):
		return false, nil
	case err != nil:
		return false, err
	}
	return aws.ToString(e.LifecycleEventName) == run.hook && aws.ToTime(e.StartTime).Equal(run.started), nil
}

// where names the hook for messages and the log.
func (r hookRun) where() string {
	return fmt.Sprintf("hook %s of deployment %s (application %s, deployment group %s)", r.hook, r.ev.DeploymentID, r.application, r.group)
}
