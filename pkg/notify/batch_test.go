package notify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
)

// TestBatches: PublishBatch takes at most 10 entries, to one topic, of at
// most 256 KiB in all (SNS API reference, PublishBatch).
func TestBatches(t *testing.T) {
	r := Router{Topics: map[Kind]string{Security: "arn:sec", Deployments: "arn:dep"}}
	msg := func(k Kind, body int) Message { return Message{Kind: k, Subject: "s", Body: strings.Repeat("x", body)} }
	tests := []struct {
		name string
		ms   []Message
		want [][]int
	}{
		{"25 small: 10, 10, 5", func() []Message {
			var ms []Message
			for range 25 {
				ms = append(ms, msg(Security, 10))
			}
			return ms
		}(), [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, {20, 21, 22, 23, 24}}},
		{"two topics apart", []Message{msg(Security, 1), msg(Deployments, 1), msg(Security, 1)}, [][]int{{0, 2}, {1}}},
		{"100 KiB bodies: two a call (256 KiB in all)", []Message{msg(Security, 100<<10), msg(Security, 100<<10), msg(Security, 100<<10)}, [][]int{{0, 1}, {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Batches(tt.ms)
			if err != nil {
				t.Fatalf("Batches = %v; want nil", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Batches (-want +got):\n%s", d)
			}
		})
	}
	if _, err := r.Batches([]Message{{Kind: Escalation}}); err == nil {
		t.Errorf("Batches(kind with no topic) = nil error; want the missing topic named")
	}
}

// TestSendBatchRefusesWhatSNSWould: more than 10 entries or two topics
// in one call are refused before any call.
func TestSendBatchRefusesWhatSNSWould(t *testing.T) {
	r := Router{API: nopBatch{}, Topics: map[Kind]string{Security: "arn:sec", Deployments: "arn:dep"}}
	var eleven []Message
	for range 11 {
		eleven = append(eleven, Message{Kind: Security, Subject: "s"})
	}
	if _, err := r.SendBatch(context.Background(), eleven); err == nil {
		t.Errorf("SendBatch(11 messages) = nil error; want refused")
	}
	if _, err := r.SendBatch(context.Background(), []Message{{Kind: Security}, {Kind: Deployments}}); err == nil {
		t.Errorf("SendBatch(two topics) = nil error; want refused")
	}
	if _, err := (Router{API: nopPublisher{}, Topics: r.Topics}).SendBatch(context.Background(), eleven[:1]); !errors.Is(err, ErrNoBatch) {
		t.Errorf("SendBatch on a Publisher without PublishBatch = %v; want ErrNoBatch", err)
	}
}

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return &sns.PublishOutput{}, nil
}

type nopBatch struct{ nopPublisher }

func (nopBatch) PublishBatch(context.Context, *sns.PublishBatchInput, ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	return &sns.PublishBatchOutput{}, nil
}
