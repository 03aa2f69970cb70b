package remediate

import (
	"errors"
	"fmt"
	"strings"
	"text/template/parse"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

// A parameter value keeps the {{...}} syntax of Go templates, but only
// two forms are evaluated — literal text and a reference to a field of
// the alarm — and they are evaluated here, not by text/template: its
// executor calls methods through reflection (reflect.Value.Method), which
// switches off the linker's dead-code elimination of methods and keeps
// every SDK client's every operation in the binary (12.7 MB zipped
// instead of 5.2 MB).

// scalarFields are the alarm's string fields a template may name.
var scalarFields = map[string]func(Alarm) string{
	"Name":       func(a Alarm) string { return a.Name },
	"ARN":        func(a Alarm) string { return a.ARN },
	"AccountID":  func(a Alarm) string { return a.AccountID },
	"Region":     func(a Alarm) string { return a.Region },
	"NewState":   func(a Alarm) string { return a.NewState },
	"OldState":   func(a Alarm) string { return a.OldState },
	"Reason":     func(a Alarm) string { return a.Reason },
	"Namespace":  func(a Alarm) string { return a.Namespace },
	"MetricName": func(a Alarm) string { return a.MetricName },
	"Rule":       func(a Alarm) string { return a.Rule },
}

// mapFields are the alarm's maps a template may index with .Map.Key.
var mapFields = map[string]func(Alarm) map[string]string{
	"Dimensions": func(a Alarm) map[string]string { return a.Dimensions },
	"Tags":       func(a Alarm) map[string]string { return a.Tags },
}

// templateForms describes what a parameter template may contain, for
// error messages.
func templateForms() string {
	var fs []string
	for _, f := range strict.SortedKeys(scalarFields) {
		fs = append(fs, "{{."+f+"}}")
	}
	return "literal text and " + strings.Join(fs, ", ") + ", {{.Dimensions.<name>}}, {{.Tags.<key>}}"
}

// tplPart is literal text, or (field set) a reference to an alarm field:
// field is the scalar field or map name, key the map key.
type tplPart struct {
	text       string
	field, key string
}

// paramTemplate is a parsed parameter value.
type paramTemplate struct {
	src   string
	parts []tplPart
}

// parseParamTemplate parses a parameter value. It refuses anything but
// literal text and alarm field references, naming the supported forms.
func parseParamTemplate(name, src string) (*paramTemplate, error) {
	tr := parse.New(name)
	tr.Mode = parse.SkipFuncCheck // a function is refused below, by name
	trees := map[string]*parse.Tree{}
	if _, err := tr.Parse(src, "", "", trees); err != nil {
		return nil, fmt.Errorf("bad template: %w", err)
	}
	if len(trees) > 1 {
		return nil, fmt.Errorf("{{define}} and {{block}} are not supported; supported: %s", templateForms())
	}
	t := &paramTemplate{src: src}
	if tr.Root == nil {
		return t, nil
	}
	for _, n := range tr.Root.Nodes {
		p, err := partOf(n)
		if err != nil {
			return nil, fmt.Errorf("%w; supported: %s", err, templateForms())
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

func partOf(n parse.Node) (tplPart, error) {
	switch x := n.(type) {
	case *parse.TextNode:
		return tplPart{text: string(x.Text)}, nil
	case *parse.ActionNode:
		return fieldOf(x)
	case *parse.IfNode:
		return tplPart{}, errors.New("{{if}} is not supported")
	case *parse.RangeNode:
		return tplPart{}, errors.New("{{range}} is not supported")
	case *parse.WithNode:
		return tplPart{}, errors.New("{{with}} is not supported")
	case *parse.TemplateNode:
		return tplPart{}, errors.New("{{template}} is not supported")
	case *parse.BreakNode, *parse.ContinueNode:
		return tplPart{}, fmt.Errorf("%s is not supported", x)
	case *parse.CommentNode:
		return tplPart{}, nil
	default:
		return tplPart{}, fmt.Errorf("%s is not supported", n)
	}
}

func fieldOf(x *parse.ActionNode) (tplPart, error) {
	p := x.Pipe
	switch {
	case p == nil || len(p.Cmds) == 0:
		return tplPart{}, fmt.Errorf("%s is empty", x)
	case len(p.Decl) > 0:
		return tplPart{}, fmt.Errorf("%s: variables are not supported", x)
	case len(p.Cmds) > 1:
		return tplPart{}, fmt.Errorf("%s: pipelines (|) are not supported", x)
	}
	args := p.Cmds[0].Args
	if len(args) != 1 {
		if id, ok := args[0].(*parse.IdentifierNode); ok {
			return tplPart{}, fmt.Errorf("%s: functions (%s) are not supported", x, id.Ident)
		}
		return tplPart{}, fmt.Errorf("%s: only a single field reference is supported", x)
	}
	var f *parse.FieldNode
	switch a := args[0].(type) {
	case *parse.FieldNode:
		f = a
	case *parse.IdentifierNode:
		return tplPart{}, fmt.Errorf("%s: functions (%s) are not supported", x, a.Ident)
	case *parse.DotNode:
		return tplPart{}, fmt.Errorf("%s: the whole alarm cannot be a value; name a field", x)
	default:
		return tplPart{}, fmt.Errorf("%s: only a field reference is supported", x)
	}
	id := f.Ident
	if _, ok := scalarFields[id[0]]; ok {
		if len(id) > 1 {
			return tplPart{}, fmt.Errorf("%s: .%s is text and has no field .%s", x, id[0], id[1])
		}
		return tplPart{field: id[0]}, nil
	}
	if _, ok := mapFields[id[0]]; ok {
		if len(id) != 2 {
			return tplPart{}, fmt.Errorf("%s: name one entry, as .%s.<key>", x, id[0])
		}
		return tplPart{field: id[0], key: id[1]}, nil
	}
	return tplPart{}, fmt.Errorf("%s: the alarm has no field .%s", x, id[0])
}

// fields lists the alarm fields the template names.
func (t *paramTemplate) fields() []string {
	var out []string
	for _, p := range t.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// execute renders the template for one alarm. A map entry the alarm
// lacks is an error naming the entries it has.
func (t *paramTemplate) execute(a Alarm) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.field == "":
			b.WriteString(p.text)
		case p.key == "":
			b.WriteString(scalarFields[p.field](a))
		default:
			m := mapFields[p.field](a)
			v, ok := m[p.key]
			if !ok {
				have := "none"
				if len(m) > 0 {
					have = strings.Join(strict.SortedKeys(m), ", ")
				}
				return "", fmt.Errorf("the alarm has no %s entry %q (it has: %s)", strings.ToLower(p.field), p.key, have)
			}
			b.WriteString(v)
		}
	}
	return b.String(), nil
}
