package remediate

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LambdaAPI is the part of *lambda.Client the actions use.
type LambdaAPI interface {
	GetAlias(ctx context.Context, in *lambda.GetAliasInput, optFns ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
	ListTags(ctx context.Context, in *lambda.ListTagsInput, optFns ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
}

var _ LambdaAPI = (*lambda.Client)(nil)

// lambdaRollbackAlias drops an alias's canary weight, or, with none,
// points the alias back at the function's previous published version.
type lambdaRollbackAlias struct{ api LambdaAPI }

func (lambdaRollbackAlias) Permissions() []string {
	return []string{"lambda:GetAlias", "lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:UpdateAlias"}
}

func (lambdaRollbackAlias) Params() []Param {
	return []Param{
		{Name: "function", Required: true, Doc: "the function name, e.g. {{.Dimensions.FunctionName}}"},
		{Name: "alias", Required: true, Doc: "the alias to roll back, e.g. live"},
	}
}

func (lambdaRollbackAlias) Targets(a Alarm, p Params) ([]Target, error) {
	fn := p["function"]
	arn := fn
	if !strings.HasPrefix(fn, "arn:") {
		arn = fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition(a.ARN), a.Region, a.AccountID, fn)
	}
	return []Target{{Type: "lambda-alias", ID: fn + ":" + p["alias"], ARN: arn}}, nil
}

func (a lambdaRollbackAlias) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	out, err := a.api.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(t.ARN)})
	if err != nil {
		return false, "", fmt.Errorf("list tags of function %s: %w", t.ARN, err)
	}
	ok, obs := tag.check(out.Tags)
	return ok, obs, nil
}

func (a lambdaRollbackAlias) Plan(ctx context.Context, t Target, p Params) (Call, string, error) {
	fn, alias := p["function"], p["alias"]
	cur, err := a.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
	if err != nil {
		return Call{}, "", fmt.Errorf("get alias %s of function %s: %w", alias, fn, err)
	}
	version := aws.ToString(cur.FunctionVersion)
	if cur.RoutingConfig != nil && len(cur.RoutingConfig.AdditionalVersionWeights) > 0 {
		var canary []string
		for v, w := range cur.RoutingConfig.AdditionalVersionWeights {
			canary = append(canary, fmt.Sprintf("version %s at %.0f%%", v, w*100))
		}
		sort.Strings(canary)
		return Call{
			API: "lambda:UpdateAlias",
			Input: &lambda.UpdateAliasInput{
				FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(version),
				RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}},
				RevisionId:    cur.RevisionId,
			},
			Note: fmt.Sprintf("drop the canary (%s) from alias %s of %s: all traffic to version %s", strings.Join(canary, ", "), alias, fn, version),
		}, "", nil
	}
	prev, err := a.previousVersion(ctx, fn, version)
	if err != nil {
		return Call{}, "", err
	}
	if prev == "" {
		return Call{}, fmt.Sprintf("alias %s of %s is at version %s with no canary and no earlier version to roll back to", alias, fn, version), nil
	}
	return Call{
		API: "lambda:UpdateAlias",
		Input: &lambda.UpdateAliasInput{
			FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(prev),
			RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}},
			RevisionId:    cur.RevisionId,
		},
		Note: fmt.Sprintf("point alias %s of %s back from version %s to %s", alias, fn, version, prev),
	}, "", nil
}

// previousVersion is the highest published version below cur ("" if none).
func (a lambdaRollbackAlias) previousVersion(ctx context.Context, fn, cur string) (string, error) {
	c, err := strconv.Atoi(cur)
	if err != nil {
		return "", fmt.Errorf("alias of %s points at %q, not a published version: nothing to roll back to", fn, cur)
	}
	best := 0
	p := lambda.NewListVersionsByFunctionPaginator(a.api, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list versions of %s: %w", fn, err)
		}
		for _, v := range out.Versions {
			if n, err := strconv.Atoi(aws.ToString(v.Version)); err == nil && n < c && n > best {
				best = n
			}
		}
	}
	if best == 0 {
		return "", nil
	}
	return strconv.Itoa(best), nil
}

func (a lambdaRollbackAlias) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*lambda.UpdateAliasInput](c)
	if err != nil {
		return Result{}, err
	}
	if _, err := a.api.UpdateAlias(ctx, in, onceLambda); err != nil {
		return Result{}, fmt.Errorf("update alias %s of %s to version %s: %w", aws.ToString(in.Name), aws.ToString(in.FunctionName), aws.ToString(in.FunctionVersion), err)
	}
	return Result{Summary: fmt.Sprintf("alias %s of %s now serves version %s only", aws.ToString(in.Name), aws.ToString(in.FunctionName), aws.ToString(in.FunctionVersion))}, nil
}

func (a lambdaRollbackAlias) Verify(ctx context.Context, _ Target, c Call, _ Result) (bool, string, error) {
	in, err := mustInput[*lambda.UpdateAliasInput](c)
	if err != nil {
		return false, "", err
	}
	cur, err := a.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: in.FunctionName, Name: in.Name})
	if err != nil {
		return false, "", fmt.Errorf("get alias %s of %s: %w", aws.ToString(in.Name), aws.ToString(in.FunctionName), err)
	}
	weights := 0
	if cur.RoutingConfig != nil {
		weights = len(cur.RoutingConfig.AdditionalVersionWeights)
	}
	obs := fmt.Sprintf("alias %s at version %s with %d canary version(s)", aws.ToString(in.Name), aws.ToString(cur.FunctionVersion), weights)
	return aws.ToString(cur.FunctionVersion) == aws.ToString(in.FunctionVersion) && weights == 0, obs, nil
}
