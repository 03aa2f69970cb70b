package remediate

import "fmt"

// Tag is the opt-in tag: only resources carrying Key with Value are ever
// acted on.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (t Tag) String() string { return t.Key + "=" + t.Value }

// check reports whether tags carry t, and what was observed.
func (t Tag) check(tags map[string]string) (bool, string) {
	v, ok := tags[t.Key]
	switch {
	case !ok:
		return false, fmt.Sprintf("no tag %q (opt in by tagging it %s)", t.Key, t)
	case v != t.Value:
		return false, fmt.Sprintf("tag %s=%s, not %s", t.Key, v, t)
	}
	return true, "tagged " + t.String()
}
