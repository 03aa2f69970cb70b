package verify

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/spec"
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

// ParseParams decodes UserParameters strictly, reporting every problem.
func ParseParams(raw string) (Params, error) {
	var errs spec.Errors
	var p Params
	if strings.TrimSpace(raw) == "" {
		errs.Add(paramsPath, "is empty: %s", paramsHelp)
		return p, errs
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		errs.Add(paramsPath, "not valid: %v. %s", err, paramsHelp)
		return p, errs
	}
	if dec.More() {
		errs.Add(paramsPath, "has text after the JSON object: %s", paramsHelp)
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
