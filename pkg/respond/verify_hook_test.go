package respond

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// A failed CodeDeploy lifecycle hook is notified and never rolled back by
// respond: CodeDeploy fails the deployment on the hook's Failed status and
// rolls it back itself when the group's automatic rollback is on.
func TestHookVerificationIsNotifiedNotRolledBack(t *testing.T) {
	mk := func(autoRollback string) []byte {
		return []byte(`{"source":"postdeploy.verify","detail-type":"Post-Deploy Verification Completed","region":"us-east-1","account":"111111111111","id":"ev-1","detail":{"verdict":"Failed","jobId":"",` +
			`"deploymentId":"d-ABCDEFGH1","application":"orders","deploymentGroup":"orders-bg","hook":"AfterAllowTestTraffic","hookExecutionId":"a1b2c3d4","autoRollback":` + autoRollback + `,` +
			`"summary":"1 of 1 critical checks failed","failedChecks":["green-health"],"checks":[{"check":"green-health","kind":"http","verdict":"Failed","observed":"status 503","expected":"2xx"}]}}`)
	}
	for _, tc := range []struct {
		name, autoRollback, want string
	}{
		{"auto-rollback on", "true", "rolls it back itself"},
		{"auto-rollback off", "false", "nothing is rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, policy := range []string{config.RollbackStage, config.RollbackStopDeployment} {
				r := newRig(t)
				r.h.RollbackPolicy = policy
				if err := r.invoke(t, mk(tc.autoRollback)); err != nil {
					t.Fatalf("policy %s: %v", policy, err)
				}
				if len(r.pipeline.rollbacks) != 0 || len(r.deploy.stops) != 0 {
					t.Errorf("policy %s: %d RollbackStage, %d StopDeployment; want none for a hook", policy, len(r.pipeline.rollbacks), len(r.deploy.stops))
				}
				if len(r.sns.in) != 1 {
					t.Fatalf("policy %s: published %d messages; want 1", policy, len(r.sns.in))
				}
				body, subject := aws.ToString(r.sns.in[0].Message), aws.ToString(r.sns.in[0].Subject)
				for _, w := range []string{tc.want, "d-ABCDEFGH1", "AfterAllowTestTraffic", "green-health", "does not roll back through CodePipeline"} {
					if !strings.Contains(body, w) {
						t.Errorf("policy %s: message lacks %q:\n%s", policy, w, body)
					}
				}
				if !strings.Contains(subject, "Hook AfterAllowTestTraffic failed for orders") {
					t.Errorf("policy %s: subject %q", policy, subject)
				}
				// Redelivered by EventBridge: notified once.
				if err := r.invoke(t, mk(tc.autoRollback)); err != nil || len(r.sns.in) != 1 {
					t.Errorf("policy %s: redelivery = %v, %d messages; want nil, 1", policy, err, len(r.sns.in))
				}
			}
		})
	}
}
