package respond

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// jsonService stands in for an awsJson 1.1 service (CodePipeline,
// CodeDeploy) for one operation: it counts the calls that reach it and
// answers each with the next scripted status and body (the last one once
// the script runs out).
type jsonService struct {
	target string // X-Amz-Target, e.g. "CodePipeline_20150709.RollbackStage"
	script []answer

	mu    sync.Mutex
	calls int
}

type answer struct {
	status int
	body   string
}

func (s *jsonService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("X-Amz-Target"); got != s.target {
		http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	a := s.script[min(s.calls, len(s.script)-1)]
	s.calls++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

func (s *jsonService) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// The 5xx and throttling answers every AWS API can give ("Common Errors",
// e.g. https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html):
// InternalFailure (500) and ServiceUnavailable (503) may come after the
// service acted; ThrottlingException (400) means it did not.
var (
	internalFailure    = answer{500, `{"__type":"InternalFailure","message":"The request processing has failed because of an unknown error, exception or failure."}`}
	serviceUnavailable = answer{503, `{"__type":"ServiceUnavailable","message":"The request has failed due to a temporary failure of the server."}`}
	throttled          = answer{400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
)

// TestRollbackStageSentOncePerDecision sends RollbackStage through a real
// CodePipeline client whose own retryer is the SDK's standard one (three
// attempts on a 5xx). respond's per-call MutatingRetryer must send it once
// when the answer is a 5xx — the rollback may have started — and retry
// only a throttled request, which CodePipeline did not process.
func TestRollbackStageSentOncePerDecision(t *testing.T) {
	tests := []struct {
		name      string
		script    []answer
		wantCalls int
		wantText  string
	}{
		{"500 InternalFailure is not retried", []answer{internalFailure}, 1, "Automatic rollback FAILED"},
		{"503 ServiceUnavailable is not retried", []answer{serviceUnavailable}, 1, "Automatic rollback FAILED"},
		{"ThrottlingException is retried", []answer{throttled, {200, `{"pipelineExecutionId":"5d1e2f3a-rollback"}`}}, 2, "is rolling back to execution 2b70a3ed-last-good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &jsonService{target: "CodePipeline_20150709.RollbackStage", script: tt.script}
			srv := httptest.NewServer(svc)
			defer srv.Close()
			r := newRig(t)
			r.h.RollbackPolicy = config.RollbackStage
			r.pipeline.rollbackVia = codepipeline.New(codepipeline.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
			})
			if err := r.invoke(t, readEvent(t, "respond-verify-failed.json")); err != nil {
				t.Fatal(err)
			}
			if got := svc.count(); got != tt.wantCalls {
				t.Errorf("RollbackStage reached CodePipeline %d times; want %d", got, tt.wantCalls)
			}
			if body := aws.ToString(r.sns.in[0].Message); !strings.Contains(body, tt.wantText) {
				t.Errorf("message does not say %q:\n%s", tt.wantText, body)
			}
		})
	}
}

// TestStopDeploymentSentOncePerDecision: the same for CodeDeploy's
// StopDeployment under the stop-deployment policy.
func TestStopDeploymentSentOncePerDecision(t *testing.T) {
	svc := &jsonService{target: "CodeDeploy_20141006.StopDeployment", script: []answer{internalFailure}}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	r := newRig(t)
	r.h.RollbackPolicy = config.RollbackStopDeployment
	r.deploy.stopVia = codedeploy.New(codedeploy.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
	})
	if err := r.invoke(t, readEvent(t, "respond-verify-failed.json")); err != nil {
		t.Fatal(err)
	}
	if got := svc.count(); got != 1 {
		t.Errorf("StopDeployment reached CodeDeploy %d times after a 500; want 1", got)
	}
	if body := aws.ToString(r.sns.in[0].Message); !strings.Contains(body, "Automatic rollback FAILED") {
		t.Errorf("message does not report the failed stop:\n%s", body)
	}
}
