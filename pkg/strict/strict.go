// Package strict decodes YAML or JSON that people write — verification
// specs, remediation policies — into Go types strictly, reporting every
// problem at once, each with its path (checks[2].http.url: …), instead of
// stopping at the first. Unknown fields, keys set twice in one object,
// wrong types and values a type's UnmarshalJSON rejects (a bad duration)
// are all reported; the bad values are dropped so the rest still decodes
// and can be validated.
package strict

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Problem is one thing wrong at a path.
type Problem struct {
	Path string
	Msg  string
}

// Options adjust decoding.
type Options struct {
	// String, when set, rewrites every string value (e.g. to interpolate
	// variables); a value it reports problems for is dropped.
	String func(path, s string) (string, []Problem)
	// UnknownField, when set, writes the message for an unknown field of
	// struct type t; valid lists t's fields.
	UnknownField func(t reflect.Type, field string, valid []string) string
	// ScalarsAsStrings accepts numbers and booleans where a string is
	// expected (YAML reads `value: true` and `step: 2` as non-strings;
	// for free-form text that is what the writer meant).
	ScalarsAsStrings bool
	// Secret, when set, names the paths whose values may be secrets (a
	// header a spec sends): problems there say what type a value has,
	// never what it is.
	Secret func(path string) bool
}

// Decode parses YAML or JSON data into out, a pointer to a struct. It
// returns every problem found — a key set twice in one object among them
// (DuplicateKeys) — and out holds whatever decoded cleanly.
func Decode(data []byte, out any, o Options) []Problem {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return []Problem{{Msg: fmt.Sprintf("not valid YAML or JSON: %v", err)}}
	}
	dups := DuplicateKeys(data)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return []Problem{{Msg: fmt.Sprintf("not valid YAML or JSON: %v", err)}}
	}
	w := walker{o: o, problems: dups}
	clean, ok := w.walk("", tree, reflect.TypeOf(out).Elem())
	if ok {
		b, err := json.Marshal(clean)
		if err == nil {
			err = json.Unmarshal(b, out)
		}
		if err != nil {
			// The walker has already dropped every value that would fail;
			// reaching here is a bug in the walker, reported, not hidden.
			w.add("", "internal error decoding: %v", err)
		}
	}
	return w.problems
}

type walker struct {
	o        Options
	problems []Problem
}

func (w *walker) add(path, format string, args ...any) {
	w.problems = append(w.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func (w *walker) walk(path string, v any, t reflect.Type) (any, bool) {
	if v == nil {
		return nil, false // null: treated as absent
	}
	if s, ok := v.(string); ok && w.o.String != nil {
		ns, probs := w.o.String(path, s)
		if len(probs) > 0 {
			w.problems = append(w.problems, probs...)
			return nil, false // reported; don't pile a second problem on the raw text
		}
		v = ns
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		b, _ := json.Marshal(v)
		u, ok := reflect.New(t).Interface().(json.Unmarshaler)
		if !ok {
			w.add(path, "internal error: %s does not unmarshal JSON", t)
			return nil, false
		}
		if err := u.UnmarshalJSON(b); err != nil {
			w.add(path, "%v", err)
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
			w.add(path, "must be a map of names to values, got %s", w.describe(path, v))
			return nil, false
		}
		out := make(map[string]any, len(m))
		for _, k := range SortedKeys(m) {
			if cv, ok := w.walk(Field(path, k), m[k], t.Elem()); ok {
				out[k] = cv
			}
		}
		return out, true
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			w.add(path, "must be a list, got %s", w.describe(path, v))
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
		switch x := v.(type) {
		case string:
			return x, true
		case json.Number, bool:
			if w.o.ScalarsAsStrings {
				return fmt.Sprint(x), true
			}
		}
		w.add(path, "must be a string, got %s (quote it)", w.describe(path, v))
		return nil, false
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.add(path, "must be true or false, got %s", w.describe(path, v))
			return nil, false
		}
		return v, true
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			w.add(path, "must be a whole number, got %s", w.describe(path, v))
			return nil, false
		}
		if _, err := n.Int64(); err != nil {
			w.add(path, "must be a whole number, got %s", w.describe(path, n))
			return nil, false
		}
		return n, true
	case reflect.Float64, reflect.Float32:
		n, ok := v.(json.Number)
		if !ok {
			w.add(path, "must be a number, got %s", w.describe(path, v))
			return nil, false
		}
		if _, err := n.Float64(); err != nil {
			w.add(path, "must be a number, got %s", w.describe(path, n))
			return nil, false
		}
		return n, true
	case reflect.Interface:
		return v, true
	}
	w.add(path, "internal error: unsupported field type %s", t)
	return nil, false
}

func (w *walker) walkStruct(path string, v any, t reflect.Type) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.add(path, "must be an object with fields, got %s", w.describe(path, v))
		return nil, false
	}
	fields := Fields(t)
	out := make(map[string]any, len(m))
	for _, k := range SortedKeys(m) {
		ft, known := fields[k]
		if !known {
			valid := SortedKeys(fields)
			msg := ""
			if w.o.UnknownField != nil {
				msg = w.o.UnknownField(t, k, valid)
			}
			if msg == "" {
				msg = fmt.Sprintf("unknown field %q (valid: %s)", k, strings.Join(valid, ", "))
				if s := Closest(k, valid); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
			}
			w.add(Field(path, k), "%s", msg)
			continue
		}
		if cv, ok := w.walk(Field(path, k), m[k], ft); ok {
			out[k] = cv
		}
	}
	return out, true
}

// Fields maps a struct's JSON names to their types, flattening embedded
// structs as encoding/json does.
func Fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range Fields(f.Type) { // embedded, even unexported: encoding/json flattens it
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// Closest returns the candidate within two edits of s (ignoring case),
// or "" — for "did you mean" hints.
func Closest(s string, candidates []string) string {
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

// describe is Describe, or only the value's type at a secret path.
func (w *walker) describe(path string, v any) string {
	if w.o.Secret != nil && w.o.Secret(path) {
		return DescribeType(v)
	}
	return Describe(v)
}

// DescribeType names a decoded value's type without its value.
func DescribeType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// Describe names a decoded value's type for messages.
func Describe(v any) string {
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

// SortedKeys returns m's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Index returns "prefix[i]".
func Index(prefix string, i int) string { return fmt.Sprintf("%s[%d]", prefix, i) }

// Field returns "prefix.name", or name when prefix is empty.
func Field(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
