package spec

import (
	"regexp"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// Pos is a place in a spec's text: line and column counted from 1. The
// zero Pos means the place is not known.
type Pos struct {
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// IsZero reports whether the place is not known.
func (p Pos) IsZero() bool { return p.Line == 0 }

// Positions maps the paths of a spec (checks[2].http.url, as problems
// name them) to where they are written: a field's key, a list item's
// first character. The empty path is the document.
type Positions map[string]Pos

// maxLocateDepth bounds how deeply nested a document Locate walks.
const maxLocateDepth = 1000

// Locate reads where every path of a spec written in YAML or JSON (JSON is
// YAML) is written, so a problem can name its line. It is best effort and
// never fails: a document that does not parse, or is over MaxSpecBytes,
// gives no positions (Parse reports why), and aliases (*name) are not
// followed — what they bring in is located at its anchor.
func Locate(data []byte) Positions {
	pos := Positions{}
	if len(data) > MaxSpecBytes {
		return pos
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return pos
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	locate(pos, "", root, 0)
	// An empty value at the end ("---", "a:") is placed on the line after
	// the last; keep every position inside the document.
	last := lineCount(data)
	for k, p := range pos {
		if p.Line > last {
			pos[k] = Pos{Line: last, Column: 1}
		}
	}
	return pos
}

func locate(pos Positions, path string, n *yaml.Node, depth int) {
	if n == nil || depth > maxLocateDepth {
		return
	}
	if _, seen := pos[path]; !seen {
		pos[path] = Pos{Line: n.Line, Column: n.Column}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				continue
			}
			p := Field(path, k.Value)
			if _, seen := pos[p]; !seen { // a key set twice: the first
				pos[p] = Pos{Line: k.Line, Column: k.Column}
			}
			locate(pos, p, v, depth+1)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			locate(pos, Index(path, i), e, depth+1)
		}
	}
}

// At returns where path is written or, for a path that is not (a
// required field left out), where its nearest written parent is; the
// zero Pos when not even the document is known.
func (p Positions) At(path string) Pos {
	for {
		if at, ok := p[path]; ok {
			return at
		}
		if path == "" {
			return Pos{}
		}
		path = parentOf(path)
	}
}

// parentOf strips a path's last field or index: checks[2].http → checks[2]
// → checks → "".
func parentOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.':
			return path[:i]
		case '[':
			return path[:i]
		}
	}
	return ""
}

// yamlLine finds the line a YAML or JSON syntax error names.
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// ErrorLine returns the line a problem's message names ("not valid YAML
// or JSON: yaml: line 3: …"), or 0 — for problems with no path.
func ErrorLine(msg string) int {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// lineCount is how many lines data has as YAML counts them: a line ends
// at \n, \r\n or a lone \r.
func lineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			n++
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			n++
		}
	}
	return n
}
