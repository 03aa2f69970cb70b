package remediate_test

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// A policy is YAML (or JSON): the opt-in tag, limits, and rules that map
// alarms to actions with parameters templated from the alarm.
func ExampleParsePolicy() {
	p, err := remediate.ParsePolicy([]byte(`
optInTag: {key: "postdeploy:remediate", value: "true"}
limits: {globalPerHour: 10, blastRadius: 2}
rules:
  - name: ecs-cpu-redeploy
    match: {alarmName: "prod-*-cpu-high", namespace: AWS/ECS}
    action: ecs.redeploy
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}"}
    cooldown: 30m
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Rules[0].Name, p.Rules[0].Action, p.Rules[0].Match.State, p.Limits.MaxAttempts)

	_, err = remediate.ParsePolicy([]byte(`
optInTag: {key: ""}
rules:
  - name: reboot
    match: {namespace: AWS/EC2}
    action: ec2.reboot
    params: {instance: "{{.Dimensions.InstanceId}}"}
`))
	fmt.Println(err)
	// Output:
	// ecs-cpu-redeploy ecs.redeploy ALARM 3
	// invalid remediation policy: 3 problem(s):
	//   optInTag.key: required: only resources carrying this tag are ever acted on (e.g. postdeploy:remediate)
	//   rules[0].params.instanceId: required by ec2.reboot: the instance to reboot, e.g. {{.Dimensions.InstanceId}}
	//   rules[0].params.instance: unknown parameter of ec2.reboot (valid: instanceId)
}
