package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
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
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		errs.Add("", "not valid YAML or JSON: %v", err)
		return Spec{}, errs
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		errs.Add("", "not valid YAML or JSON: %v", err)
		return Spec{}, errs
	}
	w := walker{vars: vars}
	clean, ok := w.walk("", tree, reflect.TypeFor[Spec]())
	errs = append(errs, w.errs...)
	var s Spec
	if ok {
		b, err := json.Marshal(clean)
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil {
			// The walker has already dropped every value that would fail;
			// reaching here is a bug in the walker, reported, not hidden.
			errs.Add("", "internal error decoding spec: %v", err)
		}
	}
	s = s.WithDefaults()
	// A value the decoder rejected was dropped; don't also call it missing.
	decoded := map[string]bool{}
	for _, e := range errs {
		decoded[e.Path] = true
		if strings.Contains(e.Msg, "unknown check kind") {
			decoded[parentPath(e.Path)+"#kind"] = true // the typo is the missing kind
		}
	}
	for _, e := range s.Validate() {
		if decoded[e.Path] || (decoded[e.Path+"#kind"] && strings.HasPrefix(e.Msg, "no check kind")) {
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

// walker checks a generic JSON tree against a Go type, collecting every
// problem and dropping bad values so the final decode cannot fail.
type walker struct {
	vars map[string]string
	errs Errors
}

var varPattern = regexp.MustCompile(`#\{([^{}]*)\}`)

func (w *walker) walk(path string, v any, t reflect.Type) (any, bool) {
	if v == nil {
		return nil, false // null: treated as absent
	}
	if s, ok := v.(string); ok {
		before := len(w.errs)
		v = w.interpolate(path, s)
		if len(w.errs) > before {
			return nil, false // reported; don't pile a second error on the raw text
		}
	}
	if u, ok := reflect.New(t).Interface().(json.Unmarshaler); ok {
		b, _ := json.Marshal(v)
		if err := u.UnmarshalJSON(b); err != nil {
			w.errs.Add(path, "%v", err)
			return nil, false
		}
		return v, true
	}
	switch t.Kind() {
	case reflect.Pointer:
		return w.walk(path, v, t.Elem())
	case reflect.Struct:
		return w.walkStruct(path, v, t)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			w.errs.Add(path, "must be a map of names to values, got %s", describe(v))
			return nil, false
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			if cv, ok := w.walk(Field(path, k), m[k], t.Elem()); ok {
				out[k] = cv
			}
		}
		return out, true
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			w.errs.Add(path, "must be a list, got %s", describe(v))
			return nil, false
		}
		out := make([]any, 0, len(l))
		for i, e := range l {
			cv, ok := w.walk(Index(path, i), e, t.Elem())
			if !ok {
				cv = reflect.Zero(t.Elem()).Interface() // keep indexes stable
			}
			out = append(out, cv)
		}
		return out, true
	case reflect.String:
		if _, ok := v.(string); !ok {
			w.errs.Add(path, "must be a string, got %s (quote it)", describe(v))
			return nil, false
		}
		return v, true
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.errs.Add(path, "must be true or false, got %s", describe(v))
			return nil, false
		}
		return v, true
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			w.errs.Add(path, "must be a whole number, got %s", describe(v))
			return nil, false
		}
		if _, err := n.Int64(); err != nil {
			w.errs.Add(path, "must be a whole number, got %s", n)
			return nil, false
		}
		return n, true
	case reflect.Float64, reflect.Float32:
		n, ok := v.(json.Number)
		if !ok {
			w.errs.Add(path, "must be a number, got %s", describe(v))
			return nil, false
		}
		if _, err := n.Float64(); err != nil {
			w.errs.Add(path, "must be a number, got %s", n)
			return nil, false
		}
		return n, true
	case reflect.Interface:
		return v, true
	}
	w.errs.Add(path, "internal error: unsupported field type %s", t)
	return nil, false
}

func (w *walker) walkStruct(path string, v any, t reflect.Type) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.errs.Add(path, "must be an object with fields, got %s", describe(v))
		return nil, false
	}
	fields := jsonFields(t)
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		ft, known := fields[k]
		if !known {
			w.errs.Add(Field(path, k), "%s", unknownField(k, t, fields))
			continue
		}
		if cv, ok := w.walk(Field(path, k), m[k], ft); ok {
			out[k] = cv
		}
	}
	return out, true
}

// interpolate replaces #{NAME} with vars[NAME], reporting each unknown
// name. "##{" escapes a literal "#{".
func (w *walker) interpolate(path, s string) string {
	if !strings.Contains(s, "#{") {
		return s
	}
	const escaped = "\x00lit\x00"
	s = strings.ReplaceAll(s, "##{", escaped)
	s = varPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if v, ok := w.vars[name]; ok {
			return v
		}
		known := sortedKeys(w.vars)
		hint := "none are defined"
		if len(known) > 0 {
			hint = "defined: " + strings.Join(known, ", ")
		}
		w.errs.Add(path, "unresolved variable #{%s}: define it under \"variables\" in the action's UserParameters (%s)", name, hint)
		return m
	})
	return strings.ReplaceAll(s, escaped, "#{")
}

// jsonFields maps a struct's JSON names to their types, flattening
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func unknownField(k string, t reflect.Type, fields map[string]reflect.Type) string {
	names := sortedKeys(fields)
	if t == reflect.TypeFor[Check]() {
		var plain []string
		for _, n := range names {
			if !slices.Contains(Kinds, n) {
				plain = append(plain, n)
			}
		}
		msg := fmt.Sprintf("unknown check kind or field %q (kinds: %s; fields: %s)", k, strings.Join(Kinds, ", "), strings.Join(plain, ", "))
		if s := closest(k, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return msg
	}
	msg := fmt.Sprintf("unknown field %q (valid: %s)", k, strings.Join(names, ", "))
	if s := closest(k, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

// closest returns the candidate within two edits of s (case-insensitive),
// or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
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

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("the boolean %t (YAML reads unquoted yes/no/on/off/y/n as booleans)", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
