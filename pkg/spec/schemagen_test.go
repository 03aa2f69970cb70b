package spec

// The generator of postdeploy.schema.json: a walk over the Go spec types
// (reflection for the shapes, the doc comments for the descriptions) plus
// the value rules Validate applies that a schema can say (shapeRules,
// objectRules). It lives in a test so that the schema is checked on every
// `go test` and no product binary carries a generator.

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite postdeploy.schema.json from the Go spec types (go generate ./pkg/spec)")

const schemaFile = "postdeploy.schema.json"

// TestSchemaIsGenerated fails while the committed schema differs from the
// one the Go types generate: a field added to a spec type (or a rule
// below) must be followed by `go generate ./pkg/spec`.
func TestSchemaIsGenerated(t *testing.T) {
	got := generateSchema(t)
	if *updateSchema {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, JSONSchema) {
		t.Errorf("pkg/spec/%s is not what the Go spec types generate: run `go generate ./pkg/spec` (or `make schema`) and commit the file.\n%s", schemaFile, firstDifference(JSONSchema, got))
	}
}

func firstDifference(committed, generated []byte) string {
	a, b := strings.Split(string(committed), "\n"), strings.Split(string(generated), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return "first difference at line " + itoa(i+1) + ":\n  committed: " + x + "\n  generated: " + y
		}
	}
	return ""
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type object = map[string]any

// shapeRules are the rules on a field's value wherever the field appears
// (also where its struct is embedded), keyed "GoType.jsonName"; each is
// the rule of Validate (or of UnmarshalJSON) it states.
var shapeRules = map[string]object{
	"Limits.failureLimit":          {"minimum": 0},
	"Limits.consecutiveErrorLimit": {"minimum": 0},
	"Limits.inconclusive":          {"enum": []string{PolicyFail, PolicyPass}},
	"Check.name":                   {"pattern": namePattern.String()},
	"Check.noData":                 {"enum": []string{PolicyFail, PolicyPass, PolicyInconclusive}},
	"Check.minSamples":             {"minimum": 0},
	"HTTP.url":                     {"pattern": urlSchemePattern},
	"HTTP.retries":                 {"minimum": 0, "maximum": 10},
	"HTTP.status":                  {"items": object{"type": "integer", "minimum": 100, "maximum": 599}},
	"HTTP.maxRedirects":            {"minimum": -1, "maximum": 20},
	"Headers.url":                  {"pattern": urlSchemePattern},
	"Alarms.names":                 {"items": object{"type": "string", "pattern": `\S`}},
	"MetricStat.accountId":         {"pattern": accountPattern.String()},
	"ImageScan.repository":         {"minLength": 1},
	"ImageScan.digest":             {"pattern": digestPattern.String()},
	"ImageScan.maxSeverity":        {"enum": severities},
	"ImageScan.maxScore":           {"minimum": 0, "maximum": 100},
	"ImageScan.sources":            {"items": object{"type": "string", "enum": []string{"ecr", "inspector"}}},
	"Where.roleArn":                {"pattern": roleARNPattern.String(), "maxLength": 2048},
	"Where.externalId":             {"pattern": externalIDPattern.String(), "minLength": 2, "maxLength": 1224},
	"Where.region":                 {"pattern": regionPattern.String()},
}

// urlSchemePattern: an http or https URL (url.Parse lowers the scheme).
const urlSchemePattern = `^[Hh][Tt][Tt][Pp][Ss]?://`

// objectRules are the rules on a whole object of one Go type: required
// fields and the one-of choices Validate makes.
var objectRules = map[string]func(def object){
	"Spec": func(def object) {
		def["required"] = []string{"checks"}
		prop(def, "checks")["minItems"] = 1
		prop(def, "checks")["maxItems"] = MaxChecks
	},
	"Check": func(def object) {
		def["required"] = []string{"name"}
		var one []object
		for _, k := range Kinds {
			one = append(one, object{"required": []string{k}})
		}
		def["oneOf"] = one // exactly one check kind
		// http and headers checks call no AWS API: no account or region.
		def["if"] = object{"anyOf": []object{{"required": []string{KindHTTP}}, {"required": []string{KindHeaders}}}}
		def["then"] = object{"not": object{"anyOf": []object{{"required": []string{"roleArn"}}, {"required": []string{"externalId"}}, {"required": []string{"region"}}}}}
	},
	"HTTP":    func(def object) { def["required"] = []string{"url"} },
	"Headers": func(def object) { def["required"] = []string{"url"} },
	"Alarms": func(def object) { // names, prefix, or both
		def["anyOf"] = []object{
			{"required": []string{"names"}, "properties": object{"names": object{"minItems": 1}}},
			{"required": []string{"prefix"}, "properties": object{"prefix": object{"minLength": 1}}},
		}
	},
	"MetricStat": metricRequired,
	"Series":     metricRequired,
	"Compare":    func(def object) { def["required"] = []string{"baseline", "canary"} },
	"ImageScan": func(def object) { // digest or tag, not both
		def["required"] = []string{"repository"}
		def["oneOf"] = []object{
			{"required": []string{"digest"}, "not": object{"required": []string{"tag"}}},
			{"required": []string{"tag"}, "not": object{"required": []string{"digest"}}},
		}
	},
}

