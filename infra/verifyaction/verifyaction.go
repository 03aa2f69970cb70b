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
)

// MaxUserParameters is CodePipeline's limit on an action's
// UserParameters, in characters.
const MaxUserParameters = 1000

// DefaultActionName is the action's name when Props.ActionName is empty.
const DefaultActionName = "Verify"

// Props configures the verify action. Set exactly one of Spec,
// SpecParameter and SpecFile.
type Props struct {
	// Function is postdeploy's verify function.
	Function awslambda.IFunction
	// ActionName defaults to "Verify".
	ActionName string
	// Spec is the verification spec itself, YAML or JSON. UserParameters
	// holds at most 1,000 characters: put a longer spec in SSM or the
	// artifact.
	Spec string
	// SpecParameter is the name of the SSM parameter holding the spec,
	// e.g. "/postdeploy/shop/prod"; it must be under the verify
	// function's parameter prefix (default "/postdeploy/").
	SpecParameter string
	// SpecFile is the spec's path inside Input, e.g. "postdeploy.yaml".
	SpecFile string
	// Input is the artifact the action reads (required with SpecFile).
	Input awscodepipeline.Artifact
	// RunOrder orders the action within its stage (default 1).
	RunOrder float64
	// VariablesNamespace makes verify's output variables readable as
	// #{<namespace>.<name>} by later actions.
	VariablesNamespace string
}

var paramName = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)

// UserParameters is the string the action passes to verify: the spec
// itself, or {"specParameter": name} or {"specFile": path}.
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
	var up string
	switch {
	case p.Spec != "":
		up = p.Spec
	case p.SpecParameter != "":
		if !paramName.MatchString(p.SpecParameter) {
			return "", fmt.Errorf("verify action: SpecParameter=%q: must be a full SSM parameter name such as /postdeploy/shop/prod", p.SpecParameter)
		}
		up = mustJSON(map[string]string{"specParameter": p.SpecParameter})
	default:
		if p.Input == nil {
			return "", errors.New("verify action: SpecFile needs Input, the artifact that holds the file")
		}
		if strings.HasPrefix(p.SpecFile, "/") || strings.Contains(p.SpecFile, "..") {
			return "", fmt.Errorf("verify action: SpecFile=%q: must be a relative path inside the artifact, e.g. postdeploy.yaml", p.SpecFile)
		}
		up = mustJSON(map[string]string{"specFile": p.SpecFile})
	}
	if n := utf8.RuneCountInString(up); n > MaxUserParameters {
		return "", fmt.Errorf("verify action: UserParameters would be %d characters; CodePipeline allows %d: put the spec in an SSM parameter (SpecParameter) or the artifact (SpecFile)", n, MaxUserParameters)
	}
	return up, nil
}

func mustJSON(v map[string]string) string {
	b, err := json.Marshal(v)
	if err != nil { // a map of strings always encodes
		panic(err)
	}
	return string(b)
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
