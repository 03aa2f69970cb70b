package remediate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// handlerRig is the engine rig with the shipped policy behind the SNS
// handler, publishing through a real notify.Router. An alarm reads ALARM,
// except that the first read after an action reads OK: the action fixed
// it.
type handlerRig struct {
	*rig
	h   *remediate.Handler
	sns *fakeSNS
}

func newHandlerRig(t testing.TB) *handlerRig {
	t.Helper()
	r := &handlerRig{rig: newRig(t, shippedPolicy), sns: &fakeSNS{}}
	r.cw.afterAction = []string{"OK", "ALARM"}
	r.ec2.onReboot = r.cw.acted
	topics := map[notify.Kind]string{}
	for _, k := range notify.Kinds {
		topics[k] = "arn:aws:sns:us-east-1:" + acct + ":postdeploy-" + string(k)
	}
	router := notify.Router{API: r.sns, Topics: topics}
	r.e.Notify = router
	r.e.Actions = remediate.Actions(remediate.Clients{ECS: r.ecs, EC2: r.ec2, Notify: router})
	r.h = &remediate.Handler{Engine: r.e, Log: quiet, Metrics: r.e.Metrics}
	// CloudWatch holds the alarms the events/ files name — not those of
	// the remediate-forged-* files: messages no CloudWatch alarm sent.
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "remediate-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasPrefix(filepath.Base(f), "remediate-forged-") })
	for _, a := range eventAlarms(t, files...) {
		r.cw.define(a)
	}
	return r
}

// eventAlarms decodes every alarm notification in the events/ files
// (records that are not alarms are left out).
func eventAlarms(t testing.TB, files ...string) []remediate.Alarm {
	t.Helper()
	var out []remediate.Alarm
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SNSEvent
		if json.Unmarshal(b, &ev) != nil {
			continue
		}
		for _, rec := range ev.Records {
			if a, err := contract.DecodeSNSMessage(rec.SNS.Message); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// invoke runs the handler the way the Lambda runtime does, on the bytes
// of an events/ file.
func (r *handlerRig) invoke(t *testing.T, file string) error {
	t.Helper()
	path := filepath.Join("..", "..", "events", file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// CloudWatch has the alarm in the state the file delivers, as it
	// would when the delivery is prompt.
	if as := eventAlarms(t, path); len(as) > 0 && !r.pinned {
		r.cw.set(as[len(as)-1].NewState)
	}
	_, err = lambda.NewHandler(r.h.Handle).Invoke(context.Background(), b)
	return err
}

func (r *handlerRig) mustInvoke(t *testing.T, file string) {
	t.Helper()
	if err := r.invoke(t, file); err != nil {
		t.Fatalf("Invoke(%s) error: %v", file, err)
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name      string
		dryRun    bool
		files     []string
		updates   []string
		reboots   []string
		published []string
	}{
		{
			name:      "ALARM on an opted-in ECS service: one forced deployment, one notification",
			files:     []string{"remediate-ecs-alarm.json"},
			updates:   []string{"prod/api force=true"},
			published: []string{"high-cpu fixed"},
		},
		{
			name:      "redelivery and a new ALARM within the cooldown act no more; the OK closes the incident",
			files:     []string{"remediate-ecs-alarm.json", "remediate-ecs-alarm.json", "remediate-ecs-alarm-again.json", "remediate-ecs-ok.json"},
			updates:   []string{"prod/api force=true"},
			published: []string{"high-cpu fixed", "high-cpu skipped", "high-cpu recovered"},
		},
		{
			name:      "service without the opt-in tag is never touched",
			files:     []string{"remediate-ecs-untagged.json"},
			published: []string{"high-cpu skipped"},
		},
		{
			name:      "dry run calls no mutating API",
			dryRun:    true,
			files:     []string{"remediate-ecs-alarm.json", "remediate-ec2-status-check.json"},
			published: []string{"high-cpu dry-run", "infrastructure dry-run"},
		},
		{
			name:      "one bad record never sinks the others",
			files:     []string{"remediate-mixed-batch.json"},
			reboots:   []string{"i-0a1b2c3d4e5f67890"},
			published: []string{"infrastructure fixed"},
		},
		{
			name:      "composite alarm escalates to people",
			files:     []string{"remediate-composite.json"},
			published: []string{"escalation", "infrastructure acted"},
		},
		{
			name:      "an alarm of another account (forged notification): refused, nothing touched",
			files:     []string{"remediate-forged-other-account.json"},
			published: []string{"infrastructure refused"},
		},
		{
			name:      "an alarm CloudWatch does not have (forged notification): refused, nothing touched",
			files:     []string{"remediate-forged-no-such-alarm.json"},
			published: []string{"infrastructure refused"},
		},
		{
			name:      "a real alarm whose notification claims another service: the alarm's own service is acted on",
			files:     []string{"remediate-forged-dimensions.json"},
			updates:   []string{"prod/api force=true"},
			published: []string{"high-cpu fixed"},
		},
		{
			name:      "metric math alarm scales the service within bounds",
			files:     []string{"remediate-math-alarm.json"},
			updates:   []string{"prod/api desired=4"},
			published: []string{"application fixed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHandlerRig(t)
			r.e.DryRun = tt.dryRun
			for _, f := range tt.files {
				r.mustInvoke(t, f)
			}
			if got := updates(r.ecs); !cmp.Equal(got, tt.updates) {
				t.Errorf("ECS UpdateService calls = %v; want %v", got, tt.updates)
			}
			if got := slices.Concat(r.ec2.reboots...); !cmp.Equal(got, tt.reboots) {
				t.Errorf("EC2 reboots = %v; want %v", got, tt.reboots)
			}
			if got := r.sns.published(); !cmp.Equal(got, tt.published) {
				t.Errorf("SNS publishes = %v; want %v", got, tt.published)
			}
		})
	}
}

// A failure of the state table is returned, so Lambda retries the
// invocation; the records that are not alarms are still skipped quietly.
func TestHandlerReturnsEngineFailures(t *testing.T) {
	r := newHandlerRig(t)
	r.e.Store = state.New(db.Server(t).Client(), "no-such-table")
	err := r.invoke(t, "remediate-mixed-batch.json")
	if err == nil {
		t.Fatal("Invoke with a missing state table = nil; want an error so the delivery is retried")
	}
	if !strings.Contains(err.Error(), "prod-worker-status-check") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("error = %v; want it to name the alarm and the table failure", err)
	}
	if len(r.ec2.reboots) != 0 {
		t.Errorf("reboots = %v; want none without the state table", r.ec2.reboots)
	}
}
