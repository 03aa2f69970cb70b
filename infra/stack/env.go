package stack

import (
	"github.com/postdeploy/postdeploy/pkg/config"
)

// Each function's environment, keyed by the constants in pkg/config so
// the names the stack sets are the names the functions read.

func (s *Stack) verifyEnv() map[string]string {
	return map[string]string{
		config.EnvEventBus: s.Props.EventBusName,
	}
}

func (s *Stack) remediateEnv() map[string]string {
	return map[string]string{}
}

func (s *Stack) respondEnv() map[string]string {
	return map[string]string{}
}
