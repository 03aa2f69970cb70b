package remediate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

func TestShippedPolicyIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "functions", "remediate", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := remediate.ParsePolicy(b)
	if err != nil {
		t.Fatalf("ParsePolicy(functions/remediate/policy.yaml): %v", err)
	}
	if p.OptInTag != (remediate.Tag{Key: "postdeploy:remediate", Value: "true"}) {
		t.Errorf("optInTag = %v; want postdeploy:remediate=true", p.OptInTag)
	}
	// Every registered action is shown in the shipped policy.
	used := map[string]bool{}
	for _, r := range p.Rules {
		used[r.Action] = true
	}
	for _, n := range remediate.Names() {
		if !used[n] {
			t.Errorf("shipped policy has no rule using action %s; add an example", n)
		}
	}
}

func TestParsePolicyDefaults(t *testing.T) {
	p, err := remediate.ParsePolicy([]byte(`
optInTag: {key: remediate}
rules:
  - name: r
    match: {alarmName: "x-*"}
    action: ecs.redeploy
    params: {cluster: c, service: "{{.Dimensions.ServiceName}}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := remediate.Limits{GlobalPerHour: remediate.DefaultGlobalPerHour, BlastRadius: remediate.DefaultBlastRadius, MaxAttempts: remediate.DefaultMaxAttempts}
	if d := cmp.Diff(want, p.Limits); d != "" {
		t.Errorf("default limits (-want +got):\n%s", d)
	}
	if p.OptInTag.Value != "true" || p.Rules[0].Match.State != "ALARM" || p.Defaults.Cooldown.D() != 30*time.Minute {
		t.Errorf("defaults: optInTag %v, state %q, cooldown %s; want value true, ALARM, 30m", p.OptInTag, p.Rules[0].Match.State, p.Defaults.Cooldown)
	}
}

func TestParsePolicyJSON(t *testing.T) {
	_, err := remediate.ParsePolicy([]byte(`{"optInTag":{"key":"k","value":"yes"},"rules":[{"name":"r","match":{"namespace":"AWS/EC2"},"action":"ec2.reboot","params":{"instanceId":"{{.Dimensions.InstanceId}}"}}]}`))
	if err != nil {
		t.Errorf("ParsePolicy(JSON) = %v; want nil", err)
	}
}

// Every problem is reported, each at its path.
func TestParsePolicyReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []string // path: start of message
	}{
		{"empty", "", []string{"policy is empty"}},
		{"not YAML", "rules: [", []string{"not valid YAML or JSON"}},
		{"missing opt-in and rules", "dryRun: true", []string{"optInTag.key: required", "rules: required"}},
		{"everything wrong at once", `
optInTag: {key: k, colour: red}
limits: {blastRadius: many}
defaults: {cooldown: soon, notify: pager}
rules:
  - name: "bad name"
    match: {}
    action: ecs.redeploy
    params: {cluster: c, servce: x}
  - name: dup
    match: {alarmName: "[", state: OK}
    action: ec2.rebot
  - name: dup
    match: {namespace: AWS/ECS}
    action: ecs.scale
    params: {cluster: c, service: s, step: 0, min: 5, max: 2}
    notify: pager
    runbook: nope
    maxPerHour: 0
  - name: tpl
    match: {metric: CPU}
    action: ec2.reboot
    params: {instanceId: "{{.Dimension.InstanceId}}"}
  - name: tpl2
    match: {metric: CPU}
    action: ec2.reboot
    params: {instanceId: "{{.Dimensions.InstanceId"}
  - name: lit
    match: {metric: CPU}
    action: ec2.reboot
    params: {instanceId: web-1}
`, []string{
			`defaults.cooldown: must be a duration`,
			`limits.blastRadius: must be a whole number`,
			`optInTag.colour: unknown field`,
			`defaults.notify: unknown kind "pager"`,
			`rules[0].name: "bad name": must not contain`,
			`rules[0].match: set at least one of`,
			`rules[0].params.service: required by ecs.redeploy`,
			`rules[0].params.servce: unknown parameter of ecs.redeploy`,
			`rules[1].match.alarmName: "[" is not a valid glob`,
			`rules[1].match.state: "OK": must be ALARM or INSUFFICIENT_DATA`,
			`rules[1].action: unknown action "ec2.rebot" (valid: asg.scale, codedeploy.rollback, ec2.reboot, ecs.redeploy, ecs.scale, lambda.rollback-alias, notify, ssm.runbook)`,
			`rules[2].name: "dup" is also the name of rules[1]`,
			`rules[2].notify: unknown kind "pager"`,
			`rules[2].runbook: unknown runbook "nope"`,
			`rules[2].maxPerHour: 0: must be at least 1`,
			`rules[2].params.min: 5 is above max 2`,
			`rules[2].params.step: must not be 0`,
			`rules[3].params.instanceId: {{.Dimension.InstanceId}}: the alarm has no field .Dimension; supported: literal text and`,
			`rules[4].params.instanceId: bad template`,
			`rules[5].params.instanceId: "web-1" is not an instance id`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := remediate.ParsePolicy([]byte(tt.policy))
			var errs remediate.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("ParsePolicy error = %v (%T); want remediate.Errors", err, err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("ParsePolicy: no problem starting %q; got:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
		})
	}
}

// FuzzParsePolicy: a policy parses or fails with Errors; never panics.
func FuzzParsePolicy(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "..", "functions", "remediate", "policy.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(`{"optInTag":{"key":"k"},"rules":[{"name":"r","match":{"namespace":"AWS/EC2"},"action":"ec2.reboot","params":{"instanceId":"{{.Dimensions.InstanceId}}"}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := remediate.ParsePolicy([]byte(s))
		if err != nil {
			var errs remediate.Errors
			if !errors.As(err, &errs) {
				t.Errorf("ParsePolicy error %T; want remediate.Errors", err)
			}
			return
		}
		if p.OptInTag.Key == "" || len(p.Rules) == 0 {
			t.Errorf("ParsePolicy accepted a policy without opt-in tag or rules: %+v", p)
		}
	})
}
