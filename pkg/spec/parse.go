package spec

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

// MaxSpecBytes caps a spec's size: a spec is a page of YAML, and the
// parser must not be a way to exhaust the function's memory.
const MaxSpecBytes = 256 << 10

// Parse decodes a spec written in YAML or JSON, strictly: every unknown
// field, key set twice, wrong type, bad duration and unresolved variable
// is reported, each with its path, in one spec.Errors — none repeating a
// secret the spec carries (SecretValues). Strings may use #{NAME} to take a
// value from vars (the "variables" of the action's UserParameters). The
// result has defaults applied and has passed Validate.
func Parse(data []byte, vars map[string]string) (Spec, error) {
	s, errs := ParseAll(data, vars)
	if len(errs) > 0 {
		return Spec{}, errs
	}
	return s, nil
}

// ParseAll is Parse for tools that check a spec further: it returns the
// spec as far as it decoded (defaults applied, every rejected value
// dropped) together with every problem, so postdeploy lint can also build
// the samplers of the checks that have none and report their problems
// (expressions, rule names) in the same round. A spec with problems must
// never be run.
func ParseAll(data []byte, vars map[string]string) (Spec, Errors) {
	var errs Errors
	if len(data) > MaxSpecBytes {
		errs.Add("", "spec is %d bytes; the limit is %d: split it or drop unused checks", len(data), MaxSpecBytes)
		return Spec{}.WithDefaults(), errs
	}
	if len(bytes.TrimSpace(data)) == 0 {
		errs.Add("", "spec is empty: it needs at least a checks list")
		return Spec{}.WithDefaults(), errs
	}
	var s Spec
	x := &expansion{size: len(data)}
	for _, p := range strict.Decode(data, &s, strict.Options{
		String:       func(path, v string) (string, []strict.Problem) { return x.interpolate(path, v, vars) },
		UnknownField: unknownField,
		Secret:       secretPath.MatchString,
	}) {
		errs = append(errs, FieldError(p))
	}
	s = s.WithDefaults()
	if len(errs) == 1 && errs[0].Path == "" && strings.HasPrefix(errs[0].Msg, msgNotYAML) {
		// Nothing decoded: validating the empty spec would only add noise
		// ("at least one check is required").
		return s, errs
	}
	// A value the decoder rejected was dropped; don't also call it missing.
	decoded := map[string]bool{}
	for _, e := range errs {
		decoded[e.Path] = true
		if strings.HasPrefix(e.Msg, msgUnknownKind) {
			decoded[parentPath(e.Path)+"#kind"] = true // the typo is the missing kind
		}
	}
	for _, e := range s.Validate() {
		if decoded[e.Path] || (decoded[e.Path+"#kind"] && strings.HasPrefix(e.Msg, msgNoKind)) {
			continue
		}
		errs = append(errs, e)
	}
	sort.SliceStable(errs, func(i, j int) bool { return pathLess(errs[i].Path, errs[j].Path) })
	if len(errs) > 0 {
		// No message repeats a secret the spec carries (a header value, a
		// credential in a URL), whichever check quoted it.
		r := s.Redactor()
		for i := range errs {
			errs[i].Msg = r.String(errs[i].Msg)
		}
	}
	return s, errs
}

// secretPath matches the paths whose values may be secrets: the headers
// an http check sends, its body, and the URLs probed. Decoding problems
// there name the value's type, not the value.
var secretPath = regexp.MustCompile(`^checks\[\d+\]\.(http\.(headers(\..*)?|body|url)|headers\.url)$`)

// expansion is the size budget of one Parse's #{VAR} substitution: the
// spec as it will be after substitution must fit MaxSpecBytes too, or a
// few hundred bytes of variables repeated across a 256 KiB spec could
// build hundreds of megabytes.
type expansion struct {
	// size is the spec's size after the substitutions made so far.
	size int
	// over is set once the limit is passed; later strings are left alone
	// (the spec is refused anyway, with one error).
	over bool
}

