package remediate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

type fakeASG struct {
	group astypes.AutoScalingGroup
	sets  []int32
}

var _ remediate.AutoScalingAPI = (*fakeASG)(nil)

func (f *fakeASG) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []astypes.AutoScalingGroup{f.group}}, nil
}

func (f *fakeASG) SetDesiredCapacity(_ context.Context, in *autoscaling.SetDesiredCapacityInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	f.sets = append(f.sets, *in.DesiredCapacity)
	f.group.DesiredCapacity = in.DesiredCapacity
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

func asgGroup(desired, lo, hi int32, inService int) astypes.AutoScalingGroup {
	g := astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("web-asg"), DesiredCapacity: aws.Int32(desired), MinSize: aws.Int32(lo), MaxSize: aws.Int32(hi),
		Tags: []astypes.TagDescription{{Key: aws.String("postdeploy:remediate"), Value: aws.String("true")}},
	}
	for i := 0; i < inService; i++ {
		g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(fmt.Sprintf("i-%d", i)), LifecycleState: astypes.LifecycleStateInService, HealthStatus: aws.String("Healthy")})
	}
	return g
}

type fakeCodeDeploy struct {
	active      []string
	deployments map[string]cdtypes.DeploymentInfo
	stops       []string
	tags        map[string]string
	tagARN      string
}

var _ remediate.CodeDeployAPI = (*fakeCodeDeploy)(nil)

func (f *fakeCodeDeploy) ListDeployments(context.Context, *codedeploy.ListDeploymentsInput, ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return &codedeploy.ListDeploymentsOutput{Deployments: f.active}, nil
}

func (f *fakeCodeDeploy) GetDeployment(_ context.Context, in *codedeploy.GetDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	d, ok := f.deployments[*in.DeploymentId]
	if !ok {
		return nil, errors.New("DeploymentDoesNotExistException")
	}
	return &codedeploy.GetDeploymentOutput{DeploymentInfo: &d}, nil
}

func (f *fakeCodeDeploy) StopDeployment(_ context.Context, in *codedeploy.StopDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error) {
	f.stops = append(f.stops, *in.DeploymentId)
	return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusPending, StatusMessage: aws.String("Stopping")}, nil
}

