package standin

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-cmp/cmp"
)

func TestCloudWatchListTags(t *testing.T) {
	s := startServer(t, Scenario{Alarms: []Alarm{{Name: "a", Tags: map[string]string{"postdeploy:remediate": "allow"}}}})
	cw := cloudwatch.NewFromConfig(awsConfig(t, s))
	out, err := cw.ListTagsForResource(ctxT(t), &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmArn("a"))})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "postdeploy:remediate" || aws.ToString(out.Tags[0].Value) != "allow" {
		t.Errorf("ListTagsForResource(a) = %+v; want postdeploy:remediate=allow", out.Tags)
	}
	_, err = cw.ListTagsForResource(ctxT(t), &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmArn("nope"))})
	if !errors.As(err, new(*cwtypes.ResourceNotFoundException)) {
		t.Errorf("ListTagsForResource(nope) error = %v (%T); want *types.ResourceNotFoundException", err, err)
	}
}

func TestPipelineStructureAndHistory(t *testing.T) {
	s := startServer(t, Scenario{
		Pipelines: []Pipeline{{Name: "app", Stages: []PipelineStage{{Name: "Deploy", Actions: []PipelineAction{
			{Name: "Deploy", Category: "Deploy", Provider: "CodeDeploy", Configuration: map[string]string{"ApplicationName": "app", "DeploymentGroupName": "prod"}},
			{Name: "Verify", Category: "Invoke", Provider: "Lambda"},
		}}}}},
		PipelineExecutions: []PipelineExecution{
			{PipelineName: "app", ID: "e1", Status: "Succeeded"},
			{PipelineName: "app", ID: "e2", Status: "Failed", Actions: []ActionExecution{{StageName: "Deploy", ActionName: "Verify", Status: "Failed"}}},
			{PipelineName: "app", ID: "e3", Status: "Succeeded"},
			{PipelineName: "other", ID: "o1", Status: "Succeeded"},
		},
	})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	p, err := cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("app")})
	if err != nil {
		t.Fatalf("GetPipeline: %v", err)
	}
	a := p.Pipeline.Stages[0].Actions[0]
	if aws.ToString(a.ActionTypeId.Provider) != "CodeDeploy" || a.Configuration["DeploymentGroupName"] != "prod" {
		t.Errorf("GetPipeline first action = %+v; want CodeDeploy with DeploymentGroupName prod", a)
	}
	ls, err := cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("app"),
		Filter: &cptypes.PipelineExecutionFilter{SucceededInStage: &cptypes.SucceededInStageFilter{StageName: aws.String("Deploy")}}})
	if err != nil {
		t.Fatalf("ListPipelineExecutions: %v", err)
	}
	var ids []string
	for _, e := range ls.PipelineExecutionSummaries {
		ids = append(ids, aws.ToString(e.PipelineExecutionId))
	}
	if diff := cmp.Diff([]string{"e3", "e1"}, ids); diff != "" {
		t.Errorf("executions that succeeded in Deploy, newest first, mismatch (-want +got):\n%s", diff)
	}
	if _, err := cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("nope")}); !errors.As(err, new(*cptypes.PipelineNotFoundException)) {
		t.Errorf("GetPipeline(nope) error = %v; want *types.PipelineNotFoundException", err)
	}
}

func TestCodeDeployRollbackFlow(t *testing.T) {
	now := testNow
	s, err := New(Scenario{
		SettleAfter:      Duration{time.Minute},
		DeploymentGroups: []DeploymentGroup{{ApplicationName: "app", Name: "prod", Alarms: []string{"prod-5xx"}, Tags: map[string]string{"postdeploy:remediate": "allow"}}},
		Deployments:      []Deployment{{ID: "d-1", ApplicationName: "app", GroupName: "prod"}, {ID: "d-0", ApplicationName: "app", GroupName: "prod", Status: "Succeeded"}},
	}, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := codedeploy.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)

	g, err := c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("prod")})
	if err != nil {
		t.Fatalf("GetDeploymentGroup: %v", err)
	}
	if ac := g.DeploymentGroupInfo.AlarmConfiguration; !ac.Enabled || len(ac.Alarms) != 1 || aws.ToString(ac.Alarms[0].Name) != "prod-5xx" {
		t.Errorf("GetDeploymentGroup alarms = %+v; want enabled with prod-5xx", ac)
	}
	tags, err := c.ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String(groupArn("app", "prod"))})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("ListTagsForResource(group) = %+v, %v; want one tag", tags, err)
	}
	active := []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusCreated}
	ls, err := c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("prod"), IncludeOnlyStatuses: active})
	if err != nil {
		t.Fatalf("ListDeployments: %v", err)
	}
	if diff := cmp.Diff([]string{"d-1"}, ls.Deployments); diff != "" {
		t.Errorf("active deployments mismatch (-want +got):\n%s", diff)
	}
	if _, err := c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-1"), AutoRollbackEnabled: aws.Bool(true)}); err != nil {
		t.Fatalf("StopDeployment: %v", err)
	}
	d, err := c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-1")})
	if err != nil {
		t.Fatalf("GetDeployment(d-1): %v", err)
	}
	rb := aws.ToString(d.DeploymentInfo.RollbackInfo.RollbackDeploymentId)
	if d.DeploymentInfo.Status != cdtypes.DeploymentStatusStopped || rb == "" {
		t.Fatalf("stopped deployment = %s, rollback %q; want Stopped with a rollback deployment", d.DeploymentInfo.Status, rb)
	}
	status := func() cdtypes.DeploymentStatus {
		out, err := c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(rb)})
		if err != nil {
			t.Fatalf("GetDeployment(rollback): %v", err)
		}
		return out.DeploymentInfo.Status
	}
	if got := status(); got != cdtypes.DeploymentStatusInProgress {
		t.Errorf("rollback right after the stop = %s; want InProgress", got)
	}
	now = now.Add(2 * time.Minute)
	if got := status(); got != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("rollback after SettleAfter = %s; want Succeeded", got)
	}
}