// interpolate replaces #{NAME} with vars[NAME], reporting each unknown
// name. "##{" escapes a literal "#{". It sizes the result before building
// it and refuses one that would take the spec past MaxSpecBytes.
func (x *expansion) interpolate(path, s string, vars map[string]string) (string, []strict.Problem) {
	if !strings.Contains(s, "#{") || x.over {
		return s, nil
	}
	// First pass: the result's length and the unknown names, nothing built.
	var probs []strict.Problem
	n := 0
	scanVars(s, vars, func(lit string) { n += len(lit) }, func(ref, name string, v string, ok bool) {
		if ok {
			n += len(v)
			return
		}
		n += len(ref)
		hint := "none are defined"
		if known := strict.SortedKeys(vars); len(known) > 0 {
			hint = "defined: " + strings.Join(known, ", ")
		}
		probs = append(probs, strict.Problem{Path: path, Msg: fmt.Sprintf("unresolved variable #{%s}: define it under \"variables\" in the action's UserParameters (%s)", name, hint)})
	})
	if len(probs) > 0 {
		return s, probs
	}
	if grown := x.size + n - len(s); grown > MaxSpecBytes {
		x.over = true
		return s, []strict.Problem{{Path: path, Msg: fmt.Sprintf("with its #{VAR} variables substituted the spec would be over %d bytes (256 KiB, the limit for a spec as written and as expanded); substitution stopped here: use fewer or shorter variables", MaxSpecBytes)}}
	}
	x.size += n - len(s)
	var b strings.Builder
	b.Grow(n)
	scanVars(s, vars, func(lit string) { b.WriteString(lit) }, func(ref, _ string, v string, ok bool) {
		if ok {
			b.WriteString(v)
		} else {
			b.WriteString(ref)
		}
	})
	return b.String(), nil
}

// scanVars walks s once, calling lit for literal text and ref for each
// #{NAME} reference (with its value, if vars has it). "##{" is the
// literal "#{"; a "#{" with no "}" before the next "{" is literal text.
func scanVars(s string, vars map[string]string, lit func(string), ref func(ref, name, value string, ok bool)) {
	start := 0 // start of pending literal text
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "##{"):
			lit(s[start:i])
			lit("#{")
			i += 3
			start = i
		case strings.HasPrefix(s[i:], "#{"):
			end := strings.IndexAny(s[i+2:], "{}")
			if end < 0 || s[i+2+end] != '}' {
				i++
				continue
			}
			lit(s[start:i])
			m := s[i : i+2+end+1]
			name := strings.TrimSpace(m[2 : len(m)-1])
			v, ok := vars[name]
			ref(m, name, v, ok)
			i += len(m)
			start = i
		default:
			i++
		}
	}
	lit(s[start:])
}

// The two messages Parse relates: a typo'd kind is reported once, not
// again as a check with no kind.
const (
	msgNotYAML     = "not valid YAML or JSON"
	msgUnknownKind = "unknown check kind or field"
	msgNoKind      = "no check kind"
)

// unknownField explains an unknown key inside a check: usually a check
// kind spelled wrong.
func unknownField(t reflect.Type, k string, valid []string) string {
	if t != reflect.TypeFor[Check]() {
		return "" // the default message
	}
	var plain []string
	for _, n := range valid {
		if !slices.Contains(Kinds, n) {
			plain = append(plain, n)
		}
	}
	msg := fmt.Sprintf(msgUnknownKind+" %q (kinds: %s; fields: %s)", k, strings.Join(Kinds, ", "), strings.Join(plain, ", "))
	if s := strict.Closest(k, valid); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// pathLess orders paths as they appear in a spec: field by field, list
// indexes by number, so checks[2] comes before checks[10].
func pathLess(a, b string) bool {
	ta, tb := pathTokens(a), pathTokens(b)
	for i := 0; i < len(ta) && i < len(tb); i++ {
		if ta[i] == tb[i] {
			continue
		}
		na, ea := strconv.Atoi(ta[i])
		nb, eb := strconv.Atoi(tb[i])
		if ea == nil && eb == nil {
			return na < nb
		}
		return topOrder(ta[i]) < topOrder(tb[i]) || (topOrder(ta[i]) == topOrder(tb[i]) && ta[i] < tb[i])
	}
	return len(ta) < len(tb)
}

func pathTokens(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '[' || r == ']' })
}

// topOrder puts a spec's top-level fields in the order a spec is written.
func topOrder(tok string) int {
	switch tok {
	case "bake":
		return 0
	case "interval":
		return 1
	case "checks":
		return 2
	case "limits":
		return 3
	}
	return 4
}