func (f *fakeCodeDeploy) ListTagsForResource(_ context.Context, in *codedeploy.ListTagsForResourceInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListTagsForResourceOutput, error) {
	f.tagARN = *in.ResourceArn
	out := &codedeploy.ListTagsForResourceOutput{}
	for k, v := range f.tags {
		out.Tags = append(out.Tags, cdtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

type fakeLambda struct {
	alias    lambda.GetAliasOutput
	versions []string
	updates  []lambda.UpdateAliasInput
	tagsOf   string
}

var _ remediate.LambdaAPI = (*fakeLambda)(nil)

func (f *fakeLambda) GetAlias(context.Context, *lambda.GetAliasInput, ...func(*lambda.Options)) (*lambda.GetAliasOutput, error) {
	a := f.alias
	return &a, nil
}

func (f *fakeLambda) UpdateAlias(_ context.Context, in *lambda.UpdateAliasInput, _ ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error) {
	f.updates = append(f.updates, *in)
	f.alias.FunctionVersion = in.FunctionVersion
	f.alias.RoutingConfig = in.RoutingConfig
	return &lambda.UpdateAliasOutput{}, nil
}

func (f *fakeLambda) ListVersionsByFunction(context.Context, *lambda.ListVersionsByFunctionInput, ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error) {
	out := &lambda.ListVersionsByFunctionOutput{}
	for _, v := range f.versions {
		out.Versions = append(out.Versions, lambdatypes.FunctionConfiguration{Version: aws.String(v)})
	}
	return out, nil
}

func (f *fakeLambda) ListTags(_ context.Context, in *lambda.ListTagsInput, _ ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	f.tagsOf = *in.Resource
	return &lambda.ListTagsOutput{Tags: map[string]string{"postdeploy:remediate": "true"}}, nil
}

type fakeSSM struct {
	starts []ssm.StartAutomationExecutionInput
	status ssmtypes.AutomationExecutionStatus
}

var _ remediate.SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) StartAutomationExecution(_ context.Context, in *ssm.StartAutomationExecutionInput, _ ...func(*ssm.Options)) (*ssm.StartAutomationExecutionOutput, error) {
	f.starts = append(f.starts, *in)
	return &ssm.StartAutomationExecutionOutput{AutomationExecutionId: aws.String("exec-1")}, nil
}

func (f *fakeSSM) GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return nil, errors.New("ParameterNotFound")
}

func (f *fakeSSM) GetAutomationExecution(context.Context, *ssm.GetAutomationExecutionInput, ...func(*ssm.Options)) (*ssm.GetAutomationExecutionOutput, error) {
	return &ssm.GetAutomationExecutionOutput{AutomationExecution: &ssmtypes.AutomationExecution{AutomationExecutionStatus: f.status}}, nil
}

var tag = remediate.Tag{Key: "postdeploy:remediate", Value: "true"}

// runAction plans, does and verifies one action on its single target.
type actionRun struct {
	optedIn  bool
	observed string
	call     string
	skip     string
	result   remediate.Result
	done     bool
	verified string
	err      error
}

func runAction(t *testing.T, a remediate.Action, alarm remediate.Alarm, p remediate.Params) actionRun {
	t.Helper()
	ctx := context.Background()
	targets, err := a.Targets(alarm, p)
	if err != nil || len(targets) != 1 {
		t.Fatalf("Targets = %v, %v; want one target", targets, err)
	}
	tg := targets[0]
	var r actionRun
	if r.optedIn, r.observed, err = a.OptedIn(ctx, tg, tag); err != nil {
		t.Fatalf("OptedIn(%s): %v", tg, err)
	}
	c, skip, err := a.Plan(ctx, tg, p)
	if err != nil {
		t.Fatalf("Plan(%s): %v", tg, err)
	}
	if r.skip = skip; skip != "" {
		return r
	}
	r.call = c.String()
	if r.result, err = a.Do(ctx, c); err != nil {
		t.Fatalf("Do(%s): %v", r.call, err)
	}
	if v, ok := a.(remediate.Verifier); ok {
		r.done, r.verified, r.err = v.Verify(ctx, tg, c, r.result)
	}
	return r
}

func TestActions(t *testing.T) {
	alarm := ecsAlarm("api", "ALARM", start)
	tests := []struct {
		name    string
		action  string
		clients func() remediate.Clients
		params  remediate.Params
		want    actionRun
		check   func(t *testing.T, c remediate.Clients)
	}{
		{
			name: "ec2.reboot", action: "ec2.reboot",
			clients: func() remediate.Clients {
				return remediate.Clients{EC2: &fakeEC2{instances: map[string]map[string]string{"i-0abc": {"postdeploy:remediate": "true"}}}}
			},
			params: remediate.Params{"instanceId": "i-0abc"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true", call: `ec2:RebootInstances {"InstanceIds":["i-0abc"]}`,
				result: remediate.Result{Summary: "reboot of i-0abc requested"}, done: true,
				verified: "instance i-0abc running, instance status ok, system status ok"},
			check: func(t *testing.T, c remediate.Clients) {
				if r := c.EC2.(*fakeEC2).reboots; len(r) != 1 {
					t.Errorf("reboots = %v; want one", r)
				}
			},
		},
		{
			name: "ec2.reboot of an instance still impaired", action: "ec2.reboot",
			clients: func() remediate.Clients {
				return remediate.Clients{EC2: &fakeEC2{instances: map[string]map[string]string{"i-0abc": {}}, status: "impaired"}}
			},
			params: remediate.Params{"instanceId": "i-0abc"},
			want: actionRun{observed: `no tag "postdeploy:remediate" (opt in by tagging it postdeploy:remediate=true)`, call: `ec2:RebootInstances {"InstanceIds":["i-0abc"]}`,
				result:   remediate.Result{Summary: "reboot of i-0abc requested"},
				verified: "instance i-0abc running, instance status impaired, system status ok"},
		},
		{
			name: "ecs.scale adds a step", action: "ecs.scale",
			clients: func() remediate.Clients {
				return remediate.Clients{ECS: newFakeECS(map[string]map[string]string{"prod/api": {"postdeploy:remediate": "true"}})}
			},
			params: remediate.Params{"cluster": "prod", "service": "api", "step": "3", "min": "1", "max": "4"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true", call: `ecs:UpdateService {"Cluster":"prod","DesiredCount":4,"Service":"api"}`,
				result: remediate.Result{Summary: "desired count of api set to 4"}, done: true, verified: "4/4 tasks running (asked for 4)"},
		},
		{
			name: "ecs.scale at its bound does nothing", action: "ecs.scale",
			clients: func() remediate.Clients {
				return remediate.Clients{ECS: newFakeECS(map[string]map[string]string{"prod/api": {"postdeploy:remediate": "true"}})}
			},
			params: remediate.Params{"cluster": "prod", "service": "api", "step": "-1", "min": "2", "max": "4"},
			want:   actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true", skip: "service already at 2 tasks, the bound of [2, 4] for a step of -1"},
		},
		{
			name: "asg.scale within the group's own max", action: "asg.scale",
			clients: func() remediate.Clients { return remediate.Clients{AutoScaling: &fakeASG{group: asgGroup(4, 2, 5, 5)}} },
			params:  remediate.Params{"group": "web-asg", "step": "2", "min": "2", "max": "10"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:   `autoscaling:SetDesiredCapacity {"AutoScalingGroupName":"web-asg","DesiredCapacity":5,"HonorCooldown":true}`,
				result: remediate.Result{Summary: "desired capacity of web-asg set to 5"}, done: true,
				verified: "5 healthy instances in service, desired 5 (asked for 5)"},
		},
		{
			name: "codedeploy.rollback stops the active deployment with rollback", action: "codedeploy.rollback",
			clients: func() remediate.Clients {
				return remediate.Clients{CodeDeploy: &fakeCodeDeploy{
					active: []string{"d-ACTIVE"}, tags: map[string]string{"postdeploy:remediate": "true"},
					deployments: map[string]cdtypes.DeploymentInfo{
						"d-ACTIVE":   {Status: cdtypes.DeploymentStatusStopped, RollbackInfo: &cdtypes.RollbackInfo{RollbackDeploymentId: aws.String("d-ROLLBACK")}},
						"d-ROLLBACK": {Status: cdtypes.DeploymentStatusSucceeded},
					},
				}}
			},
			params: remediate.Params{"application": "shop", "deploymentGroup": "prod"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:   `codedeploy:StopDeployment {"AutoRollbackEnabled":true,"DeploymentId":"d-ACTIVE"}`,
				result: remediate.Result{Summary: "deployment d-ACTIVE stop: Pending Stopping", Ref: "d-ACTIVE"}, done: true,
				verified: "deployment d-ACTIVE Stopped; rollback deployment d-ROLLBACK Succeeded"},
			check: func(t *testing.T, c remediate.Clients) {
				if got, want := c.CodeDeploy.(*fakeCodeDeploy).tagARN, "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/prod"; got != want {
					t.Errorf("tags read from %q; want %q", got, want)
				}
			},
		},
		{
			name: "codedeploy.rollback with nothing in flight", action: "codedeploy.rollback",
			clients: func() remediate.Clients {
				return remediate.Clients{CodeDeploy: &fakeCodeDeploy{tags: map[string]string{"postdeploy:remediate": "true"}}}
			},
			params: remediate.Params{"application": "shop", "deploymentGroup": "prod"},
			want:   actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true", skip: "no deployment in progress in shop/prod to roll back"},
		},
		{
			name: "lambda.rollback-alias drops the canary", action: "lambda.rollback-alias",
			clients: func() remediate.Clients {
				return remediate.Clients{Lambda: &fakeLambda{alias: lambda.GetAliasOutput{FunctionVersion: aws.String("7"), RevisionId: aws.String("rev-1"),
					RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"8": 0.1}}}}}
			},
			params: remediate.Params{"function": "checkout", "alias": "live"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:   `lambda:UpdateAlias {"FunctionName":"checkout","FunctionVersion":"7","Name":"live","RevisionId":"rev-1"}`,
				result: remediate.Result{Summary: "alias live of checkout now serves version 7 only"}, done: true,
				verified: "alias live at version 7 with 0 canary version(s)"},
			check: func(t *testing.T, c remediate.Clients) {
				f := c.Lambda.(*fakeLambda)
				if u := f.updates[0]; u.RoutingConfig == nil || len(u.RoutingConfig.AdditionalVersionWeights) != 0 {
					t.Errorf("UpdateAlias routing = %+v; want an explicit empty weight map (drops the canary)", u.RoutingConfig)
				}
				if f.tagsOf != "arn:aws:lambda:us-east-1:123456789012:function:checkout" {
					t.Errorf("tags read from %q; want the function ARN", f.tagsOf)
				}
			},
		},
		{
			name: "lambda.rollback-alias goes back one version", action: "lambda.rollback-alias",
			clients: func() remediate.Clients {
				return remediate.Clients{Lambda: &fakeLambda{alias: lambda.GetAliasOutput{FunctionVersion: aws.String("7")}, versions: []string{"$LATEST", "3", "5", "7", "8"}}}
			},
			params: remediate.Params{"function": "checkout", "alias": "live"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:   `lambda:UpdateAlias {"FunctionName":"checkout","FunctionVersion":"5","Name":"live"}`,
				result: remediate.Result{Summary: "alias live of checkout now serves version 5 only"}, done: true,
				verified: "alias live at version 5 with 0 canary version(s)"},
		},
		{
			name: "lambda.rollback-alias with no earlier version", action: "lambda.rollback-alias",
			clients: func() remediate.Clients {
				return remediate.Clients{Lambda: &fakeLambda{alias: lambda.GetAliasOutput{FunctionVersion: aws.String("1")}, versions: []string{"$LATEST", "1"}}}
			},
			params: remediate.Params{"function": "checkout", "alias": "live"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				skip: "alias live of checkout is at version 1 with no canary and no earlier version to roll back to"},
		},
		{
			name: "ssm.runbook starts the automation and waits for Success", action: "ssm.runbook",
			clients: func() remediate.Clients {
				return remediate.Clients{SSM: &fakeSSM{status: ssmtypes.AutomationExecutionStatusSuccess}, EC2: &fakeEC2{instances: map[string]map[string]string{"i-0abc": {"postdeploy:remediate": "true"}}}}
			},
			params: remediate.Params{"document": "AWS-RestartEC2Instance", "instanceId": "i-0abc", "parameters.InstanceId": "i-0abc"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:   `ssm:StartAutomationExecution {"DocumentName":"AWS-RestartEC2Instance","Parameters":{"InstanceId":["i-0abc"]}}`,
				result: remediate.Result{Summary: "Automation execution exec-1 of AWS-RestartEC2Instance started", Ref: "exec-1"}, done: true,
				verified: "Automation execution exec-1 Success"},
		},
		{
			name: "ssm.runbook that fails ends verification", action: "ssm.runbook",
			clients: func() remediate.Clients {
				return remediate.Clients{SSM: &fakeSSM{status: ssmtypes.AutomationExecutionStatusFailed}, EC2: &fakeEC2{instances: map[string]map[string]string{"i-0abc": {"postdeploy:remediate": "true"}}}}
			},
			params: remediate.Params{"document": "AWS-RestartEC2Instance", "instanceId": "i-0abc"},
			want: actionRun{optedIn: true, observed: "tagged postdeploy:remediate=true",
				call:     `ssm:StartAutomationExecution {"DocumentName":"AWS-RestartEC2Instance"}`,
				result:   remediate.Result{Summary: "Automation execution exec-1 of AWS-RestartEC2Instance started", Ref: "exec-1"},
				verified: "Automation execution exec-1 Failed", err: remediate.ErrFailed},
		},
		{
			name: "notify escalates", action: "notify",
			clients: func() remediate.Clients { return remediate.Clients{Notify: &fakeNotifier{}} },
			params:  remediate.Params{"message": "Extend the volume."},
			want: actionRun{optedIn: true, observed: "notify changes no resource",
				call:   `sns:Publish {"Body":"Alarm prod-api-cpu-high is in ALARM.\n\nExtend the volume.","Kind":"escalation","Service":"prod-api-cpu-high","Severity":"HIGH","Subject":"ESCALATION: alarm prod-api-cpu-high needs a person"}`,
				result: remediate.Result{Summary: "sent to the escalation topic (message msg-1)", Ref: "msg-1"}},
			check: func(t *testing.T, c remediate.Clients) {
				if k := c.Notify.(*fakeNotifier).kinds(); len(k) != 1 || k[0] != notify.Escalation {
					t.Errorf("notifications = %v; want one on escalation", k)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.clients()
			a, err := remediate.NewAction(tt.action, c)
			if err != nil {
				t.Fatal(err)
			}
			got := runAction(t, a, alarm, tt.params)
			if !errors.Is(got.err, tt.want.err) || (got.err == nil) != (tt.want.err == nil) {
				t.Errorf("Verify error = %v; want %v", got.err, tt.want.err)
			}
			got.err, tt.want.err = nil, nil
			if got != tt.want {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.action, got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestScaleParamsAreChecked(t *testing.T) {
	a, _ := remediate.NewAction("ecs.scale", remediate.Clients{ECS: newFakeECS(map[string]map[string]string{"prod/api": nil})})
	_, _, err := a.Plan(context.Background(), remediate.Target{Type: "ecs-service", ID: "prod/api"}, remediate.Params{"cluster": "prod", "service": "api", "step": "two", "min": "1", "max": "3"})
	if err == nil || !strings.Contains(err.Error(), `params.step: "two" is not a whole number`) {
		t.Errorf("Plan with step %q = %v; want an error naming params.step", "two", err)
	}
}

func TestScaleBounds(t *testing.T) {
	a, _ := remediate.NewAction("asg.scale", remediate.Clients{})
	pc, ok := a.(remediate.ParamChecker)
	if !ok {
		t.Fatal("asg.scale does not check its parameters")
	}
	got := pc.CheckParams(remediate.Params{"group": "g", "step": "1", "min": "1", "max": "99999"})
	if want := "99999: must be within ±10000"; got["max"] != want {
		t.Errorf("CheckParams(max 99999) = %v; want max: %q", got, want)
	}
	if got := pc.CheckParams(remediate.Params{"group": "g", "step": "{{.Tags.step}}", "min": "1", "max": "3"}); got != nil {
		t.Errorf("CheckParams with a templated step = %v; want nil (checked when rendered)", got)
	}
}
