package stack

import (
	"fmt"
	"sort"
)

// OpenPrincipals walks a synthesized template and returns where an Allow
// statement names "*" as its principal (Principal "*" or {"AWS": "*"})
// without narrowing it to the organization with aws:PrincipalOrgID — the
// only "*" principal the suite's templates may have. Tests of the central
// and member stacks call it on their templates.
func OpenPrincipals(template map[string]any) []string {
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["Effect"] == "Allow" && star(x["Principal"]) && !orgScoped(x["Condition"]) {
				out = append(out, path)
			}
			for k, c := range x {
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", template)
	sort.Strings(out)
	return out
}

func star(p any) bool {
	switch x := p.(type) {
	case string:
		return x == "*"
	case map[string]any:
		for _, v := range x {
			if star(v) {
				return true
			}
			if vs, ok := v.([]any); ok {
				for _, e := range vs {
					if star(e) {
						return true
					}
				}
			}
		}
	}
	return false
}

func orgScoped(c any) bool {
	m, ok := c.(map[string]any)
	if !ok {
		return false
	}
	eq, ok := m["StringEquals"].(map[string]any)
	return ok && eq["aws:PrincipalOrgID"] != nil
}
