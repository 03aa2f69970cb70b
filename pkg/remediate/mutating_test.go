package remediate_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// errorAnswer writes an AWS error in the request's protocol: awsJson /
// restJson (ECS, CodeDeploy, SSM, Lambda), awsQuery (Auto Scaling) and
// ec2Query (EC2).
func errorAnswer(w http.ResponseWriter, r *http.Request, status int, code string) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		if strings.Contains(string(body), "Version=2016-11-15") { // EC2
			fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>injected</Message></Error></Errors><RequestID>r-1</RequestID></Response>`, code)
			return
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>injected</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":"injected"}`, code)
}

// fakeAWS answers every request with answer, counting them.
func fakeAWS(t *testing.T, answer func(n int32, w http.ResponseWriter, r *http.Request)) (aws.Config, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(calls.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, &calls
}

// mutatingCalls is one planned call of each action that changes
// something, as its Plan builds it.
var mutatingCalls = []struct {
	action string
	call   remediate.Call
}{
	{"ecs.redeploy", remediate.Call{API: "ecs:UpdateService", Input: &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), ForceNewDeployment: true}}},
	{"ecs.scale", remediate.Call{API: "ecs:UpdateService", Input: &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), DesiredCount: aws.Int32(4)}}},
	{"ec2.reboot", remediate.Call{API: "ec2:RebootInstances", Input: &ec2.RebootInstancesInput{InstanceIds: []string{"i-0abc"}}}},
	{"asg.scale", remediate.Call{API: "autoscaling:SetDesiredCapacity", Input: &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web-asg"), DesiredCapacity: aws.Int32(5)}}},
	{"codedeploy.rollback", remediate.Call{API: "codedeploy:StopDeployment", Input: &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-ACTIVE"), AutoRollbackEnabled: aws.Bool(true)}}},
	{"lambda.rollback-alias", remediate.Call{API: "lambda:UpdateAlias", Input: &lambda.UpdateAliasInput{FunctionName: aws.String("checkout"), Name: aws.String("live"), FunctionVersion: aws.String("5")}}},
	{"ssm.runbook", remediate.Call{API: "ssm:StartAutomationExecution", Input: &ssm.StartAutomationExecutionInput{DocumentName: aws.String("AWS-RestartEC2Instance")}}},
}

// Every action's mutating call, through the SDK clients NewClients builds,
// reaches the service once when the answer is a 5xx: "InternalFailure —
// The request processing has failed" (every API reference's Common
// Errors) may come after the service acted, so the SDK's standard retry
// (three attempts) would act up to three times.
func TestMutatingCallsAreSentOnce(t *testing.T) {
	for _, tc := range mutatingCalls {
		for _, answer := range []struct {
			status int
			code   string
		}{{500, "InternalFailure"}, {503, "ServiceUnavailable"}} {
			t.Run(fmt.Sprintf("%s %d", tc.action, answer.status), func(t *testing.T) {
				cfg, calls := fakeAWS(t, func(_ int32, w http.ResponseWriter, r *http.Request) { errorAnswer(w, r, answer.status, answer.code) })
				a, err := remediate.NewAction(tc.action, remediate.NewClients(cfg, nil))
				if err != nil {
					t.Fatal(err)
				}
				_, err = a.Do(context.Background(), tc.call)
				if err == nil {
					t.Fatalf("%s Do(%s) error = nil; want the %d", tc.action, tc.call.API, answer.status)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("%s Do(%s) answered %d %s reached the service %d times (%v); want exactly 1", tc.action, tc.call.API, answer.status, answer.code, n, err)
				}
			})
		}
	}
}

// A throttled mutating call was refused, not processed ("The request was
// denied due to request throttling"): it is retried, and the retry lands.
func TestThrottledMutatingCallIsRetried(t *testing.T) {
	cfg, calls := fakeAWS(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			errorAnswer(w, r, 400, "ThrottlingException")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"AutomationExecutionId":"exec-1"}`))
	})
	a, err := remediate.NewAction("ssm.runbook", remediate.NewClients(cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Do(context.Background(), mutatingCalls[len(mutatingCalls)-1].call)
	if err != nil || res.Ref != "exec-1" || calls.Load() != 2 {
		t.Errorf("StartAutomationExecution throttled once = %+v, %v after %d requests; want exec-1 after 2", res, err, calls.Load())
	}
}

// uuidForm is StartAutomationExecution's ClientToken constraint (a UUID:
// 8-4-4-4-12 hex), here with the version 8 and RFC 9562 variant bits the
// engine sets.
var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// ssm.runbook's StartAutomationExecution carries a ClientToken derived
// from the decision: the same state change gives the same token in
// another invocation (so SSM sees one request), another state change
// another token; the audited call shows it.
func TestRunbookClientTokenPerDecision(t *testing.T) {
	const policy = `
optInTag: {key: "postdeploy:remediate", value: "true"}
defaults: {verifyTimeout: 30s, verifyInterval: 15s, cooldown: 1s}
rules:
  - name: restart
    match: {namespace: AWS/EC2, dimensions: {InstanceId: "i-*"}}
    action: ssm.runbook
    params: {document: AWS-RestartEC2Instance, instanceId: "{{.Dimensions.InstanceId}}", parameters.InstanceId: "{{.Dimensions.InstanceId}}"}
`
	ec2Alarm := func(at time.Time) remediate.Alarm {
		dims := map[string]string{"InstanceId": "i-0a1b2c3d4e5f67890"}
		return remediate.Alarm{Name: "prod-worker-cpu", ARN: alarmARN("prod-worker-cpu"), AccountID: acct, Region: "us-east-1", NewState: "ALARM", Timestamp: at,
			Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: dims, Metrics: []remediate.Metric{{Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: dims}}}
	}
	run := func(alarms ...remediate.Alarm) ([]string, []map[string]string) {
		r := newRig(t, policy)
		s := &fakeSSM{status: ssmtypes.AutomationExecutionStatusSuccess}
		r.e.Actions = remediate.Actions(remediate.Clients{SSM: s, EC2: r.ec2, Notify: r.n})
		for _, a := range alarms {
			r.handle(t, a)
			r.clk.Add(time.Minute)
		}
		var tokens []string
		for _, in := range s.starts {
			tokens = append(tokens, aws.ToString(in.ClientToken))
		}
		return tokens, r.trail(t, alarms[0])
	}
	first, trail := run(ec2Alarm(start), ec2Alarm(start.Add(10*time.Minute)))
	if len(first) != 2 || first[0] == first[1] {
		t.Fatalf("ClientTokens of two state changes = %q; want two different tokens", first)
	}
	for _, tok := range first {
		if !uuidForm.MatchString(tok) {
			t.Errorf("ClientToken %q is not in UUID form", tok)
		}
	}
	if !strings.Contains(trail[0]["call"], `"ClientToken":"`+first[0]+`"`) {
		t.Errorf("audited call = %q; want it to carry ClientToken %s", trail[0]["call"], first[0])
	}
	again, _ := run(ec2Alarm(start))
	if len(again) != 1 || again[0] != first[0] {
		t.Errorf("ClientToken of the same state change in another invocation = %q; want %q", again, first[0])
	}
}

// sdkErr is the error the SDK returns for an HTTP answer with status and
// an API error code.
func sdkErr(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "injected"},
	}}
}

// A mutating call whose answer does not prove it was refused — a 5xx, a
// connection lost after the request was written — may have taken
// effect: the decision is unverified and escalated, never a failed
// attempt to retry. An answer that refuses it (4xx, throttled) is a
// failure: nothing changed.
func TestFailedCallThatMayHaveLandedIsUnverified(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want remediate.Decision
	}{
		{"500 InternalFailure", sdkErr(500, "InternalFailure"), remediate.Unverified},
		{"503 ServiceUnavailable", sdkErr(503, "ServiceUnavailable"), remediate.Unverified},
		{"connection reset after the request was sent", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, remediate.Unverified},
		{"400 InvalidParameterException", sdkErr(400, "InvalidParameterException"), remediate.Failed},
		{"throttled past the retries", sdkErr(400, "ThrottlingException"), remediate.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testPolicy)
			r.ecs.updateErr = tt.err
			out := r.handle(t, ecsAlarm("api", "ALARM", start))
			if out.Decision != tt.want {
				t.Errorf("UpdateService answered %v: decision %s (%s); want %s", tt.err, out.Decision, out.Reason, tt.want)
			}
			if n := r.ecs.updateCount(); n != 1 {
				t.Errorf("UpdateService calls = %d; want 1", n)
			}
			trail := r.trail(t, ecsAlarm("api", "ALARM", start))
			if len(trail) != 1 || trail[0]["called"] != "true" || trail[0]["decision"] != string(tt.want) {
				t.Errorf("audit trail = %v; want one %s record with called=true", trail, tt.want)
			}
			if escalated := slices.Contains(r.n.kinds(), notify.Escalation); escalated != (tt.want == remediate.Unverified) {
				t.Errorf("escalated = %t; want %t", escalated, tt.want == remediate.Unverified)
			}
		})
	}
}
