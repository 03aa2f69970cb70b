package config

import (
	"errors"
	"fmt"
	"strings"
)

// CodeDeploy lifecycle hooks (verify answers them; see pkg/verify/hook.go).
const (
	// EnvHookSpecPrefix is the SSM parameter path under which a
	// deployment group's hook spec lives, as
	// <prefix><application>/<deployment group> (default
	// DefaultHookSpecPrefix). The stack sets it to its spec parameter
	// prefix + "codedeploy/", inside what verify may read.
	EnvHookSpecPrefix     = "POSTDEPLOY_HOOK_SPEC_PREFIX"
	DefaultHookSpecPrefix = "/postdeploy/codedeploy/"
	// EnvLambdaFunctionName is set by Lambda itself to the function's
	// name ("Defined runtime environment variables",
	// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
	// verify invokes itself by it to carry a hook's bake past one
	// invocation.
	EnvLambdaFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
)

// Hooks is verify's configuration for CodeDeploy lifecycle hooks.
type Hooks struct {
	SpecPrefix string
	// StateTable holds the hook claims (optional: without it CodeDeploy's
	// own refusal of a second status is the only guard; EnvStateTable).
	StateTable string
	// FunctionName is the function's own name (EnvLambdaFunctionName);
	// without it a bake cannot hand over to another invocation.
	FunctionName string
}

// LoadHooks reads the hook configuration, every problem joined.
func LoadHooks(getenv Getenv) (Hooks, error) {
	h := Hooks{
		SpecPrefix:   strings.TrimSpace(getenv(EnvHookSpecPrefix)),
		StateTable:   strings.TrimSpace(getenv(EnvStateTable)),
		FunctionName: strings.TrimSpace(getenv(EnvLambdaFunctionName)),
	}
	if h.SpecPrefix == "" {
		h.SpecPrefix = DefaultHookSpecPrefix
	}
	var errs []error
	if !strings.HasPrefix(h.SpecPrefix, "/") || !strings.HasSuffix(h.SpecPrefix, "/") {
		errs = append(errs, fmt.Errorf("%s=%q: must start and end with \"/\" (an SSM parameter path, e.g. %s)", EnvHookSpecPrefix, h.SpecPrefix, DefaultHookSpecPrefix))
	}
	return h, errors.Join(errs...)
}
