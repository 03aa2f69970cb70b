package main

import pdconfig "github.com/postdeploy/postdeploy/pkg/config"

// suiteAlarmPrefixEnv is respond's POSTDEPLOY_SUITE_ALARM_PREFIX as the
// stack sets it for the demo stack (infra/stack respondEnv): the suite's
// own alarms (PostdeployDemo-…) notify the escalation topic through their
// alarm actions, and respond leaves them to those.
func suiteAlarmPrefixEnv() string {
	return pdconfig.EnvSuiteAlarmPrefix + "=" + pdconfig.SuiteAlarmPrefix(DemoStack)
}
