package remediate

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/strict"
)

// MaxPolicyBytes caps a policy's size (an SSM advanced parameter holds at
// most 8 KiB; a file shipped with the function may be larger).
const MaxPolicyBytes = 256 << 10

// Policy is the remediation policy: which alarms get which action, and
// the limits that keep automation safe.
type Policy struct {
	// DryRun makes every rule describe its call instead of making it.
	DryRun bool `json:"dryRun,omitempty"`
	// OptInTag is the tag a resource must carry to be acted on,
	// checked through the resource's own service API. Required.
	OptInTag Tag `json:"optInTag"`
	// Limits apply across rules.
	Limits Limits `json:"limits,omitempty"`
	// Defaults apply to every rule that does not set its own.
	Defaults Defaults `json:"defaults,omitempty"`
	// RunbookBaseURL prefixes runbook ids in notifications.
	RunbookBaseURL string `json:"runbookBaseURL,omitempty"`
	// Rules are tried in order; the first that matches an alarm decides.
	Rules []Rule `json:"rules"`
	// Accounts lets alarms of member accounts be acted on (accounts.go).
	Accounts *AccountsPolicy `json:"accounts,omitempty"`
}

// Limits are the global safety limits.
type Limits struct {
	// GlobalPerHour caps actions across all rules per clock hour.
	GlobalPerHour int `json:"globalPerHour,omitempty"`
	// BlastRadius caps the resources one alarm may act on; an event
	// that would touch more acts on none.
	BlastRadius int `json:"blastRadius,omitempty"`
	// MaxAttempts is how many failed attempts an incident gets before
	// it is escalated and automation stops acting on it.
	MaxAttempts int `json:"maxAttempts,omitempty"`
}

// Defaults are per-rule settings a rule may override.
type Defaults struct {
	Cooldown       spec.Duration `json:"cooldown,omitempty"`
	MaxPerHour     int           `json:"maxPerHour,omitempty"`
	VerifyTimeout  spec.Duration `json:"verifyTimeout,omitempty"`
	VerifyInterval spec.Duration `json:"verifyInterval,omitempty"`
	Notify         string        `json:"notify,omitempty"`
}

// Rule maps matching alarms to one action.
type Rule struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Match       Match  `json:"match"`
	Action      string `json:"action"`
	// Params are the action's parameters: literal text and references
	// to the alarm's fields in Go template syntax, e.g.
	// "{{.Dimensions.ServiceName}}" (see template.go for the forms).
	Params map[string]string `json:"params,omitempty"`
	// DryRun makes this rule describe its call instead of making it.
	DryRun bool `json:"dryRun,omitempty"`
	// Cooldown is the least time between two actions of this rule on
	// one resource.
	Cooldown *spec.Duration `json:"cooldown,omitempty"`
	// MaxPerHour caps this rule's actions per clock hour.
	MaxPerHour *int `json:"maxPerHour,omitempty"`
	// VerifyTimeout bounds the wait for the action to take (0: do not
	// wait for the alarm; the action's own check still runs once).
	VerifyTimeout  *spec.Duration `json:"verifyTimeout,omitempty"`
	VerifyInterval *spec.Duration `json:"verifyInterval,omitempty"`
	// Notify is the topic kind for this rule's decisions.
	Notify string `json:"notify,omitempty"`
	// Runbook is a runbook id (notify.Runbooks) for the notifications.
	Runbook string `json:"runbook,omitempty"`

	params map[string]*paramTemplate
}

