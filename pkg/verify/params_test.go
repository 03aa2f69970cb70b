package verify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

const okSpec = `{"checks":[{"name":"a","http":{"url":"https://x/"}}]}`

func TestParseParams(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string // substrings of the error; nil for success
	}{
		{"inline spec", `{"spec":` + okSpec + `}`, nil},
		{"ssm with variables", `{"ssmParameter":"/p","variables":{"A":"1","B":"2"}}`, nil},
		{"artifact file", `{"artifactFile":"deploy/verify.yaml","artifact":"BuildOutput"}`, nil},
		{"duplicate top-level key", `{"spec":` + okSpec + `,"spec":{"checks":[]}}`, []string{`UserParameters.spec: duplicate key "spec"`}},
		{"duplicate variable", `{"ssmParameter":"/p","variables":{"A":"1","A":"2"}}`, []string{`UserParameters.variables.A: duplicate key "A"`}},
		{"duplicate source key", `{"ssmParameter":"/a","ssmParameter":"/b"}`, []string{`UserParameters.ssmParameter: duplicate key "ssmParameter"`}},
		{"Spec in the wrong case", `{"Spec":` + okSpec + `}`, []string{`UserParameters.Spec: unknown key "Spec"; did you mean "spec"?`, "case-sensitive", "names no spec"}},
		{"SSMPARAMETER in the wrong case", `{"SSMPARAMETER":"/p"}`, []string{`UserParameters.SSMPARAMETER: unknown key "SSMPARAMETER"; did you mean "ssmParameter"?`}},
		{"a typo", `{"ssmParamter":"/p"}`, []string{`did you mean "ssmParameter"?`}},
		{"an unrelated key", `{"spec":` + okSpec + `,"owner":"team-a"}`, []string{`UserParameters.owner: unknown key "owner"; keys are case-sensitive: "spec", "ssmParameter"`}},
		{"a string where one is needed", `{"ssmParameter":5}`, []string{"UserParameters.ssmParameter: must be a string, got 5"}},
		{"variables not strings", `{"ssmParameter":"/p","variables":{"A":1}}`, []string{"UserParameters.variables: must be an object of strings"}},
		{"two sources", `{"spec":` + okSpec + `,"ssmParameter":"/p"}`, []string{"names 2 spec sources"}},
		{"null", `null`, []string{"not valid"}},
		{"an array", `[]`, []string{"not valid"}},
		{"trailing text", `{"ssmParameter":"/p"} x`, []string{"text after the JSON object"}},
		{"empty", `  `, []string{"is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseParams(tt.raw)
			if tt.want == nil {
				if err != nil {
					t.Errorf("ParseParams(%q) = %+v, %v; want nil error", tt.raw, p, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseParams(%q) = %+v, nil; want an error containing %q", tt.raw, p, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseParams(%q) error:\n%v\nwant it to contain %q", tt.raw, err, w)
				}
			}
		})
	}
}

// Through the handler, a wrong-case key is a ConfigurationError naming
// the key and the right spelling.
func TestWrongCaseUserParametersAreAConfigurationError(t *testing.T) {
	e := newEnv(&scripted{result: pass})
	if err := e.invoke(t, jobEvent(t, "job-case", `{"Spec":`+okSpec+`}`, ""), time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(e.cp.failures) != 1 {
		t.Fatalf("reports = %d failures; want 1", len(e.cp.failures))
	}
	fd := e.cp.failures[0].FailureDetails
	if msg := aws.ToString(fd.Message); fd.Type != cptypes.FailureTypeConfigurationError || !strings.Contains(msg, `did you mean "spec"?`) {
		t.Errorf("failure = %s %q; want a ConfigurationError with a did-you-mean", fd.Type, msg)
	}
}

// FuzzParseParams: UserParameters come from whoever edits the pipeline.
// ParseParams never panics, and what it accepts has exactly one spec
// source, only the documented keys in their exact case, and no key twice
// at the top level or in variables.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		`{"spec":` + okSpec + `}`,
		`{"ssmParameter":"/p","variables":{"A":"1"}}`,
		`{"artifactFile":"deploy/verify.yaml","artifact":"BuildOutput"}`,
		`{"spec":{},"spec":{}}`,
		`{"Spec":{}}`,
		`{"SSMPARAMETER":"/p"}`,
		`{"ssmParameter":"/p","variables":{"A":"1","A":"2"}}`,
		`{"ssmParameter":"/p","ssmParameter":"/q"}`,
		`{"ssmParameter":"/p","\u0073smParameter":"/q"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseParams(raw)
		if err != nil {
			return
		}
		sources := 0
		if len(p.Spec) > 0 && string(p.Spec) != "null" {
			sources++
		}
		if p.SSMParameter != "" {
			sources++
		}
		if p.ArtifactFile != "" {
			sources++
		}
		if sources != 1 {
			t.Fatalf("ParseParams(%q) accepted %d spec sources", raw, sources)
		}
		keys := topLevelKeys(t, raw, "")
		for _, k := range keys {
			if !slices.Contains(paramKeys, k) {
				t.Fatalf("ParseParams(%q) accepted key %q", raw, k)
			}
		}
		if hasDuplicate(keys) || hasDuplicate(topLevelKeys(t, raw, "variables")) {
			t.Fatalf("ParseParams(%q) accepted a duplicate key", raw)
		}
	})
}

// topLevelKeys lists, as written and in order, the keys of the object
// raw holds (within holds at key inside, when inside is set).
func topLevelKeys(t *testing.T, raw, inside string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	if inside != "" {
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil || m[inside] == nil {
			return nil
		}
		dec = json.NewDecoder(strings.NewReader(string(m[inside])))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func hasDuplicate(keys []string) bool {
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}
