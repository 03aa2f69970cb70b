package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/strict"
)

// Params is the action's UserParameters.
type Params struct {
	Spec         json.RawMessage   `json:"spec,omitempty"`
	SSMParameter string            `json:"ssmParameter,omitempty"`
	ArtifactFile string            `json:"artifactFile,omitempty"`
	Artifact     string            `json:"artifact,omitempty"`
	Variables    map[string]string `json:"variables,omitempty"`
}

// MaxUserParameters is CodePipeline's limit on the UserParameters field.
const MaxUserParameters = 1000

const paramsPath = "UserParameters"

const paramsHelp = `UserParameters must be a JSON object with one of "spec" (the spec inline), "ssmParameter" (an SSM parameter name) or "artifactFile" (a path inside the input artifact), and optionally "artifact" and "variables"`

// paramKeys are UserParameters' keys, exactly as they must be written:
// JSON object keys are case-sensitive, so "Spec" is not "spec" (Go's
// encoding/json would match it anyway; ParseParams does not).
var paramKeys = []string{"spec", "ssmParameter", "artifactFile", "artifact", "variables"}

// ParseParams decodes UserParameters strictly, reporting every problem:
// a key set twice (anywhere in the document: JSON decoders keep only the
// last), a key not among paramKeys (with a did-you-mean for a wrong case
// or a near miss), a value of the wrong type, and a spec source missing
// or given twice.
func ParseParams(raw string) (Params, error) {
	var errs spec.Errors
	var p Params
	if strings.TrimSpace(raw) == "" {
		errs.Add(paramsPath, "is empty: %s", paramsHelp)
		return p, errs
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil || fields == nil {
		if err == nil {
			err = errors.New("null is not an object")
		}
		errs.Add(paramsPath, "not valid: %v. %s", err, paramsHelp)
		return p, errs
	}
	if dec.More() {
		errs.Add(paramsPath, "has text after the JSON object: %s", paramsHelp)
	}
	for _, d := range strict.DuplicateKeys([]byte(raw)) {
		errs.Add(spec.Field(paramsPath, d.Path), "%s", d.Msg)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := fields[k]
		path := spec.Field(paramsPath, k)
		var err error
		switch k {
		case "spec":
			p.Spec = v
		case "ssmParameter":
			err = json.Unmarshal(v, &p.SSMParameter)
		case "artifactFile":
			err = json.Unmarshal(v, &p.ArtifactFile)
		case "artifact":
			err = json.Unmarshal(v, &p.Artifact)
		case "variables":
			err = json.Unmarshal(v, &p.Variables)
		default:
			if m := strict.Closest(k, paramKeys); m != "" {
				errs.Add(path, "unknown key %q; did you mean %q? Keys are case-sensitive: %s", k, m, quoteList(paramKeys))
			} else {
				errs.Add(path, "unknown key %q; keys are case-sensitive: %s", k, quoteList(paramKeys))
			}
			continue
		}
		if err != nil {
			want := "a string"
			if k == "variables" {
				want = `an object of strings, e.g. {"IMAGE_DIGEST": "#{Build.IMAGE_DIGEST}"}`
			}
			errs.Add(path, "must be %s, got %s", want, shorten(string(v), 40))
		}
	}
	n := 0
	if len(bytes.TrimSpace(p.Spec)) > 0 && string(bytes.TrimSpace(p.Spec)) != "null" {
		n++
	}
	if p.SSMParameter != "" {
		n++
	}
	if p.ArtifactFile != "" {
		n++
	}
	switch {
	case n == 0:
		errs.Add(paramsPath, "names no spec: %s", paramsHelp)
	case n > 1:
		errs.Add(paramsPath, "names %d spec sources: use exactly one of spec, ssmParameter, artifactFile", n)
	}
	if p.Artifact != "" && p.ArtifactFile == "" {
		errs.Add(spec.Field(paramsPath, "artifact"), "only used with artifactFile")
	}
	if p.ArtifactFile != "" {
		if clean, ok := cleanZipPath(p.ArtifactFile); !ok {
			errs.Add(spec.Field(paramsPath, "artifactFile"), "%q must be a relative path inside the artifact (no .. or leading /)", p.ArtifactFile)
		} else {
			p.ArtifactFile = clean
		}
	}
	if err := errs.Err(); err != nil {
		return Params{}, err
	}
	return p, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
