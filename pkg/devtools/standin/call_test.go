package standin

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func TestCallString(t *testing.T) {
	tests := []struct {
		name string
		call Call
		want string
	}{
		{"ok", Call{Time: testNow, Service: SSM, Operation: "GetParameter", Input: map[string]any{"Name": "/p"}},
			`12:00:00.000 ssm GetParameter {"Name":"/p"} -> ok`},
		{"error with fault", Call{Time: testNow, Service: CloudWatch, Operation: "DescribeAlarms", ErrorCode: "Throttling", Fault: "throttle"},
			"12:00:00.000 cloudwatch DescribeAlarms -> Throttling (injected throttle)"},
		{"time input", Call{Time: testNow, Service: CloudWatch, Operation: "GetMetricData", Input: map[string]any{"StartTime": testNow.Add(-time.Hour)}},
			`12:00:00.000 cloudwatch GetMetricData {"StartTime":"2026-11-22T11:00:00Z"} -> ok`},
	}
	for _, tc := range tests {
		if got := tc.call.String(); got != tc.want {
			t.Errorf("%s: Call.String() = %q; want %q", tc.name, got, tc.want)
		}
	}
	long := Call{Service: SNS, Operation: "Publish", Input: map[string]any{"Message": strings.Repeat("x", 1000)}}
	if got := long.String(); len(got) > 400 {
		t.Errorf("Call.String() of a 1000-byte input is %d bytes; want it cut near 300", len(got))
	}
}

func TestSummary(t *testing.T) {
	calls := []Call{
		{Service: SSM, Operation: "GetParameter"},
		{Service: CodePipeline, Operation: "PutJobSuccessResult"},
		{Service: SSM, Operation: "GetParameter", ErrorCode: "ParameterNotFound"},
	}
	got := strings.Join(Summary(calls), "\n")
	for _, want := range []string{"codepipeline PutJobSuccessResult", "ssm GetParameter", "2  (1 errors)"} {
		if !strings.Contains(got, want) {
			t.Errorf("Summary() =\n%s\nlacks %q", got, want)
		}
	}
	if strings.Index(got, "codepipeline") > strings.Index(got, "ssm") {
		t.Errorf("Summary() not in name order:\n%s", got)
	}
}

func TestImplemented(t *testing.T) {
	impl := Implemented()
	for _, svc := range []string{CodePipeline, CloudWatch, SSM, S3, SNS, EventBridge, EC2, ECS, AutoScaling, CodeDeploy, Lambda, ECR, Inspector2} {
		if len(impl[svc]) == 0 {
			t.Errorf("Implemented()[%q] is empty", svc)
		}
	}
}

func TestObserver(t *testing.T) {
	var seen []Call
	var mu sync.Mutex
	s, err := New(Scenario{}, WithClock(func() time.Time { return testNow }), WithObserver(func(c Call) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, c)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = ssm.NewFromConfig(awsConfig(t, s)).GetParameter(ctxT(t), &ssm.GetParameterInput{Name: aws.String("/nope")})
	if err == nil {
		t.Fatal("GetParameter(/nope) succeeded on an empty scenario")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0].ErrorCode != "ParameterNotFound" {
		t.Errorf("observer saw %+v; want one GetParameter answered ParameterNotFound", seen)
	}
}

// TestDocListsEveryOperation keeps doc.go's operation table in step with
// the handlers.
func TestDocListsEveryOperation(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for svc, ops := range Implemented() {
		for _, op := range ops {
			if !strings.Contains(string(doc), op) {
				t.Errorf("doc.go does not mention %s %s; add it to the Operations table", svc, op)
			}
		}
	}
}
