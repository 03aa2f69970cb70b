package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file applies Amazon SNS subscription filter policies the way the
// Amazon SNS Developer Guide documents them, strictly: a policy SNS would
// refuse is refused, and a message SNS would not deliver is not
// delivered. The pages it follows:
//
//   - "Amazon SNS message filtering" and "Filter policy scope"
//     (https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html):
//     FilterPolicyScope is MessageAttributes (the default) or MessageBody;
//     a MessageBody policy assumes the payload is a well-formed JSON object.
//   - "Amazon SNS subscription filter policies"
//     (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html):
//     every property name in the policy must match (AND), and for each at
//     least one of its values must (OR).
//   - "Filter policy constraints in Amazon SNS"
//     (https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html):
//     at most five keys (for a nested MessageBody policy only the parent
//     keys count), at most 150 combinations of values, numbers between
//     -10^9 and 10^9 with five decimal digits, no nesting for
//     MessageAttributes, attributes compared only when String,
//     String.Array or Number (Binary is ignored), 256 KB at most.
//   - "Key matching"
//     (https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html):
//     exists works on leaf nodes only; "exists": true needs a non-null,
//     non-empty value; "exists": false "only matches if at least one
//     attribute is present. An empty set of attributes results in the
//     filter not matching."
//   - "String value matching"
//     (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html):
//     exact (case-sensitive), prefix, suffix, equals-ignore-case,
//     anything-but (a value, a list, or {"prefix"|"suffix": …}) and cidr;
//     each element of a String.Array is matched on its own, and
//     anything-but matches an array holding any element it does not list.
//   - "Numeric value matching"
//     (https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html):
//     {"numeric": ["=", n]} and ranges with <, <=, >, >= (at most one
//     lower and one upper bound), and numeric anything-but.
//
// Not implemented, refused with an error naming it: the "$or" operator
// and wildcard matching. The suite uses neither.

// The filter policy scopes (the FilterPolicyScope subscription attribute).
const (
	ScopeMessageAttributes = "MessageAttributes"
	ScopeMessageBody       = "MessageBody"
)

// Filter policy limits from "Filter policy constraints in Amazon SNS".
const (
	maxFilterPolicyKeys         = 5
	maxFilterPolicyCombinations = 150
	maxFilterPolicyBytes        = 256 * 1024
	maxFilterNumber             = 1e9
)

// MessageAttribute is one SNS message attribute as Publish takes it.
type MessageAttribute struct {
	// DataType is String, String.Array, Number or Binary, optionally
	// with a custom suffix ("Number.float"); the part before the first
	// '.' after the base type decides how it is compared.
	DataType    string
	StringValue string
}

// FilterPolicy is a subscription filter policy SNS would accept, ready
// to match messages.
type FilterPolicy struct {
	scope string
	root  map[string]any
}

// Scope is the policy's FilterPolicyScope.
func (p *FilterPolicy) Scope() string { return p.scope }

