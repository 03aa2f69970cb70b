package standin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// opsTagList is n tags k0…k(n-1), each with the value v.
func opsTagList(n int, v string) []ssmtypes.Tag {
	out := make([]ssmtypes.Tag, n)
	for i := range out {
		out[i] = ssmtypes.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String(v)}
	}
	return out
}

// TestOpsItemTagsStrictAsCreateOpsItem: CreateOpsItem's Tags as the API
// reference has them (CreateOpsItem: "Array Members: Maximum number of
// 1000 items"; Tag: Key 1–128 and Value 0–256 characters, pattern
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$), through the real SDK: refused tags
// create nothing, accepted ones are kept on the OpsItem.
func TestOpsItemTagsStrictAsCreateOpsItem(t *testing.T) {
	refused := []struct {
		name string
		tags []ssmtypes.Tag
	}{
		{"1,001 tags", opsTagList(1001, "v")},
		{"empty key", []ssmtypes.Tag{{Key: aws.String(""), Value: aws.String("v")}}},
		{"key of 129 characters", []ssmtypes.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}},
		{"value of 257 characters", []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}},
		{"key with a character outside the pattern", []ssmtypes.Tag{{Key: aws.String("a*b"), Value: aws.String("v")}}},
		{"value with a character outside the pattern", []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("a,b")}}},
	}
	s := startServer(t, Scenario{})
	c := ssm.NewFromConfig(awsConfig(t, s))
	in := func(tags []ssmtypes.Tag) *ssm.CreateOpsItemInput {
		return &ssm.CreateOpsItemInput{Title: aws.String("t"), Description: aws.String("d"), Source: aws.String("postdeploy"), Tags: tags}
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateOpsItem(ctxT(t), in(tt.tags))
			var inv *ssmtypes.OpsItemInvalidParameterException
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), "Tags") {
				t.Errorf("CreateOpsItem(%s) = %v; want OpsItemInvalidParameterException naming Tags", tt.name, err)
			}
		})
	}
	if n := len(s.OpsItems()); n != 0 {
		t.Fatalf("refused calls created %d OpsItems; want 0", n)
	}

	accepted := []struct {
		name string
		tags []ssmtypes.Tag
		want map[string]string // a sample of what the OpsItem keeps
		n    int
	}{
		{"no tags", nil, nil, 0},
		{"1,000 tags", opsTagList(1000, "v"), map[string]string{"k0": "v", "k999": "v"}, 1000},
		{"empty value, 128-character key, 256-character value", []ssmtypes.Tag{
			{Key: aws.String("postdeploy:managed-by"), Value: aws.String("")},
			{Key: aws.String(strings.Repeat("k", 128)), Value: aws.String(strings.Repeat("v", 256))},
		}, map[string]string{"postdeploy:managed-by": "", strings.Repeat("k", 128): strings.Repeat("v", 256)}, 2},
	}
	for i, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.CreateOpsItem(ctxT(t), in(tt.tags)); err != nil {
				t.Fatalf("CreateOpsItem(%s) = %v; want nil", tt.name, err)
			}
			it := s.OpsItems()[i]
			if len(it.Tags) != tt.n {
				t.Errorf("OpsItem kept %d tags; want %d", len(it.Tags), tt.n)
			}
			for k, v := range tt.want {
				if got, ok := it.Tags[k]; !ok || got != v {
					t.Errorf("OpsItem tag %.20q = %.20q, %v; want %.20q", k, got, ok, v)
				}
			}
		})
	}
}

// bodyRecorder keeps the body of every response it carries.
type bodyRecorder struct {
	next   http.RoundTripper
	bodies [][]byte
}

func (b *bodyRecorder) Do(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b.bodies = append(b.bodies, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestGetOpsItemAnswersNoTags: the OpsItem in GetOpsItem's response has
// no Tags member (API reference, GetOpsItem and the OpsItem data type);
// the stand-in keeps the tags CreateOpsItem was given but does not
// answer them there.
func TestGetOpsItemAnswersNoTags(t *testing.T) {
	s := startServer(t, Scenario{})
	cfg := awsConfig(t, s)
	rec := &bodyRecorder{next: http.DefaultTransport}
	cfg.HTTPClient = rec
	c := ssm.NewFromConfig(cfg)
	out, err := c.CreateOpsItem(ctxT(t), &ssm.CreateOpsItemInput{Title: aws.String("t"), Description: aws.String("d"), Source: aws.String("postdeploy"),
		Tags: []ssmtypes.Tag{{Key: aws.String("postdeploy:managed-by"), Value: aws.String("postdeploy")}}})
	if err != nil {
		t.Fatalf("CreateOpsItem = %v", err)
	}
	if _, err := c.GetOpsItem(ctxT(t), &ssm.GetOpsItemInput{OpsItemId: out.OpsItemId}); err != nil {
		t.Fatalf("GetOpsItem(%s) = %v", aws.ToString(out.OpsItemId), err)
	}
	if len(rec.bodies) != 2 {
		t.Fatalf("recorded %d responses; want 2", len(rec.bodies))
	}
	if got := string(rec.bodies[1]); strings.Contains(got, "Tags") || strings.Contains(got, "managed-by") {
		t.Errorf("GetOpsItem answered %s; want no Tags", got)
	}
	if items := s.OpsItems(); len(items) != 1 || items[0].Tags["postdeploy:managed-by"] != "postdeploy" {
		t.Errorf("OpsItems() = %+v; want one carrying postdeploy:managed-by=postdeploy", items)
	}
}
