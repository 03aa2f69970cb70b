package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Check adds cdk-nag's AwsSolutions rules to every stack under scope:
// an unsuppressed finding is an error annotation, which fails `cdk synth`.
func Check(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
}

func suppress(c constructs.IConstruct, children bool, ss ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &ss, jsii.Bool(children))
}

func suppression(id, reason string, appliesTo ...string) *cdknag.NagPackSuppression {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]any, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	return s
}

// suppressions records, next to the resource, every cdk-nag finding the
// stack accepts and why. Each IAM5 suppression names exactly the
// wildcard resource it allows; where several statements share one
// resource ("*"), the reason lists each of them.
func (s *Stack) suppressions() {
	for _, f := range s.functionsList() {
		reasons := map[string][]string{
			"*": {"X-Ray active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords): X-Ray supports no resource-level permissions"},
		}
		order := []string{"*"}
		for _, w := range s.wildcards[f.Name] {
			if _, ok := reasons[w.nag]; !ok {
				order = append(order, w.nag)
			}
			reasons[w.nag] = append(reasons[w.nag], w.reason)
		}
		ss := make([]*cdknag.NagPackSuppression, 0, len(order))
		for _, r := range order {
			ss = append(ss, suppression("AwsSolutions-IAM5", strings.Join(reasons[r], "; "), "Resource::"+r))
		}
		suppress(f.ExecutionRole, true, ss...)
	}
}

// suppressionRegex is a suppression whose appliesTo is a regular
// expression, for findings that name CDK's generated logical ids.
func suppressionRegex(id, reason, regex string) *cdknag.NagPackSuppression {
	a := []any{&cdknag.RegexAppliesTo{Regex: jsii.String(regex)}}
	return &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason), AppliesTo: &a}
}
