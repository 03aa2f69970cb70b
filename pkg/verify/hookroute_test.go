package verify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// FuzzDecodeHook: whatever the payload, decodeHook never panics, and a
// payload it accepts carries ids of the documented forms and no key but
// the three it knows.
func FuzzDecodeHook(f *testing.F) {
	for _, s := range []string{
		`{"DeploymentId":"d-ABCDEFGH1","LifecycleEventHookExecutionId":"a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}`,
		`{"DeploymentId":"d-ABCDEFGH1","LifecycleEventHookExecutionId":"x","PostdeployContinuation":"pd2.abc.{}"}`,
		`{"DeploymentId":"d-ABCDEFGH1"}`,
		`{"LifecycleEventHookExecutionId":"x","DeploymentId":null}`,
		`{"source":"aws.codedeploy","detail-type":"CodeDeploy Deployment State-change Notification"}`,
		`{"CodePipeline.job":{"id":"x"}}`,
		`[]`, `null`, `"x"`, `{"DeploymentId":"d-ABCDEFGH1","LifecycleEventHookExecutionId":"x","DeploymentId":"d-ZZZZZZZZZ"}`,
	} {
		f.Add([]byte(s))
	}
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, ok, err := decodeHook(context.Background(), log, nil, payload)
		if err != nil {
			var he *HookEventError
			if !ok || !errors.As(err, &he) {
				t.Fatalf("decodeHook(%q) = %v, %v; an error must be a HookEventError on a payload taken as a hook", payload, ok, err)
			}
			return
		}
		if ok && (!deploymentIDRe.MatchString(ev.DeploymentID) || !hookExecutionIDRe.MatchString(ev.LifecycleEventHookExecutionID)) {
			t.Fatalf("decodeHook(%q) accepted %+v", payload, ev)
		}
		if ok && strings.ContainsAny(ev.DeploymentID+ev.LifecycleEventHookExecutionID, "#\n") {
			t.Fatalf("decodeHook(%q) accepted an id that could forge a claim key or a log line: %+v", payload, ev)
		}
	})
}
