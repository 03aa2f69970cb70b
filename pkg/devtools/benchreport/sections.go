package main

import (
	"os"
	"strings"
)

// Marked sections: other tools write their own section of BENCHMARKS.md
// between "<!-- section:NAME:begin … -->" and "<!-- section:NAME:end -->"
// (pkg/devtools/triagebench writes "triage-at-scale"). benchreport
// rewrites the file from scratch and keeps those sections, at the end,
// as they were.

const (
	sectionBegin = "<!-- section:"
	sectionEnd   = ":end -->"
)

// keptSections returns the marked sections of the file at path, each
// whole with its markers, in file order ("" when none or no file).
func keptSections(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return markedSections(string(b))
}

func markedSections(s string) string {
	var out []string
	for {
		i := strings.Index(s, sectionBegin)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], sectionEnd)
		if j < 0 {
			break // a section with no end marker is not kept whole: left out
		}
		out = append(out, s[i:i+j+len(sectionEnd)])
		s = s[i+j+len(sectionEnd):]
	}
	if len(out) == 0 {
		return ""
	}
	return "\n" + strings.Join(out, "\n\n") + "\n"
}
