package standin

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// TestConcurrentReports: CodePipeline may deliver the same job twice; of
// many concurrent terminal reports exactly one wins, the rest get
// InvalidJobStateException, while readers and mutators run alongside.
func TestConcurrentReports(t *testing.T) {
	s := startServer(t, alarmScenario())
	cfg := awsConfig(t, s)
	cp := codepipeline.NewFromConfig(cfg)
	cw := cloudwatch.NewFromConfig(cfg)
	ctx := ctxT(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, errs[i] = cp.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{JobId: aws.String("dup"),
				FailureDetails: &cptypes.FailureDetails{Type: cptypes.FailureTypeJobFailed, Message: aws.String(fmt.Sprint("attempt ", i))}})
		}()
		go func() {
			defer wg.Done()
			if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
				t.Errorf("DescribeAlarms: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.SetAlarmState("prod-api-latency", []string{"OK", "ALARM"}[i%2], "flapping"); err != nil {
				t.Errorf("SetAlarmState: %v", err)
			}
			_ = s.Calls()
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	j, _ := s.Job("dup")
	if ok != 1 || len(j.Reports) != 1 {
		t.Errorf("%d of %d concurrent terminal reports succeeded, job has %d reports; want exactly 1 and 1", ok, n, len(j.Reports))
	}
	if got := len(s.CallsTo(CodePipeline, "PutJobFailureResult")); got != n {
		t.Errorf("recorded %d PutJobFailureResult calls; want %d", got, n)
	}
}
