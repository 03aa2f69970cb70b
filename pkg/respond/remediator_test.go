package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

type fakeEngine struct {
	got []remediate.Alarm
	out remediate.Outcome
	err error
}

var _ AlarmEngine = (*fakeEngine)(nil)

func (f *fakeEngine) Handle(_ context.Context, a remediate.Alarm) (remediate.Outcome, error) {
	f.got = append(f.got, a)
	return f.out, f.err
}

func TestEngineRemediator(t *testing.T) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(readEvent(t, "respond-alarm-cpu.json"), &ev); err != nil {
		t.Fatal(err)
	}
	a, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		engine  *fakeEngine
		want    string
		wantErr bool
	}{
		{
			name: "fixed by an action",
			engine: &fakeEngine{out: remediate.Outcome{Decision: remediate.Fixed, Action: "asg.scale", Rule: "scale-out-on-cpu", Reason: "capacity 4 → 6 and the alarm is OK",
				Targets: []remediate.TargetOutcome{{Target: remediate.Target{Type: "asg", ID: "prod-api-asg"}, Decision: remediate.Fixed, Call: "SetDesiredCapacity(prod-api-asg, 6)"}}}},
			want: "fixed by asg.scale (rule scale-out-on-cpu): capacity 4 → 6 and the alarm is OK; asg prod-api-asg fixed [SetDesiredCapacity(prod-api-asg, 6)]",
		},
		{
			name:   "four targets: the last one counted, singular",
			engine: &fakeEngine{out: remediate.Outcome{Decision: remediate.Fixed, Action: "ecs.redeploy", Targets: targets(4)}},
			want:   "fixed by ecs.redeploy; ecs-service prod/api-1 fixed; ecs-service prod/api-2 fixed; ecs-service prod/api-3 fixed; and 1 more target",
		},
		{
			name:   "five targets: the last two counted, plural",
			engine: &fakeEngine{out: remediate.Outcome{Decision: remediate.Fixed, Action: "ecs.redeploy", Targets: targets(5)}},
			want:   "fixed by ecs.redeploy; ecs-service prod/api-1 fixed; ecs-service prod/api-2 fixed; ecs-service prod/api-3 fixed; and 2 more targets",
		},
		{name: "no rule", engine: &fakeEngine{out: remediate.Outcome{Decision: remediate.Ignored}}, want: "none (no rule of the remediation policy matches this alarm)"},
		{name: "duplicate", engine: &fakeEngine{out: remediate.Outcome{Decision: remediate.Duplicate}}, want: "already handled for this state change (see the remediation notification)"},
		{name: "engine error", engine: &fakeEngine{err: errors.New("claim state change: throttled")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EngineRemediator{Engine: tt.engine}.Remediate(context.Background(), a)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Remediate = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if len(tt.engine.got) != 1 || tt.engine.got[0].Name != "prod-api-high-cpu" || tt.engine.got[0].NewState != "ALARM" {
				t.Errorf("engine got %+v; want the prod-api-high-cpu ALARM state change", tt.engine.got)
			}
		})
	}
}

func TestRemediationFailureStillNotifies(t *testing.T) {
	r := newRig(t)
	r.h.Remediator = EngineRemediator{Engine: &fakeEngine{err: errors.New("claim state change: ProvisionedThroughputExceeded")}}
	if err := r.invoke(t, readEvent(t, "respond-alarm-cpu.json")); err != nil {
		t.Fatal(err)
	}
	if len(r.sns.in) != 1 || !strings.Contains(aws.ToString(r.sns.in[0].Message), "Automatic remediation failed: remediation engine: claim state change") {
		t.Errorf("want one alarm notification reporting the failed remediation; got %d messages", len(r.sns.in))
	}
}

func targets(n int) []remediate.TargetOutcome {
	var out []remediate.TargetOutcome
	for i := range n {
		out = append(out, remediate.TargetOutcome{Target: remediate.Target{Type: "ecs-service", ID: fmt.Sprintf("prod/api-%d", i+1)}, Decision: remediate.Fixed})
	}
	return out
}
