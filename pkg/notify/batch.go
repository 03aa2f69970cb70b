package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// BatchPublisher is the part of *sns.Client SendBatch uses.
type BatchPublisher interface {
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

var _ BatchPublisher = (*sns.Client)(nil)

// The limits of one PublishBatch call, from the SNS API reference
// (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html):
// "Publishes up to 10 messages to the specified topic in a single batch …
// If you try to send more than 10 messages in a single batch request, you
// will receive a TooManyEntriesInBatchRequest exception", and "the
// maximum total payload size (the sum of the individual lengths of all of
// the batched messages) [is] 256 KiB (262,144 bytes)" — body and
// attributes included.
const (
	MaxBatchEntries = 10
	MaxBatchBytes   = 256 << 10
)

// ErrNoBatch is SendBatch's error when the Router's API cannot
// PublishBatch.
var ErrNoBatch = errors.New("notify: the SNS API given to the Router has no PublishBatch")

// BatchResult is what became of one message of a PublishBatch call.
type BatchResult struct {
	// MessageID is SNS's id when the entry was published.
	MessageID string
	// Err is set when SNS listed the entry in Failed: it was not
	// published, so sending it again cannot duplicate it.
	Err error
	// Retryable is true for a Failed entry SNS says was not the sender's
	// fault (SenderFault false): the same entry may succeed later.
	Retryable bool
}

// CanBatch reports whether the Router's API can PublishBatch.
func (r Router) CanBatch() bool {
	_, ok := r.API.(BatchPublisher)
	return ok
}

// Batches splits ms into the groups one PublishBatch call takes: one
// topic each, at most MaxBatchEntries messages and MaxBatchBytes of
// bodies and attributes. It returns indexes into ms, in order; a message
// that cannot be rendered (no topic for its kind) is an error.
func (r Router) Batches(ms []Message) ([][]int, error) {
	type open struct {
		idx   []int
		bytes int
	}
	byTopic := map[string]*open{}
	var order []string
	var out [][]int
	for i, m := range ms {
		topic, attrs, body, err := r.prepare(m)
		if err != nil {
			return nil, err
		}
		size := entrySize(Subject(m.Subject), body, attrs)
		b := byTopic[topic]
		if b == nil {
			b = &open{}
			byTopic[topic] = b
			order = append(order, topic)
		}
		if len(b.idx) == MaxBatchEntries || (len(b.idx) > 0 && b.bytes+size > MaxBatchBytes) {
			out = append(out, b.idx)
			*b = open{}
		}
		b.idx = append(b.idx, i)
		b.bytes += size
	}
	for _, t := range order {
		if b := byTopic[t]; len(b.idx) > 0 {
			out = append(out, b.idx)
		}
	}
	return out, nil
}

// entrySize is what an entry counts against the batch's payload limit:
// its body, its subject and each attribute's name, type and value.
func entrySize(subject, body string, attrs map[string]snstypes.MessageAttributeValue) int {
	n := len(body) + len(subject)
	for k, v := range attrs {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// SendBatch publishes ms — one group from Batches: one topic, at most
// MaxBatchEntries — with one PublishBatch call, each message rendered as
// Send renders it. An error is for the call as a whole: nothing is known
// of its entries (SNS may have published some). Otherwise results[i]
// says what became of ms[i]; SNS reports each entry on its own ("check
// for batch errors even when the call returns an HTTP status code of
// 200", PublishBatch API reference).
func (r Router) SendBatch(ctx context.Context, ms []Message) ([]BatchResult, error) {
	api, ok := r.API.(BatchPublisher)
	if !ok {
		return nil, ErrNoBatch
	}
	if len(ms) == 0 || len(ms) > MaxBatchEntries {
		return nil, fmt.Errorf("notify: a batch holds 1 to %d messages, not %d (split it with Router.Batches)", MaxBatchEntries, len(ms))
	}
	in := &sns.PublishBatchInput{}
	for i, m := range ms {
		topic, attrs, body, err := r.prepare(m)
		if err != nil {
			return nil, err
		}
		if in.TopicArn == nil {
			in.TopicArn = aws.String(topic)
		} else if topic != *in.TopicArn {
			return nil, fmt.Errorf("notify: a batch goes to one topic; message %d is for %s, not %s (split it with Router.Batches)", i, topic, *in.TopicArn)
		}
		in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, snstypes.PublishBatchRequestEntry{
			Id:                aws.String(batchID(i)),
			Subject:           aws.String(Subject(m.Subject)),
			Message:           aws.String(body),
			MessageAttributes: attrs,
		})
	}
	out, err := api.PublishBatch(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("publish a batch of %d %s notifications to %s: %w", len(ms), ms[0].Kind, aws.ToString(in.TopicArn), err)
	}
	res := make([]BatchResult, len(ms))
	seen := make([]bool, len(ms))
	index := func(id *string) (int, bool) {
		s := aws.ToString(id)
		if len(s) < 2 {
			return 0, false
		}
		i, err := strconv.Atoi(s[1:])
		if err != nil || i < 0 || i >= len(ms) || s != batchID(i) {
			return 0, false
		}
		return i, true
	}
	for _, s := range out.Successful {
		if i, ok := index(s.Id); ok {
			res[i] = BatchResult{MessageID: aws.ToString(s.MessageId)}
			seen[i] = true
		}
	}
	for _, f := range out.Failed {
		if i, ok := index(f.Id); ok {
			res[i] = BatchResult{
				Err:       fmt.Errorf("publish %s notification to %s: entry failed: %s: %s", ms[i].Kind, aws.ToString(in.TopicArn), aws.ToString(f.Code), aws.ToString(f.Message)),
				Retryable: !f.SenderFault,
			}
			seen[i] = true
		}
	}
	for i, ok := range seen {
		if !ok {
			// Neither Successful nor Failed: SNS broke its contract;
			// what became of the entry is unknown, as for a failed call.
			return nil, fmt.Errorf("publish a batch to %s: the answer does not report entry %s", aws.ToString(in.TopicArn), batchID(i))
		}
	}
	return res, nil
}

// batchID is entry i's Id: "Ids of a batch request must be unique within
// a request … up to 80 characters … alphanumeric characters, hyphens(-),
// and underscores (_)" (PublishBatchRequestEntry).
func batchID(i int) string { return "m" + strconv.Itoa(i) }