// ParseFilterPolicy checks policy (the FilterPolicy subscription
// attribute, JSON) against SNS's constraints for scope ("" means
// MessageAttributes, SNS's default) and returns it ready to match. The
// error names what SNS would refuse and why.
func ParseFilterPolicy(policy, scope string) (*FilterPolicy, error) {
	switch scope {
	case "":
		scope = ScopeMessageAttributes
	case ScopeMessageAttributes, ScopeMessageBody:
	default:
		return nil, fmt.Errorf("FilterPolicyScope %q: must be %s or %s", scope, ScopeMessageAttributes, ScopeMessageBody)
	}
	if len(policy) > maxFilterPolicyBytes {
		return nil, fmt.Errorf("FilterPolicy: %d bytes; the limit is %d", len(policy), maxFilterPolicyBytes)
	}
	if !utf8.ValidString(policy) {
		return nil, errors.New("FilterPolicy: not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(policy))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("FilterPolicy: not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("FilterPolicy: text after the JSON object")
	}
	if len(root) == 0 {
		return nil, errors.New("FilterPolicy: empty; remove the policy to receive every message")
	}
	if len(root) > maxFilterPolicyKeys {
		return nil, fmt.Errorf("FilterPolicy: %d keys; a filter policy can have at most %d", len(root), maxFilterPolicyKeys)
	}
	combos, err := checkPolicyNode(root, scope, "")
	if err != nil {
		return nil, err
	}
	if combos > maxFilterPolicyCombinations {
		return nil, fmt.Errorf("FilterPolicy: %d combinations of values; the limit is %d", combos, maxFilterPolicyCombinations)
	}
	return &FilterPolicy{scope: scope, root: root}, nil
}

// checkPolicyNode validates one object level and returns the number of
// value combinations beneath it (the product of the arrays' lengths).
func checkPolicyNode(node map[string]any, scope, at string) (int, error) {
	combos := 1
	for _, k := range sortedKeys(node) {
		path := at + k
		if strings.HasPrefix(k, "$") {
			return 0, fmt.Errorf("FilterPolicy.%s: the %s operator is not supported by the stand-in", path, k)
		}
		switch v := node[k].(type) {
		case []any:
			if err := checkConditions(v, path); err != nil {
				return 0, err
			}
			combos *= len(v)
		case map[string]any:
			if scope != ScopeMessageBody {
				return 0, fmt.Errorf("FilterPolicy.%s: nested policies apply to FilterPolicyScope MessageBody only", path)
			}
			if len(v) == 0 {
				return 0, fmt.Errorf("FilterPolicy.%s: empty object", path)
			}
			n, err := checkPolicyNode(v, scope, path+".")
			if err != nil {
				return 0, err
			}
			combos *= n
		default:
			return 0, fmt.Errorf("FilterPolicy.%s: must be an array of values%s, e.g. [\"a\", {\"prefix\": \"b\"}]",
				path, map[bool]string{true: " or a nested object", false: ""}[scope == ScopeMessageBody])
		}
	}
	return combos, nil
}

func checkConditions(conds []any, path string) error {
	if len(conds) == 0 {
		return fmt.Errorf("FilterPolicy.%s: empty array; list at least one value", path)
	}
	for i, c := range conds {
		at := fmt.Sprintf("FilterPolicy.%s[%d]", path, i)
		switch c := c.(type) {
		case string, bool, nil:
		case json.Number:
			if err := checkNumber(c, at); err != nil {
				return err
			}
		case map[string]any:
			if err := checkOperator(c, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: %v is not a string, number, true, false, null or operator object", at, c)
		}
	}
	return nil
}

func checkNumber(n json.Number, at string) error {
	f, err := n.Float64()
	if err != nil || math.Abs(f) > maxFilterNumber {
		return fmt.Errorf("%s: %s is outside -1e9..1e9, the range SNS filters on", at, n)
	}
	return nil
}

func checkOperator(op map[string]any, at string) error {
	if len(op) != 1 {
		return fmt.Errorf("%s: an operator object holds exactly one operator, got %d keys", at, len(op))
	}
	for name, arg := range op {
		switch name {
		case "prefix", "suffix", "equals-ignore-case":
			if s, ok := arg.(string); !ok || s == "" {
				return fmt.Errorf("%s: %s takes a non-empty string", at, name)
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return fmt.Errorf("%s: exists takes true or false", at)
			}
		case "cidr":
			s, _ := arg.(string)
			if _, err := netip.ParsePrefix(s); err != nil {
				return fmt.Errorf("%s: cidr takes an IP prefix such as 10.0.0.0/24: %w", at, err)
			}
		case "numeric":
			if _, err := parseNumericRange(arg); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
		case "anything-but":
			if err := checkAnythingBut(arg, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unknown operator %q; SNS filter operators are prefix, suffix, equals-ignore-case, anything-but, numeric, exists and cidr", at, name)
		}
	}
	return nil
}

func checkAnythingBut(arg any, at string) error {
	switch a := arg.(type) {
	case string:
		return nil
	case json.Number:
		return checkNumber(a, at)
	case []any:
		if len(a) == 0 {
			return fmt.Errorf("%s: anything-but takes a non-empty list", at)
		}
		for _, v := range a {
			switch v := v.(type) {
			case string:
			case json.Number:
				if err := checkNumber(v, at); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s: anything-but lists strings or numbers, got %v", at, v)
			}
		}
		return nil
	case map[string]any:
		if len(a) == 1 {
			for k, v := range a {
				if s, ok := v.(string); ok && s != "" && (k == "prefix" || k == "suffix") {
					return nil
				}
			}
		}
		return fmt.Errorf("%s: anything-but takes a value, a list, or {\"prefix\": s} or {\"suffix\": s}", at)
	}
	return fmt.Errorf("%s: anything-but takes a value, a list, or {\"prefix\": s} or {\"suffix\": s}", at)
}

// numericRange is one {"numeric": [...]} condition.
type numericRange struct {
	eq           *float64
	lo, hi       *float64
	loInc, hiInc bool
}

func parseNumericRange(arg any) (numericRange, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return numericRange{}, errors.New(`numeric takes operator/value pairs, e.g. ["=", 301.5] or [">", 0, "<=", 150]`)
	}
	var r numericRange
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		n, isNum := list[i+1].(json.Number)
		if !isNum {
			return numericRange{}, fmt.Errorf("numeric: %v after %q is not a number", list[i+1], op)
		}
		f, err := n.Float64()
		if err != nil || math.Abs(f) > maxFilterNumber {
			return numericRange{}, fmt.Errorf("numeric: %s is outside -1e9..1e9", n)
		}
		switch op {
		case "=":
			if len(list) != 2 {
				return numericRange{}, errors.New(`numeric: "=" stands alone`)
			}
			r.eq = &f
		case ">", ">=":
			if r.lo != nil {
				return numericRange{}, errors.New("numeric: two lower bounds")
			}
			r.lo, r.loInc = &f, op == ">="
		case "<", "<=":
			if r.hi != nil {
				return numericRange{}, errors.New("numeric: two upper bounds")
			}
			r.hi, r.hiInc = &f, op == "<="
		default:
			return numericRange{}, fmt.Errorf("numeric: unknown operator %q; use =, <, <=, > or >=", op)
		}
	}
	if r.lo != nil && r.hi != nil && *r.lo > *r.hi {
		return numericRange{}, errors.New("numeric: the lower bound is above the upper bound")
	}
	return r, nil
}

func (r numericRange) match(v float64) bool {
	v = round5(v)
	if r.eq != nil {
		return v == round5(*r.eq)
	}
	if r.lo != nil {
		lo := round5(*r.lo)
		if v < lo || (v == lo && !r.loInc) {
			return false
		}
	}
	if r.hi != nil {
		hi := round5(*r.hi)
		if v > hi || (v == hi && !r.hiInc) {
			return false
		}
	}
	return true
}

// round5 keeps the five decimal digits SNS compares numbers with.
func round5(f float64) float64 { return math.Round(f*1e5) / 1e5 }

// Matches reports whether SNS would deliver a message with this body and
// these attributes to a subscription with this policy.
func (p *FilterPolicy) Matches(message string, attrs map[string]MessageAttribute) bool {
	if p.scope == ScopeMessageBody {
		return matchBody(p.root, message)
	}
	return matchAttributes(p.root, attrs)
}

// matchAttributes applies a MessageAttributes policy. Binary attributes
// are ignored, and an empty set of attributes matches nothing, not even
// "exists": false.
func matchAttributes(policy map[string]any, attrs map[string]MessageAttribute) bool {
	present := map[string][]any{}
	for name, a := range attrs {
		vals, ok := attributeValues(a)
		if ok {
			present[name] = vals
		}
	}
	if len(present) == 0 {
		return false
	}
	for k, conds := range policy {
		vals, ok := present[k]
		list, _ := conds.([]any) // ParseFilterPolicy allows only arrays here
		if !matchLeaf(list, vals, ok) {
			return false
		}
	}
	return true
}

// attributeValues are the values an attribute is compared by, or false
// for a type SNS does not filter on (Binary).
func attributeValues(a MessageAttribute) ([]any, bool) {
	base, _, _ := strings.Cut(a.DataType, ".")
	switch {
	case a.DataType == "String.Array" || strings.HasPrefix(a.DataType, "String.Array."):
		dec := json.NewDecoder(strings.NewReader(a.StringValue))
		dec.UseNumber()
		var list []any
		if err := dec.Decode(&list); err != nil {
			return nil, true // an unparsable array matches no value condition
		}
		return list, true
	case base == "String":
		return []any{a.StringValue}, true
	case base == "Number":
		return []any{json.Number(strings.TrimSpace(a.StringValue))}, true
	}
	return nil, false
}

// matchBody applies a MessageBody policy to a JSON object payload.
func matchBody(policy map[string]any, message string) bool {
	dec := json.NewDecoder(strings.NewReader(message))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil || body == nil || dec.More() {
		return false
	}
	return matchBodyNode(policy, body)
}

func matchBodyNode(policy, body map[string]any) bool {
	for k, want := range policy {
		got, ok := body[k]
		switch want := want.(type) {
		case map[string]any:
			obj, isObj := got.(map[string]any)
			if !isObj || !matchBodyNode(want, obj) {
				return false
			}
		case []any:
			var vals []any
			present := ok && !isEmptyValue(got)
			switch g := got.(type) {
			case []any:
				vals = g
			case map[string]any:
				vals = nil // a leaf condition does not look into an object
			default:
				vals = []any{g}
			}
			if !matchLeaf(want, vals, present) {
				return false
			}
		}
	}
	return true
}

// isEmptyValue: "exists": true needs a non-null and non-empty value.
func isEmptyValue(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	}
	return false
}

