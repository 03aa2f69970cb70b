package remediate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Clients are the SDK clients actions use; main builds them once. A nil
// client is fine for actions no rule uses.
type Clients struct {
	EC2         EC2API
	ECS         ECSAPI
	AutoScaling AutoScalingAPI
	CodeDeploy  CodeDeployAPI
	Lambda      LambdaAPI
	SSM         SSMAPI
	Notify      Notifier
}

// NewClients builds every SDK client the actions use from one
// aws.Config (call it once per cold start, in main). functions/remediate
// and functions/respond share it.
func NewClients(cfg aws.Config, n Notifier) Clients {
	return Clients{
		EC2:         ec2.NewFromConfig(cfg),
		ECS:         ecs.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		CodeDeploy:  codedeploy.NewFromConfig(cfg),
		Lambda:      lambda.NewFromConfig(cfg),
		SSM:         ssm.NewFromConfig(cfg),
		Notify:      n,
	}
}

// Factory builds an action on the given clients.
type Factory func(Clients) Action

// registry is every action a policy may name. Adding an action means one
// line here; an unknown name in a policy is an error listing these.
var registry = map[string]Factory{
	"ec2.reboot":            func(c Clients) Action { return ec2Reboot{c.EC2} },
	"ecs.redeploy":          func(c Clients) Action { return ecsRedeploy{c.ECS} },
	"ecs.scale":             func(c Clients) Action { return ecsScale{c.ECS} },
	"asg.scale":             func(c Clients) Action { return asgScale{c.AutoScaling} },
	"codedeploy.rollback":   func(c Clients) Action { return codedeployRollback{c.CodeDeploy} },
	"lambda.rollback-alias": func(c Clients) Action { return lambdaRollbackAlias{c.Lambda} },
	"ssm.runbook":           func(c Clients) Action { return ssmRunbook{c.SSM, c.EC2} },
	"notify":                func(c Clients) Action { return notifyAction{c.Notify} },
}

// EnginePermissions are the IAM actions the engine itself needs besides
// its actions': reading alarm state to verify an outcome and alarm tags
// for rules that match on them. (Publishing to the topics and the state
// table are granted on those resources by the stack.)
var EnginePermissions = []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"}

// Names lists the registered action names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewAction builds the named action; an unknown name is an error that
// lists the valid ones.
func NewAction(name string, c Clients) (Action, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown action %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return f(c), nil
}

// Actions builds every registered action on c.
func Actions(c Clients) map[string]Action {
	out := make(map[string]Action, len(registry))
	for n, f := range registry {
		out[n] = f(c)
	}
	return out
}

// Permissions is the union of every registered action's IAM actions and
// EnginePermissions, sorted: the stack builds remediate's role from it,
// so least privilege has one source.
func Permissions() []string {
	set := map[string]bool{}
	for _, p := range EnginePermissions {
		set[p] = true
	}
	for _, a := range Actions(Clients{}) {
		for _, p := range a.Permissions() {
			set[p] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
