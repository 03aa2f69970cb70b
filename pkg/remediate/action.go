package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Param describes one parameter an action takes. A Name ending in "*" is
// a prefix: "parameters.*" accepts "parameters.InstanceId".
type Param struct {
	Name     string
	Required bool
	Doc      string
}

// Params are a rule's parameters after templating against the alarm.
type Params map[string]string

// Target is one resource an action would act on.
type Target struct {
	// Type is the kind of resource ("ecs-service", "ec2-instance", ...);
	// ID names it within the account and region ("prod/api",
	// "i-0abc..."). Cooldowns are per rule and Type/ID.
	Type, ID string
	// ARN is the resource's ARN where the action needs one (tag reads).
	ARN string
}

func (t Target) String() string { return t.Type + " " + t.ID }

// Call is the exact API call an action makes: what a dry run reports and
// what Do executes, so the two never differ.
type Call struct {
	// API is the IAM action name of the call, e.g. "ecs:UpdateService".
	API string
	// Input is the SDK input, e.g. *ecs.UpdateServiceInput.
	Input any
	// Note says, for a person, what the call will do and why.
	Note string
}

// String renders the call as its API name and its input as compact JSON
// without empty fields: `ecs:UpdateService {"Cluster":"prod",...}`.
func (c Call) String() string {
	b, err := json.Marshal(c.Input)
	if err != nil {
		return c.API + " (input not renderable: " + err.Error() + ")"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return c.API + " " + string(b)
	}
	b, _ = json.Marshal(prune(v))
	return c.API + " " + string(b)
}

// prune drops nulls, false, empty strings, lists and objects, which the
// SDK's input structs carry for every unset field.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = prune(e); e != nil {
				out[k] = e
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if e = prune(e); e != nil {
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	}
	return v
}

// Result is what a call returned, for the audit and for verification.
type Result struct {
	// Summary says what happened ("deployment ecs-svc/123 started").
	Summary string
	// Ref identifies what the call started, if anything (a deployment
	// id, an automation execution id), for Verify.
	Ref string
}

// Action is one kind of remediation.
type Action interface {
	// Permissions are the IAM actions the action needs, reads included.
	Permissions() []string
	// Params describes the parameters a rule gives it.
	Params() []Param
	// Targets names the resources the action would act on.
	Targets(a Alarm, p Params) ([]Target, error)
	// OptedIn reports whether t carries the opt-in tag, read through
	// the service's own API, and what it observed (for the audit).
	OptedIn(ctx context.Context, t Target, tag Tag) (ok bool, observed string, err error)
	// Plan works out the exact call (reading state if it must, never
	// changing it). skip is non-empty when there is nothing to do
	// ("already at maximum 10 tasks").
	Plan(ctx context.Context, t Target, p Params) (c Call, skip string, err error)
	// Do makes the planned call.
	Do(ctx context.Context, c Call) (Result, error)
}

// Verifier is implemented by actions that can check that their effect
// took (the service stable, the capacity reached). done is true once it
// has; observed says what was seen either way.
type Verifier interface {
	Verify(ctx context.Context, t Target, c Call, r Result) (done bool, observed string, err error)
}

// ErrFailed marks a verification that has ended in failure (an
// automation that failed, a rollback that did not start): waiting longer
// will not change it.
var ErrFailed = errors.New("remediation failed")

// ParamChecker is implemented by actions that can check literal (not
// templated) parameter values at policy load.
type ParamChecker interface {
	CheckParams(p Params) map[string]string // param → problem
}

// mustInput returns c.Input as T, or an error naming the mismatch (a bug:
// Plan and Do of one action disagree).
func mustInput[T any](c Call) (T, error) {
	in, ok := c.Input.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("internal error: %s call carries %T, want %s", c.API, c.Input, reflect.TypeOf(zero))
	}
	return in, nil
}

func matchParam(specs []Param, name string) (Param, bool) {
	for _, p := range specs {
		if p.Name == name || (strings.HasSuffix(p.Name, "*") && strings.HasPrefix(name, strings.TrimSuffix(p.Name, "*")) && len(name) > len(p.Name)-1) {
			return p, true
		}
	}
	return Param{}, false
}

func paramNames(specs []Param) []string {
	out := make([]string, len(specs))
	for i, p := range specs {
		out[i] = p.Name
	}
	sort.Strings(out)
	return out
}

func isTemplate(v string) bool { return strings.Contains(v, "{{") }
