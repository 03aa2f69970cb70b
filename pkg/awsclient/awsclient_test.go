package awsclient

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

func TestCloudWatchProtocol(t *testing.T) {
	tests := []struct {
		name    string
		wantSet bool
		wantErr bool
	}{
		{"", false, false},
		{"query", true, false},
		{"json", true, false},
		{"cbor", false, true},
	}
	for _, tt := range tests {
		opt, err := CloudWatchProtocol(tt.name)
		if (err != nil) != tt.wantErr {
			t.Errorf("CloudWatchProtocol(%q) error = %v; want error %t", tt.name, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var o cloudwatch.Options
		opt(&o)
		if (o.Protocol != nil) != tt.wantSet {
			t.Errorf("CloudWatchProtocol(%q) set Protocol = %v; want set %t", tt.name, o.Protocol, tt.wantSet)
		}
	}
}

func TestS3PathStyleOnlyForCustomEndpoints(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	if CustomEndpoint(aws.Config{}) {
		t.Error("CustomEndpoint(no endpoint) = true; want false: real S3 uses virtual-hosted addressing")
	}
	if !CustomEndpoint(aws.Config{BaseEndpoint: aws.String("http://127.0.0.1:4566")}) {
		t.Error("CustomEndpoint(AWS_ENDPOINT_URL) = false; want true")
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
	if !CustomEndpoint(aws.Config{}) {
		t.Error("CustomEndpoint(AWS_ENDPOINT_URL_S3) = false; want true")
	}
	if c := S3(aws.Config{Region: "us-east-1"}, nil); !c.Options().UsePathStyle {
		t.Error("S3 client against a custom endpoint does not use path style")
	}
}
