package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/strict"
)

// The hook spec document: one SSM parameter per deployment group,
// <prefix><application>/<deployment group> (config.EnvHookSpecPrefix,
// default /postdeploy/codedeploy/), String or SecureString, YAML or JSON,
// holding one ordinary spec per hook:
//
//	hooks:
//	  AfterAllowTestTraffic:        # probe the green task set on the test listener
//	    bake: 2m
//	    interval: 15s
//	    checks:
//	      - name: green-health
//	        http: {url: "https://test.example.com:8443/health"}
//	  AfterAllowTraffic:
//	    bake: 10m
//	    checks: [...]
//
// One parameter per group rather than per hook, so a group's hooks are
// read, reviewed and versioned together (SSM keeps each parameter's
// history); the sections are what differ between hooks. It is decoded
// strictly: a key set twice anywhere, a top-level key other than
// "hooks", a section for a lifecycle event the deployment's compute
// platform does not hook (e.g. AfterInstall in a Lambda group's document)
// are each refused with their path. Only the running hook's section is
// parsed as a spec, with the hook's variables (#{DEPLOYMENT_ID}, …);
// its errors carry the section's path ("hooks.AfterAllowTestTraffic.checks[0]…").

const hookDocHelp = `a hook spec document is {"hooks": {"<lifecycle event>": <spec>, ...}}, e.g. hooks: {AfterAllowTestTraffic: {checks: [...]}}`

// hookSection returns the running hook's section of the document as
// JSON, or every problem found with the document's shape.
func hookSection(raw []byte, platformHooks []string, hook string) ([]byte, error) {
	var errs spec.Errors
	if len(raw) > spec.MaxSpecBytes {
		errs.Add("", "the hook spec document is %d bytes; the limit is %d", len(raw), spec.MaxSpecBytes)
		return nil, errs
	}
	for _, d := range strict.DuplicateKeys(raw) {
		errs.Add(d.Path, "%s", d.Msg)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		errs.Add("", "not valid YAML or JSON: %v; %s", err, hookDocHelp)
		return nil, errs
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil || top == nil {
		errs.Add("", "not an object; %s", hookDocHelp)
		return nil, errs
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if k != "hooks" {
			if m := strict.Closest(k, []string{"hooks"}); m != "" {
				errs.Add(k, "unknown key %q; did you mean %q? %s", k, m, hookDocHelp)
			} else {
				errs.Add(k, "unknown key %q: %s", k, hookDocHelp)
			}
		}
	}
	var hooks map[string]json.RawMessage
	if h, ok := top["hooks"]; !ok {
		errs.Add("hooks", "is missing: %s", hookDocHelp)
	} else if err := json.Unmarshal(h, &hooks); err != nil || hooks == nil {
		errs.Add("hooks", "must be an object of lifecycle event name to spec: %s", hookDocHelp)
	}
	all := append(slices.Clone(contract.ECSHooks), contract.LambdaHooks...)
	for _, k := range slices.Sorted(maps.Keys(hooks)) {
		if slices.Contains(platformHooks, k) {
			continue
		}
		valid := strings.Join(platformHooks, ", ")
		switch m := strict.Closest(k, all); {
		case slices.Contains(all, k):
			errs.Add(spec.Field("hooks", k), "this deployment group's compute platform does not run a %s hook; its hooks are %s", k, valid)
		case m != "":
			errs.Add(spec.Field("hooks", k), "unknown lifecycle event %q; did you mean %q? Hooks are %s", k, m, valid)
		default:
			errs.Add(spec.Field("hooks", k), "unknown lifecycle event %q; hooks are %s", k, valid)
		}
	}
	section, ok := hooks[hook]
	if !ok && len(errs) == 0 {
		have := slices.Sorted(maps.Keys(hooks))
		errs.Add(spec.Field("hooks", hook), "is missing: the deployment is running its %s hook, which calls this function, but the document has no spec for it (it has: %s); add one, or remove the hook from the AppSpec", hook, orNone(have))
	}
	if err := errs.Err(); err != nil {
		return nil, errs
	}
	if bytes.Equal(bytes.TrimSpace(section), []byte("null")) {
		errs.Add(spec.Field("hooks", hook), "is empty: it needs at least a checks list")
		return nil, errs
	}
	return section, nil
}

// inSection prefixes every path of a spec error with the hook's section.
func inSection(err error, hook string) error {
	var es spec.Errors
	if !errors.As(err, &es) {
		return err
	}
	out := make(spec.Errors, len(es))
	for i, e := range es {
		e.Path = strings.TrimSuffix(spec.Field("hooks", hook)+"."+e.Path, ".")
		out[i] = e
	}
	return out
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
