package verifyaction

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"sigs.k8s.io/yaml"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// MaxUserParameters is CodePipeline's limit on an action's
// UserParameters, in characters.
const MaxUserParameters = verify.MaxUserParameters

// DefaultActionName is the action's name when Props.ActionName is empty.
const DefaultActionName = "Verify"

// Props configures the verify action. Set exactly one of Spec,
// SpecParameter and SpecFile.
type Props struct {
	// Function is postdeploy's verify function.
	Function awslambda.IFunction
	// ActionName defaults to "Verify".
	ActionName string
	// Spec is the verification spec itself, YAML or JSON; it travels as
	// JSON inside UserParameters, which holds at most 1,000 characters:
	// put a longer spec in SSM or the artifact.
	Spec string
	// SpecParameter is the name of the SSM parameter holding the spec,
	// e.g. "/postdeploy/shop/prod"; it must be under the verify
	// function's parameter prefix (default "/postdeploy/").
	SpecParameter string
	// SpecFile is the spec's path inside Input, e.g. "deploy/verify.yaml".
	SpecFile string
	// Input is the artifact the action reads (required with SpecFile).
	Input awscodepipeline.Artifact
	// Variables are pipeline variables CodePipeline resolves before the
	// call, which the spec refers to as #{NAME}, e.g.
	// {"IMAGE_DIGEST": "#{Build.IMAGE_DIGEST}"}.
	Variables map[string]string
	// RunOrder orders the action within its stage (default 1).
	RunOrder float64
	// VariablesNamespace makes verify's output variables readable as
	// #{<namespace>.<name>} by later actions.
	VariablesNamespace string
}

var paramName = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)

// UserParameters is the JSON object the action passes to verify, in the
// shape pkg/verify reads ({"spec": ...}, {"ssmParameter": ...} or
// {"artifactFile": ..., "artifact": ...}, plus "variables"); it is
// checked with pkg/verify's own parser.
func UserParameters(p Props) (string, error) {
	set := 0
	for _, s := range []string{p.Spec, p.SpecParameter, p.SpecFile} {
		if strings.TrimSpace(s) != "" {
			set++
		}
	}
	if set != 1 {
		return "", fmt.Errorf("verify action: set exactly one of Spec, SpecParameter and SpecFile (%d set)", set)
	}
	params := verify.Params{Variables: p.Variables}
	switch {
	case p.Spec != "":
		// The same strict parser verify runs: a bad spec fails synth,
		// not the first deployment. A spec whose variables CodePipeline
		// resolves only at run time (#{Namespace.NAME}) cannot be checked
		// whole here; verify checks it then.
		if !runtimeVariables(p.Variables) {
			if _, err := spec.Parse([]byte(p.Spec), p.Variables); err != nil {
				return "", fmt.Errorf("verify action: Spec: %w", err)
			}
		}
		js, err := yaml.YAMLToJSON([]byte(p.Spec))
		if err != nil {
			return "", fmt.Errorf("verify action: Spec is not YAML or JSON: %w", err)
		}
		params.Spec = json.RawMessage(js)
	case p.SpecParameter != "":
		if !paramName.MatchString(p.SpecParameter) {
			return "", fmt.Errorf("verify action: SpecParameter=%q: must be a full SSM parameter name such as /postdeploy/shop/prod", p.SpecParameter)
		}
		params.SSMParameter = p.SpecParameter
	default:
		if p.Input == nil {
			return "", errors.New("verify action: SpecFile needs Input, the artifact that holds the file")
		}
		params.ArtifactFile = p.SpecFile
		params.Artifact = *p.Input.ArtifactName()
	}
	b, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("verify action: encode UserParameters: %w", err)
	}
	up := string(b)
	if n := utf8.RuneCountInString(up); n > MaxUserParameters {
		return "", fmt.Errorf("verify action: UserParameters would be %d characters; CodePipeline allows %d: put the spec in an SSM parameter (SpecParameter) or the artifact (SpecFile)", n, MaxUserParameters)
	}
	if _, err := verify.ParseParams(up); err != nil {
		return "", fmt.Errorf("verify action: %w", err)
	}
	return up, nil
}

func runtimeVariables(vars map[string]string) bool {
	for _, v := range vars {
		if strings.Contains(v, "#{") {
			return true
		}
	}
	return false
}

// New returns the Lambda invoke action that runs verify. Add it to a
// stage after the deploy stage. CDK grants the pipeline's role
// lambda:InvokeFunction on the function.
func New(p Props) (awscodepipelineactions.LambdaInvokeAction, error) {
	if p.Function == nil {
		return nil, errors.New("verify action: Function is required (postdeploy's verify function)")
	}
	up, err := UserParameters(p)
	if err != nil {
		return nil, err
	}
	name := p.ActionName
	if name == "" {
		name = DefaultActionName
	}
	props := &awscodepipelineactions.LambdaInvokeActionProps{
		ActionName:           jsii.String(name),
		Lambda:               p.Function,
		UserParametersString: jsii.String(up),
	}
	if p.Input != nil {
		props.Inputs = &[]awscodepipeline.Artifact{p.Input}
	}
	if p.RunOrder > 0 {
		props.RunOrder = jsii.Number(p.RunOrder)
	}
	if p.VariablesNamespace != "" {
		props.VariablesNamespace = jsii.String(p.VariablesNamespace)
	}
	return awscodepipelineactions.NewLambdaInvokeAction(props), nil
}
