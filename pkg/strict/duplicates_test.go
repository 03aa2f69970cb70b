package strict

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDuplicateKeys(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		paths []string
	}{
		{"yaml top level", "name: a\nname: b\n", []string{"name"}},
		{"yaml nested", "tags:\n  k: 1\n  k: 2\n", []string{"tags.k"}},
		{"yaml in a list", "items:\n  - {host: a, host: b}\n  - host: c\n    host: d\n", []string{"items[0].host", "items[1].host"}},
		{"yaml flow mapping", "{a: 1, b: {c: 1, c: 2}}", []string{"b.c"}},
		{"yaml key spelled as a number and a string", "tags: {1: a, \"1\": b}", []string{"tags.1"}},
		{"yaml three times", "a: 1\na: 2\na: 3\n", []string{"a", "a"}},
		{"yaml merge is not a duplicate", "base: &b {host: x}\nitem:\n  <<: *b\n  host: y\n", nil},
		{"yaml same key in different objects", "a: {k: 1}\nb: {k: 2}\n", nil},
		{"yaml clean", "name: a\nitems: [{host: x}, {host: y}]\n", nil},
		{"json top level", `{"name":"a","name":"b"}`, []string{"name"}},
		{"json nested in arrays", `{"items":[{"host":"a"},{"host":"a","host":"b"}],"x":[[{"k":1,"k":2}]]}`, []string{"items[1].host", "x[0][0].k"}},
		{"json escaped spelling", `{"ab":1,"a\u0062":2}`, []string{"ab"}},
		{"json keys with dots", `{"tags":{"a.b":1,"a.b":2}}`, []string{"tags.a.b"}},
		{"json clean", `{"a":{"k":1},"b":{"k":2},"c":[1,{"k":3}]}`, nil},
		{"json top level array", `[{"a":1,"a":2}]`, []string{"[0].a"}},
		{"not yaml", "a: [", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			for _, p := range DuplicateKeys([]byte(tt.in)) {
				paths = append(paths, p.Path)
				if !strings.HasPrefix(p.Msg, "duplicate key ") {
					t.Errorf("DuplicateKeys(%q) message %q; want it to name the duplicate key", tt.in, p.Msg)
				}
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("DuplicateKeys(%q) paths (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestDecodeReportsDuplicates: Decode reports a duplicated key with the
// other problems, at its path, naming the key.
func TestDecodeReportsDuplicates(t *testing.T) {
	for _, in := range []string{"name: a\ncount: x\nname: b\n", `{"name":"a","count":"x","name":"b"}`} {
		var d doc
		probs := Decode([]byte(in), &d, Options{})
		var got []string
		for _, p := range probs {
			got = append(got, p.Path+": "+p.Msg)
		}
		joined := strings.Join(got, "\n")
		if !strings.Contains(joined, `name: duplicate key "name"`) || !strings.Contains(joined, "count: must be a whole number") {
			t.Errorf("Decode(%q) = %q; want the duplicate name and the bad count", in, got)
		}
	}
}

func FuzzDuplicateKeys(f *testing.F) {
	for _, s := range []string{
		"a: 1\na: 2\n", `{"a":1,"a":2}`, "x: [{k: 1, k: 2}]", `[[{"k":1,"k":2}]]`,
		"b: &b {h: x}\ni: {<<: *b, h: y}", `{"a\u0062":1,"ab":2}`, "1: a\n\"1\": b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range DuplicateKeys(data) { // must not panic
			if !strings.HasPrefix(p.Msg, "duplicate key ") {
				t.Fatalf("DuplicateKeys(%q) = %+v; want duplicate-key problems only", data, p)
			}
		}
	})
}