func metricRequired(def object) {
	def["required"] = []string{"namespace", "name"}
	prop(def, "namespace")["minLength"] = 1
	prop(def, "name")["minLength"] = 1
	prop(def, "dimensions")["maxProperties"] = 30
}

func prop(def object, name string) object {
	p, _ := def["properties"].(object)[name].(object)
	return p
}

// Durations and percentages are strings with a grammar.
var scalarDefs = map[reflect.Type]object{
	reflect.TypeFor[Duration](): {
		"type":        "string",
		"description": `A duration as Go writes it: a number and a unit (ns, us, µs, ms, s, m, h), possibly several: "30s", "10m", "1h30m". Not negative.`,
		"pattern":     `^\+?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`,
	},
	reflect.TypeFor[Percent](): {
		"description": `A percentage: "20%" or the number 20.`,
		"oneOf": []object{
			{"type": "number"},
			{"type": "string", "pattern": `^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*%$`},
			{"$ref": "#/definitions/Variable"},
		},
	},
}

type schemaGen struct {
	t    *testing.T
	docs map[string]string // "Type" and "Type.GoField" → doc comment
	defs object
}

func generateSchema(t *testing.T) []byte {
	t.Helper()
	g := &schemaGen{t: t, docs: goDocs(t), defs: object{}}
	g.typeSchema(reflect.TypeFor[Spec]())
	root, _ := g.defs["Spec"].(object)
	delete(g.defs, "Spec")
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaID
	root["title"] = "postdeploy verification spec"
	root["definitions"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		t.Fatalf("marshal the schema: %v", err)
	}
	return append(b, '\n')
}

// variableDef is a string that refers to a variable: Parse substitutes
// it before it checks the value, which the schema cannot do, so the
// schema takes any value with a #{NAME} where a pattern or a list of
// values would otherwise apply.
var variableDef = object{
	"type":        "string",
	"pattern":     `#\{[^{}]*\}`,
	"description": "A value with a #{NAME} variable (postdeploy run --var, or the action's UserParameters variables): checked once it is substituted.",
}

// orVariable lets a constrained string (a pattern, a list of values) be a
// #{NAME} reference instead.
func orVariable(s object) object {
	if s["type"] != "string" {
		return s
	}
	_, p := s["pattern"]
	_, e := s["enum"]
	if !p && !e {
		return s
	}
	return object{"anyOf": []object{s, {"$ref": "#/definitions/Variable"}}}
}

func (g *schemaGen) typeSchema(t reflect.Type) object {
	g.defs["Variable"] = variableDef
	if def, ok := scalarDefs[t]; ok {
		if t == reflect.TypeFor[Duration]() {
			inner := object{}
			for k, v := range def {
				if k != "description" {
					inner[k] = v
				}
			}
			def = orVariable(inner)
			def["description"] = scalarDefs[t]["description"]
		}
		g.defs[t.Name()] = def
		return object{"$ref": "#/definitions/" + t.Name()}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.Struct:
		g.structDef(t)
		return object{"$ref": "#/definitions/" + t.Name()}
	case reflect.Slice:
		return object{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		return object{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.String:
		return object{"type": "string"}
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return object{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return object{"type": "number"}
	}
	g.t.Fatalf("the schema generator does not know Go type %s: teach typeSchema", t)
	return nil
}

func (g *schemaGen) structDef(t reflect.Type) {
	if _, done := g.defs[t.Name()]; done {
		return
	}
	g.defs[t.Name()] = object{} // against recursion
	props := object{}
	g.fields(t, props)
	def := object{"type": "object", "additionalProperties": false, "properties": props}
	if d := g.docs[t.Name()]; d != "" {
		def["description"] = d
	}
	if rule, ok := objectRules[t.Name()]; ok {
		rule(def)
	}
	g.defs[t.Name()] = def
}

// fields adds t's JSON fields to props, flattening embedded structs as
// encoding/json (and the strict decoder) do.
func (g *schemaGen) fields(t reflect.Type, props object) {
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := object{}
		for k, v := range g.typeSchema(f.Type) {
			s[k] = v
		}
		for k, v := range shapeRules[t.Name()+"."+name] {
			s[k] = v
		}
		if items, ok := s["items"].(object); ok {
			s["items"] = orVariable(items)
		}
		s = orVariable(s)
		if d := g.docs[t.Name()+"."+f.Name]; d != "" {
			s["description"] = d
		}
		props[name] = s
	}
}

// goDocs reads the doc comments of this package's types and their
// fields, for the schema's descriptions (shown by editors on hover).
func goDocs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, sp := range gd.Specs {
				ts, ok := sp.(*ast.TypeSpec)
				if !ok {
					continue
				}
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				docs[ts.Name.Name] = clean(doc.Text())
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					text := fl.Doc.Text()
					if text == "" {
						text = fl.Comment.Text()
					}
					for _, n := range fl.Names {
						docs[ts.Name.Name+"."+n.Name] = clean(text)
					}
				}
			}
		}
	}
	return docs
}

func clean(doc string) string { return strings.Join(strings.Fields(doc), " ") }
