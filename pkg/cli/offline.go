package cli

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check/imagescan"
	"github.com/postdeploy/postdeploy/pkg/check/registry"
)

// offline stands in for every AWS client when lint builds the checks to
// validate them: building calls nothing, and a call would be a bug, so
// each one fails.
type offline struct{}

var (
	_ registry.CloudWatch     = offline{}
	_ imagescan.ECRAPI        = offline{}
	_ imagescan.InspectorAPI  = offline{}
	_ awsclient.AssumeRoleAPI = offline{}
)

var errOffline = errors.New("postdeploy lint calls no AWS API")

func (offline) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return nil, errOffline
}

func (offline) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, errOffline
}

func (offline) DescribeImageScanFindings(context.Context, *ecr.DescribeImageScanFindingsInput, ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	return nil, errOffline
}

func (offline) ListFindings(context.Context, *inspector2.ListFindingsInput, ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	return nil, errOffline
}

func (offline) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return nil, errOffline
}

// offlineClients are the clients lint builds checks with.
func offlineClients() registry.Clients {
	return registry.Clients{CloudWatch: offline{}, ECR: offline{}, Inspector: offline{}, Assumer: awsclient.NewAssumer(offline{}, "postdeploy-lint")}
}
