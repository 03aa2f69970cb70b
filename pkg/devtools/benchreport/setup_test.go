package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
)

// The two halves of a function's own setup at cold start, warm (so the
// figures are a floor: the first call in a fresh process also faults in
// code and runs lazy initialisers): loading the AWS config from the
// environment, and building every client the three functions build.

func setupEnv(b *testing.B) {
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		// as under lambdarun and in Lambda: no custom CA bundle
		"AWS_CA_BUNDLE": "",
	} {
		b.Setenv(k, v)
	}
}

// BenchmarkLoadConfig is awsclient.Load: config.LoadDefaultConfig.
func BenchmarkLoadConfig(b *testing.B) {
	setupEnv(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := awsclient.Load(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewClients builds the 13 clients respond and remediate build
// between them (verify's are a subset) from one config.
func BenchmarkNewClients(b *testing.B) {
	setupEnv(b)
	cfg, err := awsclient.Load(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = cloudwatch.NewFromConfig(cfg)
		_ = codepipeline.NewFromConfig(cfg)
		_ = codedeploy.NewFromConfig(cfg)
		_ = dynamodb.NewFromConfig(cfg)
		_ = ec2.NewFromConfig(cfg)
		_ = ecs.NewFromConfig(cfg)
		_ = autoscaling.NewFromConfig(cfg)
		_ = lambdasvc.NewFromConfig(cfg)
		_ = ssm.NewFromConfig(cfg)
		_ = sns.NewFromConfig(cfg)
		_ = eventbridge.NewFromConfig(cfg)
		_ = ecr.NewFromConfig(cfg)
		_ = inspector2.NewFromConfig(cfg)
	}
	b.ReportMetric(13, "clients/op")
}
