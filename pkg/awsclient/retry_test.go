package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sendErr wraps err the way the SDK's HTTP handler does when the HTTP client
// fails (smithy-go transport/http ClientHandler).
func sendErr(err error) error {
	return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://ssm.us-east-1.amazonaws.com/", Err: err}}
}

// respErr wraps an API error the way the SDK's deserializers do for an HTTP
// answer with the given status.
func respErr(status int, code string) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: code},
		},
		RequestID: "req-1",
	}
}

// TestNotProcessed pins which SDK errors prove a request was not processed.
// Throttling codes are "The request was denied due to request throttling"
// in every API reference's Common Errors page; 5xx answers
// (InternalFailure, ServiceUnavailable) may come after the service acted.
func TestNotProcessed(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"ThrottlingException 400", respErr(400, "ThrottlingException"), true},
		{"EC2 RequestLimitExceeded", respErr(503, "RequestLimitExceeded"), true},
		{"Auto Scaling Throttling", respErr(400, "Throttling"), true},
		{"Lambda TooManyRequestsException", respErr(429, "TooManyRequestsException"), true},
		{"every DefaultThrottleErrorCodes entry: SlowDown", respErr(503, "SlowDown"), true},
		{"dial connection refused", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}), true},
		{"dial temporary DNS failure", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "server misbehaving", Name: "ssm.us-east-1.amazonaws.com", IsTemporary: true}}), true},
		{"dial timeout", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}), true},
		{"InternalFailure 500", respErr(500, "InternalFailure"), false},
		{"InternalServerError 500", respErr(500, "InternalServerError"), false},
		{"ServiceUnavailable 503", respErr(503, "ServiceUnavailable"), false},
		{"RequestTimeout", respErr(408, "RequestTimeout"), false},
		{"AccessDeniedException", respErr(400, "AccessDeniedException"), false},
		{"connection reset after write", sendErr(&net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}), false},
		{"write broken pipe", sendErr(&net.OpError{Op: "write", Net: "tcp", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}), false},
		{"EOF awaiting the answer", sendErr(errors.New("EOF")), false},
		{"client timeout awaiting headers", sendErr(timeoutErr{}), false},
		{"dial NXDOMAIN", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ssm.nowhere.invalid", IsNotFound: true}}), false},
		{"canceled", &smithy.CanceledError{Err: context.Canceled}, false},
		{"plain error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NotProcessed(tt.err); got != tt.want {
				t.Errorf("NotProcessed(%v) = %t; want %t", tt.err, got, tt.want)
			}
			if got := MutatingRetryer().IsErrorRetryable(tt.err); got != tt.want {
				t.Errorf("MutatingRetryer().IsErrorRetryable(%v) = %t; want %t", tt.err, got, tt.want)
			}
		})
	}
}

// TestNotProcessedCoversEveryThrottleCode walks the SDK's own list, so a code
// the SDK adds is covered without editing this package.
func TestNotProcessedCoversEveryThrottleCode(t *testing.T) {
	for code := range retry.DefaultThrottleErrorCodes {
		if err := respErr(400, code); !NotProcessed(err) {
			t.Errorf("NotProcessed(%v) = false; want true for the SDK throttle code %q", err, code)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestMutatingRetryerOnTheWire sends a real SSM StartAutomationExecution
// through the SDK against a local server and counts the requests that reach
// it: a 5xx or a reset after the request was read is sent once, a
// throttling answer is retried up to the SDK's default attempts.
func TestMutatingRetryerOnTheWire(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   int32
	}{
		{"500 InternalServerError is sent once", func(w http.ResponseWriter, r *http.Request) {
			writeJSONErr(w, 500, "InternalServerError")
		}, 1},
		{"503 ServiceUnavailable is sent once", func(w http.ResponseWriter, r *http.Request) {
			writeJSONErr(w, 503, "ServiceUnavailable")
		}, 1},
		{"connection closed after the request was read is sent once", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, 1},
		{"ThrottlingException is retried", func(w http.ResponseWriter, r *http.Request) {
			writeJSONErr(w, 400, "ThrottlingException")
		}, int32(retry.DefaultMaxAttempts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tt.answer(w, r)
			}))
			defer srv.Close()
			c := testSSM(srv.URL, nil)
			_, err := c.StartAutomationExecution(context.Background(), &ssm.StartAutomationExecutionInput{DocumentName: aws.String("AWS-RestartEC2Instance")})
			if err == nil {
				t.Fatal("StartAutomationExecution() error = nil; want the server's failure")
			}
			if got := calls.Load(); got != tt.want {
				t.Errorf("StartAutomationExecution() reached the server %d times (err %v); want %d", got, err, tt.want)
			}
		})
	}
}

// TestMutatingRetryerRetriesRefusedConnections dials a port nobody listens
// on: nothing was sent, so every attempt is made.
func TestMutatingRetryerRetriesRefusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var dials atomic.Int32
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, a)
		}
	})
	c := testSSM("http://"+addr, hc)
	_, err = c.StartAutomationExecution(context.Background(), &ssm.StartAutomationExecutionInput{DocumentName: aws.String("AWS-RestartEC2Instance")})
	if err == nil {
		t.Fatal("StartAutomationExecution() to a closed port error = nil; want connection refused")
	}
	if got := dials.Load(); got != int32(retry.DefaultMaxAttempts) {
		t.Errorf("StartAutomationExecution() to a closed port dialed %d times (err %v); want %d", got, err, retry.DefaultMaxAttempts)
	}
}

// TestMutatingRetryerIsNewEachCall: the SDK guide asks for a new retryer per
// client so clients do not share one retry token bucket.
func TestMutatingRetryerIsNewEachCall(t *testing.T) {
	if a, b := MutatingRetryer(), MutatingRetryer(); a == b {
		t.Error("MutatingRetryer() returned the same retryer twice; want a new one per client")
	}
}

func testSSM(endpoint string, hc aws.HTTPClient) *ssm.Client {
	return ssm.New(ssm.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		// The backoff is capped so the test does not sleep; the retry
		// decision is MutatingRetryer's.
		Retryer:    retry.AddWithMaxBackoffDelay(MutatingRetryer(), time.Millisecond),
		HTTPClient: hc,
	})
}

func writeJSONErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":"test"}`, code)
}