// Match selects alarms. Every field set must match; globs use path.Match
// syntax ("prod-*-5xx").
type Match struct {
	AlarmName  string            `json:"alarmName,omitempty"`
	Namespace  string            `json:"namespace,omitempty"`
	Metric     string            `json:"metric,omitempty"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// State is the new state to act on: ALARM (default) or
	// INSUFFICIENT_DATA.
	State string `json:"state,omitempty"`
	// Tags must all be on the alarm (read with cloudwatch
	// ListTagsForResource only when a rule that otherwise matches has
	// tags to check).
	Tags map[string]string `json:"tags,omitempty"`
}

// Policy defaults.
const (
	DefaultGlobalPerHour  = 20
	DefaultBlastRadius    = 5
	DefaultMaxAttempts    = 3
	DefaultCooldown       = 30 * time.Minute
	DefaultMaxPerHour     = 3
	DefaultVerifyTimeout  = 5 * time.Minute
	DefaultVerifyInterval = 15 * time.Second
	DefaultNotify         = notify.Infrastructure
	DefaultOptInValue     = "true"
)

// Error is one problem in a policy, at a path such as
// "rules[2].params.service".
type Error struct{ Path, Msg string }

func (e Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors are every problem found in a policy.
type Errors []Error

func (es *Errors) add(p, format string, args ...any) {
	*es = append(*es, Error{Path: p, Msg: fmt.Sprintf(format, args...)})
}

func (es Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid remediation policy: %d problem(s):", len(es))
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// ParsePolicy decodes a policy in YAML or JSON, strictly: every unknown
// field, wrong type, unknown action, missing or unknown parameter, bad
// template and bad glob is reported with its path, all at once.
func ParsePolicy(data []byte) (*Policy, error) {
	var errs Errors
	if len(data) > MaxPolicyBytes {
		errs.add("", "policy is %d bytes; the limit is %d", len(data), MaxPolicyBytes)
		return nil, errs
	}
	if len(bytes.TrimSpace(data)) == 0 {
		errs.add("", "policy is empty: it needs optInTag and rules")
		return nil, errs
	}
	p := &Policy{}
	for _, pr := range strict.Decode(data, p, strict.Options{ScalarsAsStrings: true}) {
		errs = append(errs, Error(pr))
	}
	p.defaults()
	p.validate(&errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func (p *Policy) defaults() {
	if p.OptInTag.Value == "" {
		p.OptInTag.Value = DefaultOptInValue
	}
	if p.Limits.GlobalPerHour == 0 {
		p.Limits.GlobalPerHour = DefaultGlobalPerHour
	}
	if p.Limits.BlastRadius == 0 {
		p.Limits.BlastRadius = DefaultBlastRadius
	}
	if p.Limits.MaxAttempts == 0 {
		p.Limits.MaxAttempts = DefaultMaxAttempts
	}
	d := &p.Defaults
	if d.Cooldown == 0 {
		d.Cooldown = spec.Duration(DefaultCooldown)
	}
	if d.MaxPerHour == 0 {
		d.MaxPerHour = DefaultMaxPerHour
	}
	if d.VerifyTimeout == 0 {
		d.VerifyTimeout = spec.Duration(DefaultVerifyTimeout)
	}
	if d.VerifyInterval == 0 {
		d.VerifyInterval = spec.Duration(DefaultVerifyInterval)
	}
	if d.Notify == "" {
		d.Notify = string(DefaultNotify)
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Match.State == "" {
			r.Match.State = contract.StateAlarm
		}
	}
}

func (p *Policy) validate(errs *Errors) {
	if p.OptInTag.Key == "" {
		errs.add("optInTag.key", "required: only resources carrying this tag are ever acted on (e.g. postdeploy:remediate)")
	}
	for _, l := range []struct {
		path string
		v    int
	}{{"limits.globalPerHour", p.Limits.GlobalPerHour}, {"limits.blastRadius", p.Limits.BlastRadius}, {"limits.maxAttempts", p.Limits.MaxAttempts}, {"defaults.maxPerHour", p.Defaults.MaxPerHour}} {
		if l.v < 0 {
			errs.add(l.path, "%d: must be positive", l.v)
		}
	}
	if !validKind(p.Defaults.Notify) {
		errs.add("defaults.notify", "unknown kind %q (valid: %s)", p.Defaults.Notify, kindList())
	}
	if len(p.Rules) == 0 {
		errs.add("rules", "required: at least one rule")
	}
	seen := map[string]int{}
	for i := range p.Rules {
		p.Rules[i].validate(errs, fmt.Sprintf("rules[%d]", i), seen, i)
	}
	p.Accounts.validate(errs)
}

func (r *Rule) validate(errs *Errors, at string, seen map[string]int, i int) {
	switch {
	case r.Name == "":
		errs.add(at+".name", "required: the rule's name appears in the audit and keys its cooldowns")
	case strings.ContainsAny(r.Name, "# \t\n"):
		errs.add(at+".name", "%q: must not contain '#' or spaces", r.Name)
	default:
		if j, dup := seen[r.Name]; dup {
			errs.add(at+".name", "%q is also the name of rules[%d]: names must be unique", r.Name, j)
		}
		seen[r.Name] = i
	}
	m := r.Match
	if m.AlarmName == "" && m.Namespace == "" && m.Metric == "" && len(m.Dimensions) == 0 {
		errs.add(at+".match", "set at least one of alarmName, namespace, metric, dimensions: a rule must not match every alarm")
	}
	for _, g := range []struct{ path, glob string }{{"alarmName", m.AlarmName}, {"namespace", m.Namespace}, {"metric", m.Metric}} {
		if _, err := path.Match(g.glob, ""); err != nil {
			errs.add(at+".match."+g.path, "%q is not a valid glob: %v", g.glob, err)
		}
	}
	for _, k := range strict.SortedKeys(m.Dimensions) {
		if _, err := path.Match(m.Dimensions[k], ""); err != nil {
			errs.add(at+".match.dimensions."+k, "%q is not a valid glob: %v", m.Dimensions[k], err)
		}
	}
	if m.State != contract.StateAlarm && m.State != contract.StateInsufficientData {
		errs.add(at+".match.state", "%q: must be ALARM or INSUFFICIENT_DATA (an OK transition closes the incident by itself)", m.State)
	}
	if r.Notify != "" && !validKind(r.Notify) {
		errs.add(at+".notify", "unknown kind %q (valid: %s)", r.Notify, kindList())
	}
	if r.Runbook != "" {
		if _, ok := notify.Runbooks[r.Runbook]; !ok {
			errs.add(at+".runbook", "unknown runbook %q (valid: %s)", r.Runbook, strings.Join(strict.SortedKeys(notify.Runbooks), ", "))
		}
	}
	if r.Cooldown != nil && *r.Cooldown < spec.Duration(time.Second) {
		errs.add(at+".cooldown", "%s: must be at least 1s", r.Cooldown)
	}
	if r.MaxPerHour != nil && *r.MaxPerHour < 1 {
		errs.add(at+".maxPerHour", "%d: must be at least 1 (remove the rule to disable it)", *r.MaxPerHour)
	}
	if r.VerifyInterval != nil && *r.VerifyInterval < spec.Duration(time.Second) {
		errs.add(at+".verifyInterval", "%s: must be at least 1s", r.VerifyInterval)
	}
	if r.Action == "" {
		errs.add(at+".action", "required: one of %s", strings.Join(Names(), ", "))
		return
	}
	act, err := NewAction(r.Action, Clients{})
	if err != nil {
		errs.add(at+".action", "%v", err)
		return
	}
	specs := act.Params()
	for _, ps := range specs {
		if _, ok := r.Params[ps.Name]; ps.Required && !ok {
			errs.add(at+".params."+ps.Name, "required by %s: %s", r.Action, ps.Doc)
		}
	}
	r.params = map[string]*paramTemplate{}
	for _, k := range strict.SortedKeys(r.Params) {
		pp := at + ".params." + k
		if _, ok := matchParam(specs, k); !ok {
			errs.add(pp, "unknown parameter of %s (valid: %s)", r.Action, strings.Join(paramNames(specs), ", "))
			continue
		}
		t, err := parseParamTemplate(pp, r.Params[k])
		if err != nil {
			errs.add(pp, "%v", err)
			continue
		}
		r.params[k] = t
	}
	if pc, ok := act.(ParamChecker); ok {
		probs := pc.CheckParams(Params(r.Params))
		for _, k := range strict.SortedKeys(probs) {
			errs.add(at+".params."+k, "%s", probs[k])
		}
	}
}

// render fills the rule's parameter templates from the alarm.
func (r *Rule) render(a Alarm) (Params, error) {
	out := Params{}
	for _, k := range strict.SortedKeys(r.Params) {
		t := r.params[k]
		if t == nil { // a policy not built by ParsePolicy
			var err error
			if t, err = parseParamTemplate(k, r.Params[k]); err != nil {
				return nil, fmt.Errorf("rule %s: params.%s: %w", r.Name, k, err)
			}
		}
		s, err := t.execute(a)
		if err != nil {
			return nil, fmt.Errorf("rule %s: params.%s %q: %w", r.Name, k, r.Params[k], err)
		}
		v := strings.TrimSpace(s)
		if v == "" {
			return nil, fmt.Errorf("rule %s: params.%s %q is empty for alarm %s (its dimensions: %s)", r.Name, k, r.Params[k], a.Name, strings.Join(dimensionNames(a.Dimensions), ", "))
		}
		out[k] = v
	}
	return out, nil
}

func (p *Policy) cooldown(r *Rule) time.Duration {
	if r.Cooldown != nil {
		return r.Cooldown.D()
	}
	return p.Defaults.Cooldown.D()
}

func (p *Policy) maxPerHour(r *Rule) int {
	if r.MaxPerHour != nil {
		return *r.MaxPerHour
	}
	return p.Defaults.MaxPerHour
}

func (p *Policy) verifyTimeout(r *Rule) time.Duration {
	if r.VerifyTimeout != nil {
		return r.VerifyTimeout.D()
	}
	return p.Defaults.VerifyTimeout.D()
}

func (p *Policy) verifyInterval(r *Rule) time.Duration {
	if r.VerifyInterval != nil {
		return r.VerifyInterval.D()
	}
	return p.Defaults.VerifyInterval.D()
}

func (p *Policy) notifyKind(r *Rule) notify.Kind {
	if r.Notify != "" {
		return notify.Kind(r.Notify)
	}
	return notify.Kind(p.Defaults.Notify)
}
