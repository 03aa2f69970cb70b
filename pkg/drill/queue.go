package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The drill listens on a temporary SQS queue subscribed to every topic of
// the stack, as the Amazon SNS Developer Guide's "Fanout to Amazon SQS
// queues" describes (https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html):
// the queue's access policy lets the SNS service principal send to it
// only for those topics (aws:SourceArn), and a subscription of a queue
// the subscriber owns, in the topic's account, needs no confirmation.
// Subscriptions use the default (non-raw) delivery: each message is SNS's
// JSON envelope with TopicArn and MessageAttributes ("Amazon SNS message
// and JSON formats": https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html).

// queue is the drill's temporary queue and its subscriptions.
type queue struct {
	url, arn string
	subs     []string
}

// QueuePrefix starts the temporary queue's name.
const QueuePrefix = "postdeploy-drill-"

func (d *Drill) openQueue(ctx context.Context, s *Stack) (q *queue, err error) {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := QueuePrefix + hex.EncodeToString(rnd[:])
	out, err := d.Queues.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameMessageRetentionPeriod): "3600",
			string(sqstypes.QueueAttributeNameSqsManagedSseEnabled):   "true",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create the drill's queue %s: %w", name, err)
	}
	q = &queue{url: aws.ToString(out.QueueUrl)}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.closeQueue(context.WithoutCancel(ctx), q))
		}
	}()
	attrs, err := d.Queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return q, fmt.Errorf("read the ARN of the drill's queue %s: %w", q.url, err)
	}
	q.arn = attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	policy, err := queuePolicy(q.arn, s.Topics)
	if err != nil {
		return q, err
	}
	if _, err := d.Queues.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.url), Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): policy},
	}); err != nil {
		return q, fmt.Errorf("let the stack's topics send to the drill's queue %s: %w", q.url, err)
	}
	for _, t := range s.Topics {
		sub, err := d.Topics.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: aws.String(t), Protocol: aws.String("sqs"), Endpoint: aws.String(q.arn), ReturnSubscriptionArn: true,
		})
		if err != nil {
			return q, fmt.Errorf("subscribe the drill's queue to topic %s: %w", t, err)
		}
		q.subs = append(q.subs, aws.ToString(sub.SubscriptionArn))
	}
	return q, nil
}

// queuePolicy lets SNS send to the queue for the given topics only.
func queuePolicy(queueARN string, topics []string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "OnlyTheStackTopics",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topics}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("queue policy: %w", err)
	}
	return string(b), nil
}

// closeQueue removes the subscriptions and the queue, reporting every
// failure (each names what is left behind).
func (d *Drill) closeQueue(ctx context.Context, q *queue) error {
	var errs []error
	for _, sub := range q.subs {
		if _, err := d.Topics.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(sub)}); err != nil {
			errs = append(errs, fmt.Errorf("unsubscribe the drill's queue (%s): %w; remove it by hand", sub, err))
		}
	}
	if q.url != "" {
		if _, err := d.Queues.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q.url)}); err != nil {
			errs = append(errs, fmt.Errorf("delete the drill's queue %s: %w; delete it by hand", q.url, err))
		}
	}
	return errors.Join(errs...)
}

// receive reads one batch of envelopes, deleting each message read.
func (d *Drill) receive(ctx context.Context, q *queue) ([]envelope, error) {
	out, err := d.Queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10, WaitTimeSeconds: d.ReceiveWait,
	})
	if err != nil {
		return nil, fmt.Errorf("receive from the drill's queue: %w", err)
	}
	var envs []envelope
	for _, m := range out.Messages {
		var e envelope
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err == nil && e.Type == "Notification" {
			envs = append(envs, e)
		}
		if _, err := d.Queues.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return envs, fmt.Errorf("delete a message from the drill's queue: %w", err)
		}
	}
	return envs, nil
}
