package strict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	yaml "go.yaml.in/yaml/v2"
)

// maxDepth bounds how deeply nested a document DuplicateKeys walks, as
// encoding/json bounds Unmarshal (10000).
const maxDepth = 10000

// DuplicateKeys reports every key set more than once in the same object
// of data (YAML or JSON), at its path, e.g. checks[0].http.headers.Authorization.
// YAML and JSON decoders silently keep the last value of a duplicated key,
// so a strict decoder must look at the document itself: JSON with a
// json.Decoder token walk, YAML through yaml.v2's ordered MapSlice (which
// keeps every key as written; keys a merge (<<) brings in are not
// compared).
func DuplicateKeys(data []byte) []Problem {
	if json.Valid(data) {
		return jsonDuplicates(data)
	}
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // not a mapping at the top, or not YAML: Decode reports it
	}
	var probs []Problem
	yamlDuplicates("", doc, 0, &probs)
	return probs
}

func duplicate(path, key string) Problem {
	return Problem{Path: Field(path, key), Msg: fmt.Sprintf("duplicate key %q: it is set more than once in the same object, and only the last would count; keep one", key)}
}

func yamlDuplicates(path string, v any, depth int, probs *[]Problem) {
	if depth > maxDepth {
		return
	}
	switch x := v.(type) {
	case yaml.MapSlice:
		seen := make(map[string]bool, len(x))
		for _, it := range x {
			k := yamlKey(it.Key)
			if seen[k] {
				*probs = append(*probs, duplicate(path, k))
			}
			seen[k] = true
			yamlDuplicates(Field(path, k), it.Value, depth+1, probs)
		}
	case []any:
		for i, e := range x {
			yamlDuplicates(Index(path, i), e, depth+1, probs)
		}
	}
}

// yamlKey spells a YAML key as the JSON conversion does (1 → "1",
// true → "true").
func yamlKey(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(k)
}

// jsonDuplicates walks valid JSON token by token, without recursion.
func jsonDuplicates(data []byte) []Problem {
	type frame struct {
		path   string
		object bool
		seen   map[string]bool
		index  int
		key    string // the key whose value comes next (objects)
		hasKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var (
		stack []*frame
		probs []Problem
	)
	// valuePath is where the next value sits, and advances the frame.
	valuePath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			f.hasKey = false
			return Field(f.path, f.key)
		}
		p := Index(f.path, f.index)
		f.index++
		return p
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return probs
		}
		if err != nil {
			return probs // json.Valid said otherwise; Decode reports it
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; f.object && !f.hasKey {
				if k, ok := tok.(string); ok {
					if f.seen[k] {
						probs = append(probs, duplicate(f.path, k))
					}
					f.seen[k] = true
					f.key, f.hasKey = k, true
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxDepth {
				return probs
			}
			p := valuePath()
			stack = append(stack, &frame{path: p, object: tok == json.Delim('{'), seen: map[string]bool{}})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			valuePath()
		}
	}
}
