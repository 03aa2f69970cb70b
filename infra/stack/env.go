package stack

import (
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// Each function's environment, keyed by the constants in pkg/config so
// the names the stack sets are the names the functions read. Unset
// variables take the function's default.

func (s *Stack) verifyEnv() map[string]string {
	return map[string]string{
		config.EnvEventBus:       *s.Bus.EventBusName(),
		config.EnvTokenKeySecret: *s.TokenKey.SecretArn(),
	}
}

// sharedEnv is what remediate and respond both read: every kind's topic
// and the state table. Called after topics() and table().
func (s *Stack) sharedEnv() map[string]string {
	env := map[string]string{config.EnvStateTable: *s.Table.TableName()}
	for _, k := range notify.Kinds {
		env[config.TopicEnv(k)] = *s.Topics[k].TopicArn()
	}
	return env
}

// remediationEnv configures the remediation engine.
func (s *Stack) remediationEnv(env map[string]string) {
	env[config.EnvRemediationPolicy] = s.Props.RemediationPolicy
	if s.Props.RemediateDryRun {
		env[config.EnvRemediateDryRun] = "true"
	}
}

func (s *Stack) remediateEnv() map[string]string {
	env := s.sharedEnv()
	s.remediationEnv(env)
	return env
}

func (s *Stack) respondEnv() map[string]string {
	env := s.sharedEnv()
	env[config.EnvRollbackPolicy] = s.Props.RollbackPolicy
	// respond rolls back only after CodePipeline confirms that this
	// function's Invoke action failed (pkg/respond/confirm.go). Called
	// after verify is built.
	env[config.EnvVerifyFunction] = *s.Verify.FunctionName()
	// The suite's own alarms (suiteAlarms) notify the escalation topic
	// through their alarm actions; respond leaves them to those.
	env[config.EnvSuiteAlarmPrefix] = config.SuiteAlarmPrefix(*s.StackName())
	// Explicit either way, so the switch never depends on respond's
	// default.
	env[config.EnvRemediateAlarms] = "false"
	if s.Props.RespondRemediates {
		env[config.EnvRemediateAlarms] = "true"
		s.remediationEnv(env)
	}
	return env
}
