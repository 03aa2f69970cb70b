package strict

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type inner struct {
	Host string `json:"host"`
}

type doc struct {
	inner
	Name    string            `json:"name"`
	Count   int               `json:"count,omitempty"`
	Ratio   float64           `json:"ratio,omitempty"`
	On      bool              `json:"enabled,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Items   []inner           `json:"items,omitempty"`
	Skipped string            `json:"-"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		opts  Options
		want  doc
		paths []string
	}{
		{"clean", "name: a\nhost: h\ncount: 2\nratio: 0.5\nenabled: true\ntags: {k: v}\nitems: [{host: x}]", Options{},
			doc{inner: inner{Host: "h"}, Name: "a", Count: 2, Ratio: 0.5, On: true, Tags: map[string]string{"k": "v"}, Items: []inner{{Host: "x"}}}, nil},
		{"every problem at once", "name: 3\ncount: two\nratio: x\nenabled: maybe\ntags: [1]\nitems: [{hots: x}, {host: web}]\nextra: 1", Options{},
			doc{Items: []inner{{}, {Host: "web"}}}, []string{"count", "enabled", "extra", "items[0].hots", "name", "ratio", "tags"}},
		{"scalars as strings", "name: 3\ntags: {enabled: yes, n2: 2}", Options{ScalarsAsStrings: true},
			doc{Name: "3", Tags: map[string]string{"enabled": "true", "n2": "2"}}, nil},
		{"string hook drops what it rejects", "name: bad\nhost: ok", Options{String: func(p, s string) (string, []Problem) {
			if s == "bad" {
				return "", []Problem{{Path: p, Msg: "no"}}
			}
			return strings.ToUpper(s), nil
		}}, doc{inner: inner{Host: "OK"}}, []string{"name"}},
		{"not yaml", "name: [", Options{}, doc{}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			probs := Decode([]byte(tt.in), &got, tt.opts)
			var paths []string
			for _, p := range probs {
				paths = append(paths, p.Path)
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("Decode(%q) problem paths (-want +got):\n%s\n%v", tt.in, diff, probs)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(doc{})); diff != "" {
				t.Errorf("Decode(%q) value (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestUnknownFieldHint(t *testing.T) {
	var d doc
	probs := Decode([]byte("namme: a"), &d, Options{})
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, `did you mean "name"?`) {
		t.Errorf("Decode(namme) = %v; want a did-you-mean hint", probs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: a\nitems: [{host: x}]\ntags: {a: b}"))
	f.Add([]byte(`{"count": 1e400, "ratio": "1", "items": {"a": 1}}`))
	f.Add([]byte("name: a\nname: b\nitems: [{host: x, host: y}]"))
	f.Add([]byte(`{"tags":{"k":"1","k":"2"},"name":"a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		probs := Decode(data, &d, Options{ScalarsAsStrings: true}) // must not panic
		// Strict means strict: a document with a duplicated key never
		// decodes cleanly.
		if len(DuplicateKeys(data)) > 0 && len(probs) == 0 {
			t.Fatalf("Decode(%q) reported nothing; DuplicateKeys found %v", data, DuplicateKeys(data))
		}
	})
}
