package standin

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"
)

func TestSSMGetParameter(t *testing.T) {
	s := startServer(t, Scenario{Parameters: []Parameter{
		{Name: "/postdeploy/spec/api", Value: "bake: 5m\nchecks: []\n"},
		{Name: "/postdeploy/token", Value: "s3cret", Type: "SecureString"},
	}})
	c := ssm.NewFromConfig(awsConfig(t, s))
	ctx := ctxT(t)
	tests := []struct {
		name, param string
		decrypt     bool
		want        string
	}{
		{"plain", "/postdeploy/spec/api", false, "bake: 5m\nchecks: []\n"},
		{"secure decrypted", "/postdeploy/token", true, "s3cret"},
	}
	for _, tc := range tests {
		out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.param), WithDecryption: aws.Bool(tc.decrypt)})
		if err != nil {
			t.Fatalf("%s: GetParameter(%q): %v", tc.name, tc.param, err)
		}
		if got := aws.ToString(out.Parameter.Value); got != tc.want {
			t.Errorf("%s: GetParameter(%q).Value = %q; want %q", tc.name, tc.param, got, tc.want)
		}
	}
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/postdeploy/token")})
	if err != nil {
		t.Fatalf("GetParameter(secure, no decryption): %v", err)
	}
	if got := aws.ToString(out.Parameter.Value); got == "s3cret" || out.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("GetParameter(secure, no decryption) = %q type %s; want ciphertext, SecureString", got, out.Parameter.Type)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/missing")})
	if !errors.As(err, new(*ssmtypes.ParameterNotFound)) {
		t.Errorf("GetParameter(/missing) error = %v; want *types.ParameterNotFound", err)
	}
	if calls := s.CallsTo(SSM, "GetParameter"); len(calls) != 4 || calls[3].ErrorCode != "ParameterNotFound" {
		t.Errorf("recorded GetParameter calls = %+v; want 4, the last ParameterNotFound", calls)
	}
}

func TestSSMStartAutomation(t *testing.T) {
	s := startServer(t, Scenario{})
	c := ssm.NewFromConfig(awsConfig(t, s))
	out, err := c.StartAutomationExecution(ctxT(t), &ssm.StartAutomationExecutionInput{
		DocumentName: aws.String("AWS-RestartEC2Instance"), Parameters: map[string][]string{"InstanceId": {"i-1"}}})
	if err != nil {
		t.Fatalf("StartAutomationExecution: %v", err)
	}
	got := s.Automations()
	want := []AutomationExecution{{ID: aws.ToString(out.AutomationExecutionId), DocumentName: "AWS-RestartEC2Instance",
		Parameters: map[string][]string{"InstanceId": {"i-1"}}, Time: testNow}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Automations() mismatch (-want +got):\n%s", diff)
	}
}

func TestS3GetObject(t *testing.T) {
	s := startServer(t, Scenario{Objects: []Object{
		{Bucket: "artifacts", Key: "app/src.zip", Zip: map[string]string{"postdeploy.yaml": "bake: 1m\n"}},
		{Bucket: "artifacts", Key: "notes.txt", Body: "hello"},
	}})
	c := s3.NewFromConfig(awsConfig(t, s), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := ctxT(t)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app/src.zip")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("GetObject body is not a zip: %v", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "postdeploy.yaml" {
		t.Errorf("zip holds %v; want [postdeploy.yaml]", zr.File)
	}
	if aws.ToString(out.ContentType) != "application/zip" || aws.ToInt64(out.ContentLength) != int64(len(b)) {
		t.Errorf("GetObject content type %q length %d; want application/zip %d", aws.ToString(out.ContentType), aws.ToInt64(out.ContentLength), len(b))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("missing.zip")})
	if !errors.As(err, new(*s3types.NoSuchKey)) {
		t.Errorf("GetObject(missing) error = %v; want *types.NoSuchKey", err)
	}
	calls := s.CallsTo(S3, "GetObject")
	if len(calls) != 2 || calls[0].Input["Key"] != "app/src.zip" || calls[1].ErrorCode != "NoSuchKey" {
		t.Errorf("recorded GetObject calls = %+v", calls)
	}
}

func TestS3WithoutPathStyle(t *testing.T) {
	// With an IP endpoint the SDK's S3 endpoint rules fall back to path
	// style by themselves; record what happens so the lead knows.
	s := startServer(t, Scenario{Objects: []Object{{Bucket: "artifacts", Key: "k", Body: "v"}}})
	c := s3.NewFromConfig(awsConfig(t, s))
	out, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject without UsePathStyle against %s: %v", s.URL(), err)
	}
	out.Body.Close()
}

func TestEventBridgePutEvents(t *testing.T) {
	s := startServer(t, Scenario{})
	c := eventbridge.NewFromConfig(awsConfig(t, s))
	detail := `{"verdict":"Failed","pipeline":"app"}`
	out, err := c.PutEvents(ctxT(t), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("postdeploy.verify"), DetailType: aws.String("Verification Verdict"), Detail: aws.String(detail),
			Resources: []string{"arn:aws:codepipeline:us-east-1:123456789012:app"}},
		{Source: aws.String("postdeploy.verify")},
	}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "InvalidArgument" {
		t.Errorf("PutEvents = failed %d, entries %+v; want 1 failed (the entry without detail)", out.FailedEntryCount, out.Entries)
	}
	ev := s.Events()
	if len(ev) != 1 || ev[0]["Detail"] != detail || ev[0]["DetailType"] != "Verification Verdict" {
		b, _ := json.Marshal(ev)
		t.Errorf("Events() = %s; want the one valid entry", b)
	}
}
