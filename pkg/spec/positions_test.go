package spec

import (
	"testing"
)

const locateYAML = `bake: 10m
checks:
  - name: api
    http:
      url: ftp://x
      timeout: 3s
  - name: alarms
    alarms: {prefix: prod-}
limits:
  failureLimit: -1
`

const locateJSON = `{
  "bake": "10m",
  "checks": [
    {"name": "api",
     "http": {"url": "ftp://x"}}
  ]
}`

func TestLocate(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		path string
		want Pos
	}{
		{"top-level key", locateYAML, "bake", Pos{1, 1}},
		{"list item", locateYAML, "checks[1]", Pos{7, 5}},
		{"nested key", locateYAML, "checks[0].http.url", Pos{5, 7}},
		{"flow mapping key", locateYAML, "checks[1].alarms.prefix", Pos{8, 14}},
		{"missing field: its parent", locateYAML, "checks[1].alarms.names", Pos{8, 5}},
		{"missing top-level field: the document", locateYAML, "interval", Pos{1, 1}},
		{"deep", locateYAML, "limits.failureLimit", Pos{10, 3}},
		{"JSON key", locateJSON, "checks[0].http.url", Pos{5, 15}},
		{"JSON item", locateJSON, "checks[0]", Pos{4, 5}},
		{"not YAML: nothing", "checks: [", "checks", Pos{}},
		{"empty", "", "checks", Pos{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Locate([]byte(tt.doc)).At(tt.path); got != tt.want {
				t.Errorf("Locate(%q).At(%q) = %+v; want %+v", tt.name, tt.path, got, tt.want)
			}
		})
	}
}

// Every problem Parse reports can be placed: its path, or a parent's, is
// written in the document.
func TestEveryProblemHasALine(t *testing.T) {
	_, errs := ParseAll([]byte(locateYAML), nil)
	if len(errs) == 0 {
		t.Fatal("ParseAll(locateYAML) found no problems; the test needs some")
	}
	pos := Locate([]byte(locateYAML))
	for _, e := range errs {
		if pos.At(e.Path).IsZero() {
			t.Errorf("problem %q has no line", e)
		}
	}
}

func TestErrorLine(t *testing.T) {
	_, errs := ParseAll([]byte("bake: 1m\nchecks:\n  - name: a\n   http: x\n"), nil)
	if len(errs) != 1 || errs[0].Path != "" {
		t.Fatalf("ParseAll(bad YAML) = %v; want one problem with no path", errs)
	}
	if got := ErrorLine(errs[0].Msg); got != 3 {
		t.Errorf("ErrorLine(%q) = %d; want 3 (where the YAML parser stopped)", errs[0].Msg, got)
	}
}

// FuzzLocate: Locate takes untrusted text; it must never panic, and every
// position it gives is inside the document.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{locateYAML, locateJSON, "a: &x [*x]", "<<: {a: 1}", "- [[[[", "checks:\n\t- x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := lineCount(data)
		for path, p := range Locate(data) {
			if p.Line < 0 || p.Line > lines || p.Column < 0 {
				t.Fatalf("Locate(%q)[%q] = %+v; outside the document's %d lines", data, path, p, lines)
			}
			Locate(data).At(path + ".x[3]")
		}
	})
}
