// Package awsclient builds the SDK configuration the functions share and
// the few client options that let the same binaries run against AWS or a
// local emulator.
//
// Endpoints come from the SDK's standard AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> variables (config.LoadDefaultConfig reads
// them). What the SDK has no variable for is here: the CloudWatch wire
// protocol (POSTDEPLOY_CLOUDWATCH_PROTOCOL) for emulators that do not speak
// Smithy RPC v2 CBOR, and S3 path-style addressing whenever a custom
// endpoint is set.
package awsclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// Load returns the one aws.Config a function builds its clients from.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// CloudWatchProtocol returns the client option that selects CloudWatch's
// wire protocol: "" keeps the SDK's default (Smithy RPC v2 CBOR), "query"
// selects awsQuery and "json" awsJson 1.0.
func CloudWatchProtocol(name string) (func(*cloudwatch.Options), error) {
	switch name {
	case "":
		return func(*cloudwatch.Options) {}, nil
	case "query":
		return func(o *cloudwatch.Options) { o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801) }, nil
	case "json":
		return func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801) }, nil
	}
	return nil, fmt.Errorf("unknown CloudWatch protocol %q (want \"\", \"query\" or \"json\")", name)
}

// CustomEndpoint reports whether S3 is pointed at a custom endpoint (an
// emulator), from the standard variables.
func CustomEndpoint(cfg aws.Config) bool {
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}

// S3 returns an S3 client on cfg with the given credentials — verify uses
// it with the job's temporary artifact credentials — using path-style
// addressing against a custom endpoint.
func S3(cfg aws.Config, creds aws.CredentialsProvider) *s3.Client {
	pathStyle := CustomEndpoint(cfg)
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if creds != nil {
			o.Credentials = creds
		}
		o.UsePathStyle = pathStyle
	})
}
