package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// compileSchema compiles the committed schema (and, with ref, one of its
// definitions) with santhosh-tekuri/jsonschema, a maintained JSON Schema
// validator.
func compileSchema(t testing.TB, ref string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatalf("the committed schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatalf("AddResource: %v", err)
	}
	sch, err := c.Compile(SchemaID + ref)
	if err != nil {
		t.Fatalf("compile the schema%s: %v", ref, err)
	}
	return sch
}

// validateDoc checks a spec as written (YAML or JSON) against sch, reading
// YAML the way Parse does (sigs.k8s.io/yaml).
func validateDoc(sch *jsonschema.Schema, data []byte) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// example is a spec (or one check) written somewhere users read or run.
type example struct {
	where string
	data  []byte
	check bool // one check, not a whole spec
	valid bool
}

// examples gathers every spec example: the README's YAML and JSON blocks
// (whole specs, and the single checks the kind sections show), the specs
// inline in events/verify-*.json, the SSM and S3 specs of the demo
// scenarios those events run against, and the specs in testdata.
func examples(t *testing.T) []example {
	t.Helper()
	root := filepath.Join("..", "..")
	var out []example
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```(yaml|json)\n(.*?)```")
	for i, m := range block.FindAllSubmatch(readme, -1) {
		where := fmt.Sprintf("README.md %s block %d", m[1], i)
		if string(m[1]) == "json" {
			for j, line := range bytes.Split(m[2], []byte("\n")) {
				var up struct {
					Spec json.RawMessage `json:"spec"`
				}
				if json.Unmarshal(line, &up) == nil && up.Spec != nil {
					out = append(out, example{where: fmt.Sprintf("%s line %d .spec", where, j), data: up.Spec, valid: true})
				}
			}
			continue
		}
		var v any
		if yaml.Unmarshal(m[2], &v) != nil {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["checks"]; ok {
				out = append(out, example{where: where, data: m[2], valid: true})
			}
		case []any:
			for j, item := range x {
				c, ok := item.(map[string]any)
				if !ok || c["name"] == nil {
					continue
				}
				b, _ := json.Marshal(c)
				out = append(out, example{where: fmt.Sprintf("%s item %d", where, j), data: b, check: true, valid: true})
			}
		}
	}
	events, _ := filepath.Glob(filepath.Join(root, "events", "verify-*.json"))
	for _, f := range events {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Job struct {
				Data struct {
					Config struct {
						Configuration struct {
							UserParameters string
						} `json:"configuration"`
					} `json:"actionConfiguration"`
				} `json:"data"`
			} `json:"CodePipeline.job"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var up struct {
			Spec json.RawMessage `json:"spec"`
		}
		if json.Unmarshal([]byte(ev.Job.Data.Config.Configuration.UserParameters), &up) == nil && up.Spec != nil {
			out = append(out, example{where: filepath.Base(f) + " UserParameters.spec", data: up.Spec, valid: !strings.Contains(f, "bad-spec")})
		}
	}
	scenarios, _ := filepath.Glob(filepath.Join(root, "pkg", "devtools", "demo", "scenarios", "*.yaml"))
	for _, f := range scenarios {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc struct {
			Parameters []struct{ Name, Value string }
			Objects    []struct {
				Key string
				Zip map[string]string
			}
		}
		if err := yaml.Unmarshal(b, &sc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range sc.Parameters {
			if strings.Contains(p.Value, "checks:") {
				out = append(out, example{where: filepath.Base(f) + " SSM " + p.Name, data: []byte(p.Value), valid: true})
			}
		}
		for _, o := range sc.Objects {
			for name, body := range o.Zip {
				if strings.Contains(body, "checks:") {
					out = append(out, example{where: filepath.Base(f) + " S3 " + o.Key + " " + name, data: []byte(body), valid: true})
				}
			}
		}
	}
	for _, dir := range []string{filepath.Join("testdata", "examples"), filepath.Join(root, "pkg", "cli", "testdata")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.*"))
		for _, f := range files {
			if filepath.Ext(f) != ".yaml" && filepath.Ext(f) != ".json" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Base(f)
			out = append(out, example{where: f, data: b, valid: !strings.HasPrefix(base, "bad") && !strings.HasPrefix(base, "syntax")})
		}
	}
	return out
}

// Every example a user reads or runs is valid against the schema (and the
// deliberately broken ones are not).
func TestExamplesMatchTheSchema(t *testing.T) {
	whole, check := compileSchema(t, ""), compileSchema(t, "#/definitions/Check")
	exs := examples(t)
	if len(exs) < 10 {
		t.Fatalf("found %d examples; the README, events/ and testdata hold more: is the search broken?", len(exs))
	}
	for _, ex := range exs {
		sch := whole
		if ex.check {
			sch = check
		}
		err := validateDoc(sch, ex.data)
		if ex.valid && err != nil {
			t.Errorf("%s is not valid against the schema: %v\n%s", ex.where, err, ex.data)
		}
		if !ex.valid && err == nil {
			t.Errorf("%s is a broken spec, yet the schema accepts it", ex.where)
		}
		// Where Parse can judge alone (a whole spec, no variables to
		// substitute), it agrees.
		if !ex.check && !bytes.Contains(ex.data, []byte("#{")) {
			if _, perr := Parse(ex.data, nil); (perr == nil) != ex.valid {
				t.Errorf("%s: Parse = %v; the example is meant to be valid: %t", ex.where, perr, ex.valid)
			}
		}
	}
	t.Logf("%d examples checked", len(exs))
}

// A schema cannot say everything Parse checks. schemaCannotExpress names
// each rule the strict parser enforces and the schema does not (README,
// "JSON Schema for specs", lists the same), by the problems Parse reports
// for it; parserLenient names what the schema refuses and Parse accepts.
var schemaCannotExpress = []struct {
	name  string
	match func(FieldError) bool
}{
	{"interval within bake (cross-field)", msgIs(`^interval$`, "must not be longer than bake")},
	{"unique check names (cross-field)", msgIs(`^checks\[\d+\]\.name$`, "is already the name of")},
	{"duration sizes: bake ≤ 24h, interval ≥ 1s, http timeout ≤ 5m, periods whole multiples of 60s, window ≥ period", msgIs(`(^bake|^interval|\.timeout|\.period|\.window)$`, "must be at most", "must be at least", "must be whole seconds", "must be a multiple of 60s")},
	{"a URL's host, parse and credential rules", msgIs(`\.url$`, "has no host", "not a valid URL", "must not carry credentials")},
	{"metric: one metric or an expression with its metrics (cross-field)", msgIs(`^checks\[\d+\]\.metric(\.namespace|\.name|\.metrics(\.[^.]+(\.namespace|\.name|\.dimensions))?|\.dimensions)?$`, "set either one metric", "only used with expression", "needs the metrics it refers to", "set one metric", "is required", "at most 30 dimensions")},
	{"externalId only with roleArn; region in the role's partition (cross-field)", msgIs(`(^|\.)(externalId|region)$`, "is only used with roleArn", "is not in the role's partition")},
	{"a key set twice (the schema sees the document after the last value won)", msgIs(`.*`, "duplicate key")},
	{"#{NAME} variables (the schema sees them unsubstituted)", msgIs(`.*`, "unresolved variable", "with its #{VAR} variables substituted")},
	{"the 256 KiB size limit", msgIs(`^$`, "spec is ")},
	{"whole numbers beyond 64 bits", msgIs(`.*`, "must be a whole number, got the number")},
}

var parserLenient = []struct {
	name  string
	match func(value any) bool
}{
	{"null is the same as leaving the field out", func(v any) bool { return v == nil }},
	{"an empty string is the same as leaving the field out", func(v any) bool { return v == "" }},
}

func msgIs(path string, prefixes ...string) func(FieldError) bool {
	re := regexp.MustCompile(path)
	return func(e FieldError) bool {
		if !re.MatchString(e.Path) {
			return false
		}
		for _, p := range prefixes {
			if strings.Contains(e.Msg, p) {
				return true
			}
		}
		return false
	}
}

// TestSchemaAgreesWithParse is the property: over a corpus of generated
// specs and mutations of them, the schema and the strict parser accept and
// refuse the same documents, except where a named difference explains
// every problem of the one that refuses.
func TestSchemaAgreesWithParse(t *testing.T) {
	sch := compileSchema(t, "")
	rng := rand.New(rand.NewPCG(14, 2026))
	const n = 3000
	used := map[string]int{}
	accepted, refused := 0, 0
	for i := range n {
		doc := genSpec(rng)
		mutation := "none"
		if i%4 != 0 { // a quarter stay as generated: valid
			mutation = mutate(rng, doc)
		}
		var data []byte
		if i%2 == 0 {
			data, _ = json.MarshalIndent(doc, "", " ")
		} else {
			data, _ = yaml.Marshal(doc)
		}
		if mutation == "duplicate key" {
			data = append([]byte("bake: 1m\n"), data...)
			if i%2 == 0 {
				data = bytes.Replace(data, []byte("{"), []byte(`{"interval": "1s", "interval": "1s", `), 1)
			}
		}
		_, perr := Parse(data, nil)
		serr := validateDoc(sch, data)
		switch {
		case perr == nil && serr == nil:
			accepted++
		case perr != nil && serr != nil:
			refused++
		case perr != nil: // the schema accepts what Parse refuses
			var errs Errors
			if !errors.As(perr, &errs) {
				t.Fatalf("Parse error %v is not spec.Errors", perr)
			}
			for _, e := range errs {
				name := ""
				for _, d := range schemaCannotExpress {
					if d.match(e) {
						name = d.name
						break
					}
				}
				if name == "" {
					t.Errorf("mutation %q: Parse refuses %q but the schema accepts the document, and no listed difference explains it:\n%s", mutation, e, data)
					continue
				}
				used[name]++
			}
		default: // the schema refuses what Parse accepts
			var ve *jsonschema.ValidationError
			if !errors.As(serr, &ve) {
				t.Fatalf("schema error %v is not a ValidationError", serr)
			}
			var inst any
			js, _ := yaml.YAMLToJSON(data)
			_ = json.Unmarshal(js, &inst)
			for _, loc := range leafLocations(ve) {
				v := valueAt(inst, loc)
				name := ""
				for _, d := range parserLenient {
					if d.match(v) {
						name = d.name
						break
					}
				}
				if name == "" {
					t.Errorf("mutation %q: the schema refuses /%s (%v) but Parse accepts the document, and no listed difference explains it:\n%v\n%s", mutation, strings.Join(loc, "/"), v, serr, data)
					continue
				}
				used[name]++
			}
		}
	}
	t.Logf("%d documents: %d accepted by both, %d refused by both; differences seen: %v", n, accepted, refused, used)
	if accepted < n/5 || refused < n/5 {
		t.Errorf("%d accepted and %d refused by both of %d: the corpus does not exercise both sides", accepted, refused, n)
	}
}

func leafLocations(ve *jsonschema.ValidationError) [][]string {
	if len(ve.Causes) == 0 {
		return [][]string{ve.InstanceLocation}
	}
	var out [][]string
	for _, c := range ve.Causes {
		out = append(out, leafLocations(c)...)
	}
	return out
}

func valueAt(v any, loc []string) any {
	for _, k := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				return "?"
			}
			v = x[i]
		default:
			return "?"
		}
	}
	return v
}

type obj = map[string]any

// genSpec makes a random valid spec as the JSON value of its document.
func genSpec(r *rand.Rand) obj {
	pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
	s := obj{}
	switch r.IntN(3) {
	case 0:
		s["bake"], s["interval"] = pick("10m", "1h", "30m"), pick("30s", "1m", "1m30s")
	case 1:
		s["bake"] = pick("0s", "0", "5m")
	}
	var checks []any
	for i := range 1 + r.IntN(5) {
		c := obj{"name": fmt.Sprintf("check-%d", i)}
		switch r.IntN(6) {
		case 0:
			h := obj{"url": pick("https://api.example.com/health", "http://10.0.0.1:8080/")}
			if r.IntN(2) == 0 {
				h["timeout"], h["retries"], h["status"], h["maxRedirects"] = "3s", r.IntN(11), []any{200, 204}, r.IntN(22)-1
			}
			c["http"], c["expect"] = h, "status == 200"
		case 1:
			a := obj{"ignorePreexisting": r.IntN(2) == 0}
			switch r.IntN(3) {
			case 0:
				a["prefix"] = "prod-"
			case 1:
				a["names"] = []any{"a", "b"}
			default:
				a["prefix"], a["names"] = "prod-", []any{"c"}
			}
			c["alarms"] = a
		case 2:
			if r.IntN(2) == 0 {
				c["metric"] = obj{"namespace": "AWS/ApplicationELB", "name": "RequestCount", "stat": "Sum", "period": "60s", "window": "5m"}
			} else {
				c["metric"] = obj{"expression": "100*e/r", "metrics": obj{"e": obj{"namespace": "AWS/ELB", "name": "Err"}, "r": obj{"namespace": "AWS/ELB", "name": "Req", "dimensions": obj{"LoadBalancer": "app/x"}}}}
			}
			c["expect"], c["noData"], c["minSamples"] = "value < 5", pick("fail", "pass", "inconclusive"), r.IntN(5)
		case 3:
			c["compare"] = obj{"baseline": obj{"namespace": "AWS/Lambda", "name": "Duration", "stat": "p95", "beforeBake": true},
				"canary": obj{"namespace": "AWS/Lambda", "name": "Duration", "offset": "24h"}, "tolerance": pick("20%", 20, "5.5 %"), "confidence": 0.95, "direction": "increase"}
		case 4:
			c["headers"] = obj{"url": "https://api.example.com/", "require": []any{"hsts"}, "timeout": "2s"}
		default:
			is := obj{"repository": "app", "maxSeverity": pick("LOW", "HIGH", "CRITICAL"), "maxScore": r.IntN(101), "sources": []any{pick("ecr", "inspector")}}
			if r.IntN(2) == 0 {
				is["digest"] = "sha256:" + strings.Repeat("0a", 32)
			} else {
				is["tag"] = "v1.2.3"
			}
			c["imageScan"] = is
		}
		if r.IntN(4) == 0 {
			c["critical"] = false
		}
		if r.IntN(6) == 0 {
			c["region"] = "eu-west-1"
		}
		if r.IntN(6) == 0 && c["http"] == nil && c["headers"] == nil {
			c["roleArn"], c["externalId"] = "arn:aws:iam::222222222222:role/postdeploy-verify", "ext-1234"
		}
		checks = append(checks, c)
	}
	s["checks"] = checks
	if r.IntN(5) == 0 {
		s["roleArn"], s["region"] = "arn:aws:iam::333333333333:role/path/postdeploy", "us-east-2"
	}
	if r.IntN(2) == 0 {
		s["limits"] = obj{"failureLimit": r.IntN(3), "consecutiveErrorLimit": r.IntN(5), "inconclusive": pick("fail", "pass"), "failFast": r.IntN(2) == 0}
	}
	return s
}

// mutate changes doc in one of the ways people get specs wrong and says
// which.
func mutate(r *rand.Rand, doc obj) string {
	checks, _ := doc["checks"].([]any)
	c, _ := checks[r.IntN(len(checks))].(obj)
	var kind obj
	for _, k := range Kinds {
		if x, ok := c[k].(obj); ok {
			kind = x
		}
	}
	anyKey := func(o obj) string {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys[r.IntN(len(keys))]
	}
	switch r.IntN(19) {
	case 17:
		c["externalId"] = "ext-1234"
		delete(c, "roleArn")
		return "externalId without roleArn"
	case 18:
		doc[pick(r, "roleArn", "region", "externalId")] = pick(r, "arn:aws:iam::1:role/x", "moon-1", "bad id!", "eu-west-1")
		return "bad account or region"
	case 0:
		pickObj(r, doc, c, kind)["extra"] = 1
		return "unknown field"
	case 1:
		o := pickObj(r, doc, c, kind)
		delete(o, anyKey(o))
		return "field removed"
	case 2:
		o := pickObj(r, doc, c, kind)
		k := anyKey(o)
		switch v := o[k].(type) {
		case string:
			o[k] = 7
		case bool:
			o[k] = "yes please"
		case int, float64:
			o[k] = fmt.Sprint(v) + "x"
		default:
			o[k] = "text"
		}
		return "wrong type"
	case 3:
		o := pickObj(r, doc, c, kind)
		o[anyKey(o)] = nil
		return "null"
	case 4:
		doc["limits"] = obj{"inconclusive": "maybe"}
		c["noData"] = "ignore"
		return "bad enum"
	case 5:
		doc["limits"] = obj{"failureLimit": -1}
		return "out of range"
	case 6:
		c["http"] = obj{"url": "https://x.example.com/", "retries": 11, "status": []any{99}}
		return "out of range"
	case 7:
		doc["bake"] = "ten minutes"
		return "bad duration"
	case 8:
		doc["bake"], doc["interval"] = "25h", "500ms"
		return "duration size"
	case 9:
		doc["bake"], doc["interval"] = "1m", "5m"
		return "interval longer than bake"
	case 10:
		c["name"] = "check-0"
		checks = append(checks, obj{"name": "check-0", "alarms": obj{"prefix": "x"}})
		doc["checks"] = checks
		return "duplicate name"
	case 11:
		c["headers"], c["http"] = obj{"url": "https://a.example.com/"}, obj{"url": "https://a.example.com/"}
		return "two kinds"
	case 12:
		for _, k := range Kinds {
			delete(c, k)
		}
		return "no kind"
	case 13:
		c["imageScan"] = obj{"repository": "app", "digest": "sha256:" + strings.Repeat("0a", 32), "tag": "v1"}
		return "digest and tag"
	case 14:
		c["http"] = obj{"url": pick(r, "https://", "http://user:pw@example.com/", "ftp://example.com/")}
		return "bad url"
	case 15:
		c["metric"] = obj{"namespace": "AWS/ELB", "expression": "a"}
		for _, k := range Kinds[:2] {
			delete(c, k)
		}
		delete(c, "compare")
		delete(c, "headers")
		delete(c, "imageScan")
		return "metric form"
	default:
		return "duplicate key"
	}
}

func pick(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

func pickObj(r *rand.Rand, doc, c, kind obj) obj {
	switch r.IntN(3) {
	case 0:
		return doc
	case 1:
		return c
	}
	if kind == nil {
		return c
	}
	return kind
}
