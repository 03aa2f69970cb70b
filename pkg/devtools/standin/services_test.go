package standin

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestSNSPublish(t *testing.T) {
	s := startServer(t, Scenario{})
	c := sns.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	topic := "arn:aws:sns:us-east-1:123456789012:postdeploy-alerts"
	out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Subject: aws.String("Deployment failed"),
		Message: aws.String("api-health: status 503; expected 200"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity": {DataType: aws.String("String"), StringValue: aws.String("high")},
			"team":     {DataType: aws.String("String"), StringValue: aws.String("payments")},
		}})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	want := []Published{{MessageID: aws.ToString(out.MessageId), TopicARN: topic, Subject: "Deployment failed",
		Message: "api-health: status 503; expected 200", Attributes: map[string]string{"severity": "high", "team": "payments"}, Time: testNow}}
	if diff := cmp.Diff(want, s.Published()); diff != "" {
		t.Errorf("Published() mismatch (-want +got):\n%s", diff)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("")})
	if !errors.As(err, new(*snstypes.InvalidParameterException)) {
		t.Errorf("Publish(empty message) error = %v; want *types.InvalidParameterException", err)
	}
	if calls := s.CallsTo(SNS, "Publish"); len(calls) != 2 || calls[0].Protocol != ProtoQuery || calls[0].Input["Subject"] != "Deployment failed" {
		t.Errorf("recorded Publish calls = %+v; want 2 awsQuery calls", calls)
	}
}

func ecsScenario() Scenario {
	return Scenario{ECSServices: []ECSService{{Cluster: "prod", Name: "api", DesiredCount: 3, RunningCount: 1,
		Tags: map[string]string{"postdeploy:remediate": "allow", "team": "payments"}}},
		SettleAfter: Duration{time.Minute}}
}

func TestECSDescribeAndUpdate(t *testing.T) {
	now := testNow
	s, err := New(ecsScenario(), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := ecs.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)

	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api", "ghost"},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		t.Fatalf("DescribeServices: %v", err)
	}
	if len(out.Services) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("DescribeServices(api, ghost) = %d services, failures %+v; want 1 and ghost MISSING", len(out.Services), out.Failures)
	}
	svc := out.Services[0]
	if svc.DesiredCount != 3 || svc.RunningCount != 1 || len(svc.Tags) != 2 || aws.ToString(svc.Tags[0].Key) != "postdeploy:remediate" {
		t.Errorf("DescribeServices(api) = desired %d running %d tags %+v; want 3, 1, two tags", svc.DesiredCount, svc.RunningCount, svc.Tags)
	}

	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), ForceNewDeployment: true})
	if err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if d := up.Service.Deployments; len(d) != 2 || aws.ToString(d[0].Status) != "PRIMARY" || d[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Errorf("after forceNewDeployment, deployments = %+v; want a new PRIMARY IN_PROGRESS over the old one", d)
	}
	now = testNow.Add(2 * time.Minute) // past SettleAfter
	out, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	if err != nil {
		t.Fatalf("DescribeServices after settle: %v", err)
	}
	svc = out.Services[0]
	if len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || svc.RunningCount != 3 {
		t.Errorf("after settling, running %d deployments %+v; want running 3 and one COMPLETED deployment", svc.RunningCount, svc.Deployments)
	}

	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatalf("UpdateService(desired 5): %v", err)
	}
	if got, _ := s.ECSService("prod", "api"); got.DesiredCount != 5 {
		t.Errorf("ECSService(prod, api).DesiredCount = %d; want 5", got.DesiredCount)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("ghost")})
	if !errors.As(err, new(*ecstypes.ServiceNotFoundException)) {
		t.Errorf("UpdateService(ghost) error = %v; want *types.ServiceNotFoundException", err)
	}
}

func TestEC2(t *testing.T) {
	s := startServer(t, Scenario{Instances: []Instance{
		{ID: "i-0001", Tags: map[string]string{"Name": "api-1", "postdeploy:remediate": "allow"}},
		{ID: "i-0002", State: "stopped", Tags: map[string]string{"Name": "api-2"}},
	}})
	c := ec2.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0001"}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances(i-0001) = %+v; want one instance", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != "i-0001" || in.State.Name != ec2types.InstanceStateNameRunning || len(in.Tags) != 2 {
		t.Errorf("DescribeInstances(i-0001) = %s %s tags %+v; want running with 2 tags", aws.ToString(in.InstanceId), in.State.Name, in.Tags)
	}
	out, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:postdeploy:remediate"), Values: []string{"allow"}}}})
	if err != nil {
		t.Fatalf("DescribeInstances(filter): %v", err)
	}
	if len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != "i-0001" {
		t.Errorf("DescribeInstances(tag filter) = %+v; want only i-0001", out.Reservations)
	}
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-0001"}}); err != nil {
		t.Fatalf("RebootInstances: %v", err)
	}
	if n := s.Reboots("i-0001"); n != 1 {
		t.Errorf("Reboots(i-0001) = %d; want 1", n)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-nope"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstanceID.NotFound" {
		t.Errorf("RebootInstances(i-nope) error = %v; want InvalidInstanceID.NotFound", err)
	}
	if calls := s.CallsTo(EC2, "RebootInstances"); len(calls) != 2 || calls[0].Protocol != ProtoEC2Query {
		t.Errorf("recorded RebootInstances = %+v; want 2 ec2Query calls", calls)
	}
}

