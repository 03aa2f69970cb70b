package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/verifyaction"
)

// ExampleSourceKey is the object the example pipeline starts from.
const ExampleSourceKey = "source/app.zip"

// exampleSpec is the example pipeline's inline verification spec: no new
// alarms of the stack's alarm set while it bakes.
func (s *Stack) exampleSpec() string {
	prefix := *s.StackName() + "-"
	if s.Props.Application != nil {
		prefix = s.Props.Application.Name + "-"
	}
	return fmt.Sprintf("bake: 5m\ninterval: 30s\nchecks:\n  - name: no-new-alarms\n    alarms: {prefix: %q, ignorePreexisting: true}\n", prefix)
}

// examplePipelineName is the example pipeline's name, fixed so IAM can
// name its stages (respond's RollbackStage).
func (s *Stack) examplePipelineName() string { return *s.StackName() + "-example" }

// examplePipeline is a minimal pipeline that shows where verify goes:
// Source (an S3 object) → Deploy (S3 deploy) → Verify (the helper's
// action). Start it by uploading ExampleSourceKey to the artifact bucket
// and releasing a change.
func (s *Stack) examplePipeline() error {
	logs := awss3.NewBucket(s.Stack, jsii.String("ExampleAccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
	})
	artifacts := awss3.NewBucket(s.Stack, jsii.String("ExampleArtifacts"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true), // an S3 source action needs versioning
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("artifacts/"),
	})
	source := awscodepipeline.NewArtifact(jsii.String("Source"), nil)
	verify, err := verifyaction.New(verifyaction.Props{
		Function:           s.Verify.Function,
		Spec:               s.exampleSpec(),
		VariablesNamespace: "Verify",
	})
	if err != nil {
		return fmt.Errorf("example pipeline: %w", err)
	}
	s.Pipeline = awscodepipeline.NewPipeline(s.Stack, jsii.String("ExamplePipeline"), &awscodepipeline.PipelineProps{
		PipelineName:   jsii.String(s.examplePipelineName()),
		PipelineType:   awscodepipeline.PipelineType_V2,
		ArtifactBucket: artifacts,
		Stages: &[]*awscodepipeline.StageProps{
			{StageName: jsii.String("Source"), Actions: &[]awscodepipeline.IAction{
				awscodepipelineactions.NewS3SourceAction(&awscodepipelineactions.S3SourceActionProps{
					ActionName: jsii.String("Source"),
					Bucket:     artifacts,
					BucketKey:  jsii.String(ExampleSourceKey),
					Output:     source,
					Trigger:    awscodepipelineactions.S3Trigger_NONE,
				}),
			}},
			{StageName: jsii.String("Deploy"), Actions: &[]awscodepipeline.IAction{
				awscodepipelineactions.NewS3DeployAction(&awscodepipelineactions.S3DeployActionProps{
					ActionName: jsii.String("Deploy"),
					Bucket:     artifacts,
					Input:      source,
					ObjectKey:  jsii.String("deployed"),
					Extract:    jsii.Bool(true),
				}),
			}},
			{StageName: jsii.String("Verify"), Actions: &[]awscodepipeline.IAction{verify}},
		},
	})
	// The pipeline's roles are CDK's own grants for the example's artifact
	// bucket and for invoking verify; they never leave those resources.
	const grants = "CDK's CodePipeline grants for the example's own artifact bucket: read, write and clean up artifacts and multipart uploads in that bucket only"
	suppress(s.Pipeline, true,
		suppression("AwsSolutions-IAM5", grants,
			"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*"),
		suppressionRegex("AwsSolutions-IAM5", grants+" (its objects)", `/^Resource::<ExampleArtifacts[0-9A-F]+\.Arn>\/\*$/`),
		suppression("AwsSolutions-IAM5",
			"CDK's Lambda invoke action: lambda:ListFunctions supports no resource-level permissions", "Resource::*"),
		suppressionRegex("AwsSolutions-IAM5",
			"CDK's Lambda invoke action may invoke verify's versions and aliases, not only $LATEST", `/^Resource::<Verify[0-9A-F]+\.Arn>:\*$/`),
	)
	return nil
}
