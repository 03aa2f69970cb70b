package standin

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// TestPublishBatchStrictAsSNS: the limits of the PublishBatch API
// reference (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html),
// through the real SDK client on the Query protocol.
func TestPublishBatchStrictAsSNS(t *testing.T) {
	entries := func(n, size int) []snstypes.PublishBatchRequestEntry {
		var es []snstypes.PublishBatchRequestEntry
		for i := range n {
			es = append(es, snstypes.PublishBatchRequestEntry{Id: aws.String(fmt.Sprintf("e%d", i)), Message: aws.String(strings.Repeat("x", size)), Subject: aws.String("s")})
		}
		return es
	}
	dup := entries(2, 1)
	dup[1].Id = aws.String("e0")
	badID := entries(1, 1)
	badID[0].Id = aws.String("has space")
	tests := []struct {
		name    string
		entries []snstypes.PublishBatchRequestEntry
		code    string
	}{
		{"11 entries: TooManyEntriesInBatchRequest", entries(11, 1), "TooManyEntriesInBatchRequest"},
		{"repeated Id: BatchEntryIdsNotDistinct", dup, "BatchEntryIdsNotDistinct"},
		{"Id with a space: InvalidBatchEntryId", badID, "InvalidBatchEntryId"},
		{"3 × 100 KiB: BatchRequestTooLong", entries(3, 100<<10), "BatchRequestTooLong"},
	}
	s := startServer(t, Scenario{})
	c := sns.NewFromConfig(awsConfig(t, s))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PublishBatch(ctxT(t), &sns.PublishBatchInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), PublishBatchRequestEntries: tt.entries})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Errorf("PublishBatch = %v; want %s", err, tt.code)
			}
		})
	}
	if n := len(s.Published()); n != 0 {
		t.Errorf("published %d messages after refused batches; want 0", n)
	}

	// Ten entries, one of them empty: nine published, the empty one
	// listed in Failed with SenderFault true (Publish refuses an empty
	// message).
	es := entries(10, 5)
	es[4].Message = aws.String("")
	out, err := c.PublishBatch(ctxT(t), &sns.PublishBatchInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), PublishBatchRequestEntries: es})
	if err != nil {
		t.Fatalf("PublishBatch(10 entries) = %v; want nil", err)
	}
	if len(out.Successful) != 9 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "e4" || !out.Failed[0].SenderFault {
		t.Errorf("PublishBatch = %d successful, failed %+v; want 9 and e4 with SenderFault", len(out.Successful), out.Failed)
	}
	for _, r := range out.Successful {
		if aws.ToString(r.MessageId) == "" {
			t.Errorf("entry %s: no MessageId", aws.ToString(r.Id))
		}
	}
	if n := len(s.Published()); n != 9 {
		t.Errorf("published %d; want 9", n)
	}
}
