package standin

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func hookServer(t *testing.T) *Server {
	t.Helper()
	s := startServer(t, Scenario{LambdaFunctions: []LambdaFunction{{Name: "verify"}}})
	s.AddHookDeployment(HookDeployment{ID: "d-HOOKTEST1", ApplicationName: "orders", GroupName: "orders-bg", ComputePlatform: "ECS", AutoRollback: true,
		TestListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/orders/1/test", GreenTaskSet: "ecs-svc/2", GreenTargetGroup: "orders-green",
		Events: []HookLifecycleEvent{
			{Name: "BeforeInstall", Status: "Succeeded"},
			{Name: "AfterAllowTestTraffic", Status: "InProgress", Started: testNow.Add(-time.Minute), HookExecutionID: "exec-1"},
		}})
	return s
}

// The CodeDeploy API Reference, PutLifecycleEventHookExecutionStatus:
// only Succeeded or Failed, for a hook execution of the deployment, once
// (a second status is LifecycleEventAlreadyCompletedException).
func TestStandinPutLifecycleEventHookExecutionStatusIsStrict(t *testing.T) {
	s := hookServer(t)
	cd := codedeploy.NewFromConfig(awsConfig(t, s))
	put := func(dep, exec string, st cdtypes.LifecycleEventStatus) error {
		_, err := cd.PutLifecycleEventHookExecutionStatus(ctxT(t), &codedeploy.PutLifecycleEventHookExecutionStatusInput{DeploymentId: aws.String(dep), LifecycleEventHookExecutionId: aws.String(exec), Status: st})
		return err
	}
	for _, tc := range []struct {
		name, dep, exec string
		status          cdtypes.LifecycleEventStatus
		want            any
	}{
		{"no deployment", "d-NOSUCH000", "exec-1", cdtypes.LifecycleEventStatusFailed, &cdtypes.DeploymentDoesNotExistException{}},
		{"status other than Succeeded or Failed", "d-HOOKTEST1", "exec-1", cdtypes.LifecycleEventStatusSkipped, &cdtypes.InvalidLifecycleEventHookExecutionStatusException{}},
		{"unknown hook execution", "d-HOOKTEST1", "exec-9", cdtypes.LifecycleEventStatusFailed, &cdtypes.InvalidLifecycleEventHookExecutionIdException{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := put(tc.dep, tc.exec, tc.status)
			if !errorsAsType(err, tc.want) {
				t.Errorf("Put(%s, %s, %s) = %v; want %T", tc.dep, tc.exec, tc.status, err, tc.want)
			}
		})
	}
	if err := put("d-HOOKTEST1", "exec-1", cdtypes.LifecycleEventStatusFailed); err != nil {
		t.Fatalf("first status: %v", err)
	}
	var done *cdtypes.LifecycleEventAlreadyCompletedException
	if err := put("d-HOOKTEST1", "exec-1", cdtypes.LifecycleEventStatusSucceeded); !errors.As(err, &done) {
		t.Errorf("second status = %v; want LifecycleEventAlreadyCompletedException", err)
	}
	if got := s.HookStatuses(); len(got) != 1 || got[0].Status != "Failed" {
		t.Errorf("HookStatuses = %+v; want one Failed", got)
	}
	d, err := cd.GetDeployment(ctxT(t), &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-HOOKTEST1")})
	if err != nil || d.DeploymentInfo.Status != cdtypes.DeploymentStatusFailed {
		t.Errorf("deployment after a Failed hook = %v, %v; want Failed", d, err)
	}
}

func errorsAsType(err error, target any) bool {
	switch target.(type) {
	case *cdtypes.DeploymentDoesNotExistException:
		var e *cdtypes.DeploymentDoesNotExistException
		return errors.As(err, &e)
	case *cdtypes.InvalidLifecycleEventHookExecutionStatusException:
		var e *cdtypes.InvalidLifecycleEventHookExecutionStatusException
		return errors.As(err, &e)
	case *cdtypes.InvalidLifecycleEventHookExecutionIdException:
		var e *cdtypes.InvalidLifecycleEventHookExecutionIdException
		return errors.As(err, &e)
	}
	return false
}

// GetDeployment, ListDeploymentTargets and GetDeploymentTarget decode
// with the SDK into what a hook handler reads: compute platform, test
// listener, the running lifecycle event and its start, the green task set.
func TestStandinDeploymentTargetsThroughTheSDK(t *testing.T) {
	s := hookServer(t)
	cd := codedeploy.NewFromConfig(awsConfig(t, s))
	d, err := cd.GetDeployment(ctxT(t), &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-HOOKTEST1")})
	if err != nil {
		t.Fatal(err)
	}
	info := d.DeploymentInfo
	if info.ComputePlatform != cdtypes.ComputePlatformEcs || info.LoadBalancerInfo == nil || info.LoadBalancerInfo.TargetGroupPairInfoList[0].TestTrafficRoute.ListenerArns[0] == "" || !info.AutoRollbackConfiguration.Enabled {
		t.Errorf("GetDeployment = %+v; want ECS with a test listener and auto-rollback", info)
	}
	lt, err := cd.ListDeploymentTargets(ctxT(t), &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String("d-HOOKTEST1")})
	if err != nil || len(lt.TargetIds) != 1 {
		t.Fatalf("ListDeploymentTargets = %v, %v; want one target", lt, err)
	}
	gt, err := cd.GetDeploymentTarget(ctxT(t), &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String("d-HOOKTEST1"), TargetId: aws.String(lt.TargetIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	ecs := gt.DeploymentTarget.EcsTarget
	if ecs == nil || len(ecs.LifecycleEvents) != 2 || ecs.LifecycleEvents[1].Status != cdtypes.LifecycleEventStatusInProgress || !aws.ToTime(ecs.LifecycleEvents[1].StartTime).Equal(testNow.Add(-time.Minute)) {
		t.Fatalf("GetDeploymentTarget = %+v; want the AfterAllowTestTraffic event in progress since a minute", ecs)
	}
	if len(ecs.TaskSetsInfo) != 1 || ecs.TaskSetsInfo[0].TaskSetLabel != cdtypes.TargetLabelGreen || aws.ToString(ecs.TaskSetsInfo[0].Identifer) != "ecs-svc/2" { //nolint:misspell // the SDK spells it so
		t.Errorf("taskSetsInfo = %+v; want the green task set", ecs.TaskSetsInfo)
	}
	var nf *cdtypes.DeploymentTargetDoesNotExistException
	if _, err := cd.GetDeploymentTarget(ctxT(t), &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String("d-HOOKTEST1"), TargetId: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown target = %v; want DeploymentTargetDoesNotExistException", err)
	}
}

// Lambda Invoke (API Reference, Invoke): Event answers 202 and queues
// the payload for the harness; the stand-in refuses a synchronous
// invocation it cannot run, and an unknown function.
func TestStandinLambdaInvokeQueuesAsyncPayloads(t *testing.T) {
	s := hookServer(t)
	lc := lambda.NewFromConfig(awsConfig(t, s))
	out, err := lc.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:verify"), InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(`{"x":1}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Invoke(Event) = %v, %v; want 202", out, err)
	}
	got := s.TakeInvocations()
	if len(got) != 1 || got[0].Function != "verify" || string(got[0].Payload) != `{"x":1}` {
		t.Errorf("TakeInvocations = %+v; want the one payload for verify", got)
	}
	if again := s.TakeInvocations(); len(again) != 0 {
		t.Errorf("TakeInvocations again = %+v; want none", again)
	}
	var bad *lambdatypes.InvalidParameterValueException
	if _, err := lc.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String("verify"), Payload: []byte(`{}`)}); !errors.As(err, &bad) {
		t.Errorf("Invoke(RequestResponse) = %v; want InvalidParameterValueException", err)
	}
	var nf *lambdatypes.ResourceNotFoundException
	if _, err := lc.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String("nope"), InvocationType: lambdatypes.InvocationTypeEvent}); !errors.As(err, &nf) {
		t.Errorf("Invoke(unknown function) = %v; want ResourceNotFoundException", err)
	}
}
