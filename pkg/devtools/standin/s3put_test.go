package standin

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3PutHeadGet(t *testing.T) {
	s := startServer(t, Scenario{})
	c := s3.NewFromConfig(awsConfig(t, s), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := ctxT(t)
	tests := []struct {
		name string
		body io.Reader
	}{
		{"seekable", bytes.NewReader([]byte("verdict: Succeeded\n"))},
		// An unseekable body cannot be sent over plain HTTP: the SDK wants
		// TLS for a trailing checksum, so only seekable bodies are tested.
		{"seekable from strings", strings.NewReader("verdict: Succeeded\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "reports/" + tc.name + ".yaml"
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("out"), Key: aws.String(key), Body: tc.body,
				ContentType: aws.String("application/yaml"), ContentLength: aws.Int64(19)})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("out"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToInt64(h.ContentLength) != 19 || aws.ToString(h.ContentType) != "application/yaml" {
				t.Errorf("HeadObject = length %d type %q; want 19 application/yaml", aws.ToInt64(h.ContentLength), aws.ToString(h.ContentType))
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("out"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(b) != "verdict: Succeeded\n" {
				t.Errorf("GetObject after PutObject = %q; want the bytes put", b)
			}
		})
	}
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("out"), Key: aws.String("missing")})
	if !errors.As(err, new(*s3types.NotFound)) {
		t.Errorf("HeadObject(missing) error = %v (%T); want *types.NotFound", err, err)
	}
}