func TestDescribeInstanceStatus(t *testing.T) {
	s := startServer(t, Scenario{Instances: []Instance{{ID: "i-1"}, {ID: "i-2", State: "stopped"}}})
	c := ec2.NewFromConfig(awsConfig(t, s))
	out, err := c.DescribeInstanceStatus(ctxT(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-1", "i-2"}, IncludeAllInstances: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	if len(out.InstanceStatuses) != 2 {
		t.Fatalf("DescribeInstanceStatus(all) = %d statuses; want 2", len(out.InstanceStatuses))
	}
	st := out.InstanceStatuses[0]
	if st.InstanceState.Name != ec2types.InstanceStateNameRunning || st.InstanceStatus.Status != ec2types.SummaryStatusOk || st.SystemStatus.Status != ec2types.SummaryStatusOk {
		t.Errorf("i-1 status = %s %s %s; want running ok ok", st.InstanceState.Name, st.InstanceStatus.Status, st.SystemStatus.Status)
	}
	if out.InstanceStatuses[1].InstanceState.Name != ec2types.InstanceStateNameStopped {
		t.Errorf("i-2 state = %s; want stopped", out.InstanceStatuses[1].InstanceState.Name)
	}
}

func TestLambdaTagsAndVersions(t *testing.T) {
	s := startServer(t, Scenario{
		LambdaFunctions: []LambdaFunction{{Name: "api", Versions: []string{"6"}, Tags: map[string]string{"postdeploy:remediate": "allow"}}},
		LambdaAliases:   []LambdaAlias{{Function: "api", Name: "live", Version: "7", AdditionalWeights: map[string]float64{"8": 0.1}}},
	})
	c := lambda.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(lambdaFunctionArn("api"))})
	if err != nil {
		t.Fatalf("ListTags: %v", err)
	}
	if tags.Tags["postdeploy:remediate"] != "allow" {
		t.Errorf("ListTags(api) = %v; want postdeploy:remediate=allow", tags.Tags)
	}
	vs, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("api")})
	if err != nil {
		t.Fatalf("ListVersionsByFunction: %v", err)
	}
	var got []string
	for _, v := range vs.Versions {
		got = append(got, aws.ToString(v.Version))
	}
	if diff := cmp.Diff([]string{"$LATEST", "6", "7", "8"}, got); diff != "" {
		t.Errorf("versions (seeded plus the alias's) mismatch (-want +got):\n%s", diff)
	}
}

func TestSSMAutomationStatus(t *testing.T) {
	now := testNow
	s, err := New(Scenario{SettleAfter: Duration{time.Minute}}, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := ssm.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("AWS-RestartEC2Instance")})
	if err != nil {
		t.Fatalf("StartAutomationExecution: %v", err)
	}
	status := func() string {
		out, err := c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: start.AutomationExecutionId})
		if err != nil {
			t.Fatalf("GetAutomationExecution: %v", err)
		}
		return string(out.AutomationExecution.AutomationExecutionStatus)
	}
	if got := status(); got != "InProgress" {
		t.Errorf("status right after start = %s; want InProgress", got)
	}
	now = now.Add(time.Minute)
	if got := status(); got != "Success" {
		t.Errorf("status after SettleAfter = %s; want Success", got)
	}
	s.SetAutomationStatus(aws.ToString(start.AutomationExecutionId), "Failed")
	if got := status(); got != "Failed" {
		t.Errorf("status after SetAutomationStatus(Failed) = %s; want Failed", got)
	}
}

func TestTagLookupsAcceptAnyAccount(t *testing.T) {
	s := startServer(t, Scenario{
		Alarms:           []Alarm{{Name: "a", Tags: map[string]string{"k": "v"}}},
		DeploymentGroups: []DeploymentGroup{{ApplicationName: "app", Name: "prod", Tags: map[string]string{"k": "v"}}},
	})
	cfg := awsConfig(t, s)
	ctx := ctxT(t)
	cwOut, err := cloudwatch.NewFromConfig(cfg).ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a")})
	if err != nil || len(cwOut.Tags) != 1 {
		t.Errorf("CloudWatch ListTagsForResource(other account's ARN) = %v, %v; want the alarm's tag", cwOut, err)
	}
	cdOut, err := codedeploy.NewFromConfig(cfg).ListTagsForResource(ctx, &codedeploy.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:app/prod")})
	if err != nil || len(cdOut.Tags) != 1 {
		t.Errorf("CodeDeploy ListTagsForResource(other account's ARN) = %v, %v; want the group's tag", cdOut, err)
	}
}
