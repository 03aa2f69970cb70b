package remediate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/remediate"
)

type fakeParams struct {
	values map[string]string
	asked  *ssm.GetParameterInput
}

var _ remediate.ParameterAPI = (*fakeParams)(nil)

func (f *fakeParams) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.asked = in
	v, ok := f.values[*in.Name]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(v)}}, nil
}

const minimalPolicy = "optInTag: {key: k}\nrules:\n  - {name: r, match: {namespace: AWS/EC2}, action: ec2.reboot, params: {instanceId: '{{.Dimensions.InstanceId}}'}}\n"

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "beside.yaml"), []byte(minimalPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	shipped := fstest.MapFS{"policy.yaml": {Data: []byte(minimalPolicy)}}
	params := &fakeParams{values: map[string]string{"/postdeploy/policy": minimalPolicy, "/postdeploy/bad": "rules: []"}}
	tests := []struct {
		name, source string
		wantErr      string
	}{
		{"relative file beside the binary", "file:beside.yaml", ""},
		{"absolute file", "file:" + filepath.Join(dir, "beside.yaml"), ""},
		{"shipped (embedded) file", "file:policy.yaml", ""},
		{"SSM parameter", "ssm:/postdeploy/policy", ""},
		{"missing file", "file:nope.yaml", "read remediation policy file"},
		{"missing parameter", "ssm:/postdeploy/none", "read remediation policy from SSM parameter /postdeploy/none"},
		{"invalid policy", "ssm:/postdeploy/bad", "remediation policy ssm:/postdeploy/bad: invalid remediation policy"},
		{"unknown source", "s3:bucket/key", `unknown kind "s3"`},
		{"no reference", "file:", "must be file:<path> or ssm:<parameter name>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := remediate.LoadPolicy(context.Background(), tt.source, params, dir, shipped)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("LoadPolicy(%q) = %v, %v; want a policy", tt.source, p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadPolicy(%q) error = %v; want it to contain %q", tt.source, err, tt.wantErr)
			}
		})
	}
	if _, err := remediate.LoadPolicy(context.Background(), "ssm:/postdeploy/policy", params, dir, nil); err != nil || !aws.ToBool(params.asked.WithDecryption) {
		t.Errorf("LoadPolicy from SSM: %v, WithDecryption %v; want a decrypted read (SecureString)", err, aws.ToBool(params.asked.WithDecryption))
	}
}

// respond hands EventBridge alarm events to the engine, and the same
// state change may also arrive over SNS: the engine acts once.
func TestEngineEventBridgeThenSNS(t *testing.T) {
	r := newRig(t, shippedPolicy)
	var ev events.EventBridgeEvent
	var sns events.SNSEvent
	for file, v := range map[string]any{"remediate-eventbridge-alarm.json": &ev, "remediate-ecs-alarm.json": &sns} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	a, err := contract.AlarmFromEventBridge(ev)
	if err != nil {
		t.Fatal(err)
	}
	out := r.handle(t, a)
	if got := out.String(); !strings.HasPrefix(got, "alarm prod-api-cpu-high ALARM: fixed (rule ecs-cpu-redeploy, action ecs.redeploy)") {
		t.Errorf("Handle(EventBridge alarm) = %q; want the fixed summary", got)
	}
	// The SNS delivery of the same state change is a duplicate.
	a, err = contract.DecodeSNSMessage(sns.Records[0].SNS.Message)
	if err != nil {
		t.Fatal(err)
	}
	if out := r.handle(t, a); out.Decision != remediate.Duplicate {
		t.Errorf("SNS delivery after EventBridge: %s; want duplicate", out.Decision)
	}
	if n := r.ecs.updateCount(); n != 1 {
		t.Errorf("ECS updates = %d; want 1", n)
	}
}
