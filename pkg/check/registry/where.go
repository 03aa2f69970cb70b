package registry

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check/imagescan"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// TargetOf returns the awsclient.Target a spec Where names.
func TargetOf(w spec.Where) awsclient.Target {
	return awsclient.Target{RoleARN: w.RoleARN, ExternalID: w.ExternalID, Region: w.Region}
}

// at returns c's clients looking at w: the same SDK clients (built once
// per cold start), each call given the assumed role's cached credentials,
// the region, and the Assumer's refusal middleware as per-operation
// options, which the SDK documents as overriding the client's for that
// call ("Overriding Configuration for an Operation",
// https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/#overriding-configuration).
func (c Clients) at(w spec.Where) Clients {
	if w.IsZero() || c.Assumer == nil {
		return c
	}
	t := TargetOf(w)
	creds, scope := c.Assumer.Credentials(t), c.Assumer.Scope(t)
	// apply sets one call's options, whichever service's they are.
	apply := func(cred *aws.CredentialsProvider, region *string, api *[]func(*middleware.Stack) error) {
		if creds != nil {
			*cred = creds
		}
		if t.Region != "" {
			*region = t.Region
		}
		*api = append(*api, scope)
	}
	if c.CloudWatch != nil {
		c.CloudWatch = cloudWatchAt{api: c.CloudWatch, opt: func(o *cloudwatch.Options) { apply(&o.Credentials, &o.Region, &o.APIOptions) }}
	}
	if c.ECR != nil {
		c.ECR = ecrAt{api: c.ECR, opt: func(o *ecr.Options) { apply(&o.Credentials, &o.Region, &o.APIOptions) }}
	}
	if c.Inspector != nil {
		c.Inspector = inspectorAt{api: c.Inspector, opt: func(o *inspector2.Options) { apply(&o.Credentials, &o.Region, &o.APIOptions) }}
	}
	return c
}

type cloudWatchAt struct {
	api CloudWatch
	opt func(*cloudwatch.Options)
}

var _ CloudWatch = cloudWatchAt{}

func (c cloudWatchAt) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return c.api.DescribeAlarms(ctx, in, append(optFns, c.opt)...)
}

func (c cloudWatchAt) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return c.api.GetMetricData(ctx, in, append(optFns, c.opt)...)
}

type ecrAt struct {
	api imagescan.ECRAPI
	opt func(*ecr.Options)
}

var _ imagescan.ECRAPI = ecrAt{}

func (c ecrAt) DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	return c.api.DescribeImageScanFindings(ctx, in, append(optFns, c.opt)...)
}

type inspectorAt struct {
	api imagescan.InspectorAPI
	opt func(*inspector2.Options)
}

var _ imagescan.InspectorAPI = inspectorAt{}

func (c inspectorAt) ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	return c.api.ListFindings(ctx, in, append(optFns, c.opt)...)
}
