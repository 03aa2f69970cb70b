package standin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestThrottleCodesPerProtocol(t *testing.T) {
	s := startServer(t, Scenario{
		Instances:     []Instance{{ID: "i-1"}},
		LambdaAliases: []LambdaAlias{{Function: "f", Name: "live", Version: "1"}},
		Objects:       []Object{{Bucket: "b", Key: "k", Body: "v"}},
	})
	cfg := awsConfig(t, s)
	ctx := ctxT(t)
	tests := []struct {
		service, op string
		call        func() error
		wantCode    string
		wantStatus  int
	}{
		{CodePipeline, "PutJobSuccessResult", func() error {
			_, err := codepipeline.NewFromConfig(cfg).PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j")})
			return err
		}, "ThrottlingException", 400},
		{SSM, "GetParameter", func() error {
			_, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("p")})
			return err
		}, "ThrottlingException", 400},
		{SNS, "Publish", func() error {
			_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:t"), Message: aws.String("m")})
			return err
		}, "Throttling", 400},
		{EC2, "DescribeInstances", func() error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}, "RequestLimitExceeded", 400},
		{Lambda, "GetAlias", func() error {
			_, err := lambda.NewFromConfig(cfg).GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("f"), Name: aws.String("live")})
			return err
		}, "TooManyRequestsException", 429},
		{S3, "GetObject", func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			return err
		}, "SlowDown", 503},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			s.Inject(tc.service, tc.op, Fault{Kind: FaultThrottle, Times: 1})
			err := tc.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
				t.Fatalf("%s %s under a throttle fault: error %v; want code %s", tc.service, tc.op, err, tc.wantCode)
			}
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("%s %s throttle status = %v; want %d", tc.service, tc.op, err, tc.wantStatus)
			}
			if err := tc.call(); err != nil && strings.Contains(err.Error(), "injected") {
				t.Errorf("%s %s: the 1-shot fault hit a second call: %v", tc.service, tc.op, err)
			}
		})
	}
}

func TestServerErrorFault(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tests := []struct {
		name       string
		fault      Fault
		wantCode   string
		wantStatus int
	}{
		{"500", Fault{Kind: FaultServerError, Times: 1}, "InternalFailure", 500},
		{"503", Fault{Kind: FaultServerError, Times: 1, Status: 503}, "ServiceUnavailable", 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Inject(CodePipeline, "", tc.fault)
			_, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j-" + tc.name)})
			var ae smithy.APIError
			var re *smithyhttp.ResponseError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode || !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("PutJobSuccessResult under %s fault: %v; want %s with status %d", tc.name, err, tc.wantCode, tc.wantStatus)
			}
			if _, ok := s.Job("j-" + tc.name); ok {
				t.Errorf("a call failed by a fault still changed state (job tracked)")
			}
		})
	}
}

// FaultServerErrorAfterApply: the operation takes effect (the reboot is
// made and the call recorded), and the client gets a 500 InternalFailure,
// with no way to tell the change was made.
func TestServerErrorAfterApplyFault(t *testing.T) {
	s := startServer(t, Scenario{Instances: []Instance{{ID: "i-1"}}})
	c := ec2.NewFromConfig(awsConfig(t, s), func(o *ec2.Options) { o.Retryer = aws.NopRetryer{} })
	s.Inject(EC2, "RebootInstances", Fault{Kind: FaultServerErrorAfterApply, Times: 1})
	_, err := c.RebootInstances(ctxT(t), &ec2.RebootInstancesInput{InstanceIds: []string{"i-1"}})
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Errorf("RebootInstances under an applied-then-server-error fault: %v; want InternalFailure with status 500", err)
	}
	if n := s.Reboots("i-1"); n != 1 {
		t.Errorf("reboots of i-1 = %d; want 1: the operation takes effect before the error", n)
	}
	calls := s.CallsTo(EC2, "RebootInstances")
	if len(calls) != 1 || calls[0].ErrorCode != "InternalFailure" || calls[0].Fault != "applied-then-server-error" {
		t.Errorf("recorded calls = %+v; want one, answered InternalFailure, marked applied-then-server-error", calls)
	}
	if _, err := c.RebootInstances(ctxT(t), &ec2.RebootInstancesInput{InstanceIds: []string{"i-1"}}); err != nil || s.Reboots("i-1") != 2 {
		t.Errorf("the call after the 1-shot fault: %v, %d reboots; want success and 2", err, s.Reboots("i-1"))
	}
}

func TestAlwaysFaultUntilCleared(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	s.Inject(CodePipeline, "PutJobFailureResult", Fault{Kind: FaultThrottle})
	in := &codepipeline.PutJobFailureResultInput{JobId: aws.String("j"),
		FailureDetails: &cptypes.FailureDetails{Type: cptypes.FailureTypeJobFailed, Message: aws.String("m")}}
	for i := range 3 {
		if _, err := cp.PutJobFailureResult(ctx, in); err == nil {
			t.Fatalf("call %d under an always-on fault succeeded", i+1)
		}
	}
	s.ClearFaults()
	if _, err := cp.PutJobFailureResult(ctx, in); err != nil {
		t.Errorf("after ClearFaults: %v; want success", err)
	}
}

func TestLatencyFault(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	s.Inject(CodePipeline, "PutJobSuccessResult", Fault{Kind: FaultLatency, Delay: 3 * time.Second, Times: 1})
	// A deadline shorter than the delay must expire: the delay is real.
	ctx, cancel := ctxTimeout(t, 300*time.Millisecond)
	defer cancel()
	_, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j")})
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("PutJobSuccessResult under 3s latency with a 300ms deadline: %v; want a deadline error", err)
	}
	if c := s.CallsTo(CodePipeline, ""); len(c) != 1 || c[0].Fault != "latency" {
		t.Errorf("recorded calls = %+v; want one marked latency", c)
	}
}

func TestResetFault(t *testing.T) {
	s := startServer(t, Scenario{})
	cp := codepipeline.NewFromConfig(awsConfig(t, s))
	s.Inject(CodePipeline, "PutJobSuccessResult", Fault{Kind: FaultReset, Times: 1})
	_, err := cp.PutJobSuccessResult(ctxT(t), &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j")})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Errorf("PutJobSuccessResult over a reset connection: %v; want a transport error, not an API error", err)
	}
	if _, ok := s.Job("j"); ok {
		t.Error("a reset call still changed state")
	}
	if _, err := cp.PutJobSuccessResult(ctxT(t), &codepipeline.PutJobSuccessResultInput{JobId: aws.String("j")}); err != nil {
		t.Errorf("the call after the reset: %v; want success", err)
	}
}

func TestRoutingErrors(t *testing.T) {
	s := startServer(t, Scenario{})
	tests := []struct {
		name, target, body, wantType string
	}{
		{"dynamodb is not served", "DynamoDB_20120810.GetItem", "{}", "UnknownOperationException"},
		{"unimplemented operation", "CodePipeline_20150709.CreatePipeline", "{}", "UnknownOperationException"},
		{"garbage JSON", "CodePipeline_20150709.PutJobSuccessResult", "{not json", "SerializationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(tc.body))
			req.Header.Set("X-Amz-Target", tc.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Amzn-Errortype"); resp.StatusCode != 400 || got != tc.wantType {
				t.Errorf("POST %s = %d %q; want 400 %q", tc.target, resp.StatusCode, got, tc.wantType)
			}
		})
	}
}
