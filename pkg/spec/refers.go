package spec

import "bytes"

// Refers reports whether data refers to the variable name as #{NAME}
// anywhere in its text, by the rules Parse substitutes with ("##{" is a
// literal "#{", spaces inside the braces are trimmed). It reads the text
// as written, YAML comments included, so it can over-report but never
// misses a reference Parse would substitute. A caller uses it to compute
// a variable that costs AWS calls only for a spec that uses it.
func Refers(data []byte, name string) bool {
	if !bytes.Contains(data, []byte(name)) {
		return false
	}
	found := false
	scanVars(string(data), nil, func(string) {}, func(_, n, _ string, _ bool) {
		if n == name {
			found = true
		}
	})
	return found
}