func TestAutoScaling(t *testing.T) {
	s := startServer(t, Scenario{AutoScalingGroups: []AutoScalingGroup{{Name: "web", Min: 1, Max: 4, Desired: 2,
		Instances: []string{"i-1", "i-2"}, Tags: map[string]string{"team": "web"}}}})
	c := autoscaling.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	out, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil {
		t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups(web) = %d groups; want 1", len(out.AutoScalingGroups))
	}
	g := out.AutoScalingGroups[0]
	if aws.ToInt32(g.DesiredCapacity) != 2 || aws.ToInt32(g.MaxSize) != 4 || len(g.Instances) != 2 || len(g.Tags) != 1 {
		t.Errorf("group web = desired %d max %d instances %d tags %d; want 2, 4, 2, 1", aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize), len(g.Instances), len(g.Tags))
	}
	if _, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(4)}); err != nil {
		t.Fatalf("SetDesiredCapacity(4): %v", err)
	}
	if got, _ := s.AutoScalingGroup("web"); got.Desired != 4 {
		t.Errorf("AutoScalingGroup(web).Desired = %d; want 4", got.Desired)
	}
	_, err = c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(9)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("SetDesiredCapacity(9 > max) error = %v; want ValidationError", err)
	}
}

func TestCodeDeploy(t *testing.T) {
	s := startServer(t, Scenario{Deployments: []Deployment{{ID: "d-ABC", ApplicationName: "app", GroupName: "prod"}}})
	c := codedeploy.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	if _, err := c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-ABC"), AutoRollbackEnabled: aws.Bool(true)}); err != nil {
		t.Fatalf("StopDeployment: %v", err)
	}
	out, err := c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-ABC")})
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if out.DeploymentInfo.Status != cdtypes.DeploymentStatusStopped || out.DeploymentInfo.RollbackInfo == nil {
		t.Errorf("after StopDeployment(autoRollback), deployment = %s rollback %+v; want Stopped with rollback info", out.DeploymentInfo.Status, out.DeploymentInfo.RollbackInfo)
	}
	_, err = c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-ABC")})
	if !errors.As(err, new(*cdtypes.DeploymentAlreadyCompletedException)) {
		t.Errorf("second StopDeployment error = %v; want *types.DeploymentAlreadyCompletedException", err)
	}
	_, err = c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-NOPE")})
	if !errors.As(err, new(*cdtypes.DeploymentDoesNotExistException)) {
		t.Errorf("GetDeployment(d-NOPE) error = %v; want *types.DeploymentDoesNotExistException", err)
	}
}

func TestLambdaAlias(t *testing.T) {
	s := startServer(t, Scenario{LambdaAliases: []LambdaAlias{{Function: "api", Name: "live", Version: "7",
		AdditionalWeights: map[string]float64{"8": 0.1}}}})
	c := lambda.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	out, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("api"), Name: aws.String("live")})
	if err != nil {
		t.Fatalf("GetAlias: %v", err)
	}
	if aws.ToString(out.FunctionVersion) != "7" || out.RoutingConfig == nil || out.RoutingConfig.AdditionalVersionWeights["8"] != 0.1 {
		t.Errorf("GetAlias(api:live) = version %s routing %+v; want 7 with 10%% on 8", aws.ToString(out.FunctionVersion), out.RoutingConfig)
	}
	// Roll back: all traffic on 7.
	up, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"),
		FunctionVersion: aws.String("7"), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	if err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	if up.RoutingConfig != nil && len(up.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Errorf("UpdateAlias(empty routing) kept routing %+v", up.RoutingConfig.AdditionalVersionWeights)
	}
	if got, _ := s.LambdaAlias("api", "live"); len(got.AdditionalWeights) != 0 || got.Version != "7" {
		t.Errorf("LambdaAlias(api, live) = %+v; want version 7, no extra weights", got)
	}
	_, err = c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("api"), Name: aws.String("nope")})
	if !errors.As(err, new(*lambdatypes.ResourceNotFoundException)) {
		t.Errorf("GetAlias(nope) error = %v; want *types.ResourceNotFoundException", err)
	}
}

