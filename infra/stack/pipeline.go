package stack

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/verifyaction"
)

// exampleSite is the example pipeline's source: a page bundled with the
// stack.
//
//go:embed example
var exampleSite embed.FS

// exampleSourceDir is where, under the CDK output directory, the example
// source is written for CDK to package as an asset.
const exampleSourceDir = "postdeploy-example-source"

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
// action).
//
// CodePipeline starts a pipeline as soon as it is created. Its source is
// therefore an object that exists by then: the bundled page, a CDK file
// asset that `cdk deploy` uploads to the bootstrap bucket before it
// creates the stack (that bucket is versioned, which an S3 source
// action requires: node_modules/aws-cdk/lib/api/bootstrap/
// bootstrap-template.yaml, StagingBucket VersioningConfiguration). The
// first run deploys the page and verifies it; with a source object that
// did not exist yet, it would fail in its Source stage.
func (s *Stack) examplePipeline() error {
	srcDir, err := s.exampleSource()
	if err != nil {
		return fmt.Errorf("example pipeline: %w", err)
	}
	site := awss3assets.NewAsset(s.Stack, jsii.String("ExampleSource"), &awss3assets.AssetProps{Path: jsii.String(srcDir)})
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
					Bucket:     site.Bucket(),
					BucketKey:  site.S3ObjectKey(),
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

// exampleSource writes the bundled page under the CDK output directory
// and returns its directory, for CDK to zip and upload as an asset.
func (s *Stack) exampleSource() (string, error) {
	dir := filepath.Join(*awscdk.Stage_Of(s.Stack).Outdir(), exampleSourceDir)
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: CDK reads it to package the asset; a public page, not a secret
		return "", err
	}
	b, err := exampleSite.ReadFile("example/index.html")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "index.html"), b, 0o644) //nolint:gosec // G306: a public page, packaged by CDK
}
