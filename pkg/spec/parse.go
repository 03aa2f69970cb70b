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
// field, wrong type, bad duration and unresolved variable is reported, each
// with its path, in one spec.Errors. Strings may use #{NAME} to take a
// value from vars (the "variables" of the action's UserParameters). The
// result has defaults applied and has passed Validate.
func Parse(data []byte, vars map[string]string) (Spec, error) {
	var errs Errors
	if len(data) > MaxSpecBytes {
		errs.Add("", "spec is %d bytes; the limit is %d: split it or drop unused checks", len(data), MaxSpecBytes)
		return Spec{}, errs
	}
	if len(bytes.TrimSpace(data)) == 0 {
		errs.Add("", "spec is empty: it needs at least a checks list")
		return Spec{}, errs
	}
	var s Spec
	for _, p := range strict.Decode(data, &s, strict.Options{
		String:       func(path, v string) (string, []strict.Problem) { return interpolate(path, v, vars) },
		UnknownField: unknownField,
	}) {
		errs = append(errs, FieldError(p))
	}
	s = s.WithDefaults()
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
	if err := errs.Err(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

var varPattern = regexp.MustCompile(`#\{([^{}]*)\}`)

// interpolate replaces #{NAME} with vars[NAME], reporting each unknown
// name. "##{" escapes a literal "#{".
func interpolate(path, s string, vars map[string]string) (string, []strict.Problem) {
	if !strings.Contains(s, "#{") {
		return s, nil
	}
	var probs []strict.Problem
	const escaped = "\x00lit\x00"
	s = strings.ReplaceAll(s, "##{", escaped)
	s = varPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if v, ok := vars[name]; ok {
			return v
		}
		hint := "none are defined"
		if known := strict.SortedKeys(vars); len(known) > 0 {
			hint = "defined: " + strings.Join(known, ", ")
		}
		probs = append(probs, strict.Problem{Path: path, Msg: fmt.Sprintf("unresolved variable #{%s}: define it under \"variables\" in the action's UserParameters (%s)", name, hint)})
		return m
	})
	return strings.ReplaceAll(s, escaped, "#{"), probs
}

// The two messages Parse relates: a typo'd kind is reported once, not
// again as a check with no kind.
const (
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