// matchLeaf reports whether any condition matches: exists against
// presence, every other condition against any of the values.
func matchLeaf(conds []any, vals []any, present bool) bool {
	for _, c := range conds {
		if op, ok := c.(map[string]any); ok {
			if e, ok := op["exists"]; ok {
				if want, _ := e.(bool); want == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range vals {
			if matchValue(c, v) {
				return true
			}
		}
	}
	return false
}

func matchValue(cond, v any) bool {
	switch c := cond.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == c
	case json.Number:
		n, ok := number(v)
		cf, _ := c.Float64()
		return ok && round5(n) == round5(cf)
	case bool:
		b, ok := v.(bool)
		return ok && b == c
	case nil:
		return v == nil
	case map[string]any:
		for name, arg := range c {
			return matchOperator(name, arg, v)
		}
	}
	return false
}

func matchOperator(name string, arg, v any) bool {
	s, isStr := v.(string)
	a, _ := arg.(string) // ParseFilterPolicy checked the operators' arguments
	switch name {
	case "prefix":
		return isStr && strings.HasPrefix(s, a)
	case "suffix":
		return isStr && strings.HasSuffix(s, a)
	case "equals-ignore-case":
		return isStr && strings.EqualFold(s, a)
	case "cidr":
		ip, err := netip.ParseAddr(s)
		pfx, _ := netip.ParsePrefix(a)
		return isStr && err == nil && pfx.Contains(ip)
	case "numeric":
		n, ok := number(v)
		r, _ := parseNumericRange(arg)
		return ok && r.match(n)
	case "anything-but":
		return anythingBut(arg, v)
	}
	return false
}

func anythingBut(arg, v any) bool {
	switch a := arg.(type) {
	case map[string]any:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if p, ok := a["prefix"].(string); ok {
			return !strings.HasPrefix(s, p)
		}
		suffix, _ := a["suffix"].(string)
		return !strings.HasSuffix(s, suffix)
	case []any:
		for _, x := range a {
			if matchValue(x, v) {
				return false
			}
		}
		return true
	default:
		return !matchValue(a, v)
	}
}

// number reads a numeric value: a JSON number, or a Number attribute.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}