func TestECRScanFindings(t *testing.T) {
	s := startServer(t, Scenario{ImageScans: []ImageScan{{Repository: "app", Digest: "sha256:abc", Tag: "v1", Findings: []ImageFinding{
		{Name: "CVE-2026-0001", Severity: "HIGH", Package: "openssl", Version: "3.0.1"},
		{Name: "CVE-2026-0002", Severity: "LOW"},
	}}}})
	c := ecr.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	out, err := c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("app"),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String("sha256:abc")}})
	if err != nil {
		t.Fatalf("DescribeImageScanFindings: %v", err)
	}
	f := out.ImageScanFindings
	if out.ImageScanStatus.Status != ecrtypes.ScanStatusComplete || len(f.Findings) != 2 || f.FindingSeverityCounts["HIGH"] != 1 {
		t.Errorf("scan = %s, %d findings, counts %v; want COMPLETE, 2, HIGH:1", out.ImageScanStatus.Status, len(f.Findings), f.FindingSeverityCounts)
	}
	if f.Findings[0].Severity != ecrtypes.FindingSeverityHigh || len(f.Findings[0].Attributes) != 2 {
		t.Errorf("first finding = %+v; want HIGH with package attributes", f.Findings[0])
	}
	_, err = c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("app"),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String("sha256:zzz")}})
	if !errors.As(err, new(*ecrtypes.ScanNotFoundException)) {
		t.Errorf("DescribeImageScanFindings(unknown digest) error = %v; want *types.ScanNotFoundException", err)
	}
}

func TestInspectorListFindings(t *testing.T) {
	var findings []InspectorFinding
	for _, sev := range []string{"CRITICAL", "HIGH", "HIGH", "LOW"} {
		findings = append(findings, InspectorFinding{Title: "CVE in " + sev, Severity: sev, Repository: "app", Digest: "sha256:abc", VulnerabilityID: "CVE-1"})
	}
	findings = append(findings, InspectorFinding{Title: "other repo", Severity: "HIGH", Repository: "other", Digest: "sha256:def"})
	s := startServer(t, Scenario{InspectorFindings: findings})
	c := inspector2.NewFromConfig(awsConfig(t, s))
	var got []string
	p := inspector2.NewListFindingsPaginator(c, &inspector2.ListFindingsInput{MaxResults: aws.Int32(2),
		FilterCriteria: &i2types.FilterCriteria{EcrImageRepositoryName: []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String("app")}}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatalf("ListFindings: %v", err)
		}
		for _, f := range out.Findings {
			got = append(got, string(f.Severity))
			if f.Resources[0].Details == nil || aws.ToString(f.Resources[0].Details.AwsEcrContainerImage.ImageHash) != "sha256:abc" {
				t.Errorf("finding %s resource = %+v; want the ECR image sha256:abc", aws.ToString(f.Title), f.Resources[0])
			}
		}
	}
	if diff := cmp.Diff([]string{"CRITICAL", "HIGH", "HIGH", "LOW"}, got); diff != "" {
		t.Errorf("ListFindings(repo app) severities mismatch (-want +got):\n%s", diff)
	}
}

func TestMutators(t *testing.T) {
	s := startServer(t, Scenario{Instances: []Instance{{ID: "i-1"}}})
	cfg := awsConfig(t, s)
	ctx := ctxT(t)

	s.SetDeploymentStatus("d-1", "Succeeded")
	_, err := codedeploy.NewFromConfig(cfg).StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-1")})
	if !errors.As(err, new(*cdtypes.DeploymentAlreadyCompletedException)) {
		t.Errorf("StopDeployment after SetDeploymentStatus(Succeeded) error = %v; want DeploymentAlreadyCompletedException", err)
	}

	s.AddImageScan(ImageScan{Repository: "r", Digest: "sha256:1", Findings: []ImageFinding{{Name: "CVE-1", Severity: "CRITICAL"}}})
	out, err := ecr.NewFromConfig(cfg).DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("r"),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String("sha256:1")}})
	if err != nil || out.ImageScanFindings.FindingSeverityCounts["CRITICAL"] != 1 {
		t.Errorf("DescribeImageScanFindings after AddImageScan = %v, %v; want one CRITICAL", out, err)
	}

	s.AddInspectorFinding(InspectorFinding{Title: "t", Severity: "HIGH", Repository: "r", Digest: "sha256:1"})
	lf, err := inspector2.NewFromConfig(cfg).ListFindings(ctx, &inspector2.ListFindingsInput{})
	if err != nil || len(lf.Findings) != 1 || lf.Findings[0].Status != i2types.FindingStatusActive {
		t.Errorf("ListFindings after AddInspectorFinding = %v, %v; want one ACTIVE finding", lf, err)
	}

	if err := s.SetInstanceState("i-1", "stopped"); err != nil {
		t.Fatalf("SetInstanceState: %v", err)
	}
	if err := s.SetInstanceState("i-1", "asleep"); err == nil {
		t.Error("SetInstanceState(asleep) = nil; want an error")
	}
	di, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	if err != nil || len(di.Reservations) != 0 {
		t.Errorf("DescribeInstances(running) after stopping i-1 = %v, %v; want none", di, err)
	}
}
