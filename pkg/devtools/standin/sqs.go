package standin

import (
	"crypto/md5" //nolint:gosec // G501: SQS's MD5OfBody is MD5 by definition, a checksum, not security
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SQS: CreateQueue, GetQueueAttributes, SetQueueAttributes,
// ReceiveMessage, DeleteMessage and DeleteQueue on the JSON protocol the
// current SDK speaks (awsJson1_0, X-Amz-Target AmazonSQS.<Op>), checked
// as the Amazon SQS API Reference documents them. Messages arrive only
// from SNS (delivery.go), and only when the queue's policy lets the topic
// send. ReceiveMessage never waits: with no message visible it answers
// at once (the stand-in answers with its lock held), which a caller that
// polls cannot tell from an expired long poll.

// SQS is the service name of SQS calls.
const SQS = "sqs"

type sqsQueue struct {
	name, url, arn string
	attrs          map[string]string
	messages       []*sqsMessage
	created        time.Time
}

type sqsMessage struct {
	id, body, receipt string
	invisibleUntil    time.Time
	received          int
}

// queueName is SQS's rule: "up to 80 characters [...] alphanumeric
// characters, hyphens (-), and underscores (_)", a FIFO queue's ending
// in .fifo (CreateQueue, QueueName).
var queueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$`)

// queueAttributes are the attributes CreateQueue and SetQueueAttributes
// accept, with a check of the value where SQS documents a range.
var queueAttributes = map[string]func(string) bool{
	"DelaySeconds":                  intIn(0, 900),
	"MaximumMessageSize":            intIn(1024, 262144),
	"MessageRetentionPeriod":        intIn(60, 1209600),
	"Policy":                        func(v string) bool { return v == "" || json.Valid([]byte(v)) },
	"ReceiveMessageWaitTimeSeconds": intIn(0, 20),
	"VisibilityTimeout":             intIn(0, 43200),
	"RedrivePolicy":                 func(v string) bool { return v == "" || json.Valid([]byte(v)) },
	"RedriveAllowPolicy":            func(v string) bool { return v == "" || json.Valid([]byte(v)) },
	"KmsMasterKeyId":                func(string) bool { return true },
	"KmsDataKeyReusePeriodSeconds":  intIn(60, 86400),
	"SqsManagedSseEnabled":          func(v string) bool { return v == "true" || v == "false" },
	"FifoQueue":                     func(v string) bool { return v == "true" || v == "false" },
	"ContentBasedDeduplication":     func(v string) bool { return v == "true" || v == "false" },
}

func intIn(lo, hi int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

func sqsErr(code, format string, args ...any) *APIError {
	return apiErr(400, code, format, args...)
}

func checkQueueAttributes(attrs map[string]any) (map[string]string, *APIError) {
	out := map[string]string{}
	for k, v := range attrs {
		s, _ := v.(string)
		check, ok := queueAttributes[k]
		if !ok {
			return nil, sqsErr("InvalidAttributeName", "Unknown Attribute %s.", k)
		}
		if !check(s) {
			return nil, sqsErr("InvalidAttributeValue", "Invalid value for the parameter %s.", k)
		}
		out[k] = s
	}
	return out, nil
}

func (st *stackState) queue(url string) (*sqsQueue, *APIError) {
	for _, q := range st.queues {
		if q.url == url {
			return q, nil
		}
	}
	return nil, sqsErr("QueueDoesNotExist", "The specified queue does not exist.")
}

func sqsCreateQueue(s *Server, req *request) (any, error) {
	name := str(req.input, "QueueName")
	if !queueName.MatchString(name) {
		return nil, sqsErr("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	attrs, err := checkQueueAttributes(obj(req.input, "Attributes"))
	if err != nil {
		return nil, err
	}
	st := &s.st.stacks
	if st.queues == nil {
		st.queues = map[string]*sqsQueue{}
	}
	if q, ok := st.queues[name]; ok {
		// "If you provide the name of an existing queue along with the
		// exact names and values of all the queue's attributes,
		// CreateQueue returns the queue URL for the existing queue."
		for k, v := range attrs {
			if q.attrs[k] != v {
				return nil, sqsErr("QueueNameExists", "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return map[string]any{"QueueUrl": q.url}, nil
	}
	q := &sqsQueue{
		name: name, attrs: attrs, created: s.now(),
		url: fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", Region, AccountID, name),
		arn: fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, AccountID, name),
	}
	st.queues[name] = q
	return map[string]any{"QueueUrl": q.url}, nil
}

func sqsGetQueueAttributes(s *Server, req *request) (any, error) {
	q, err := s.st.stacks.queue(str(req.input, "QueueUrl"))
	if err != nil {
		return nil, err
	}
	all := map[string]string{
		"QueueArn":                    q.arn,
		"ApproximateNumberOfMessages": strconv.Itoa(len(q.messages)),
		"CreatedTimestamp":            strconv.FormatInt(q.created.Unix(), 10),
	}
	for k, v := range q.attrs {
		all[k] = v
	}
	out := map[string]any{}
	for _, n := range strList(req.input, "AttributeNames") {
		if n == "All" {
			for k, v := range all {
				out[k] = v
			}
			continue
		}
		if _, known := queueAttributes[n]; !known && all[n] == "" {
			return nil, sqsErr("InvalidAttributeName", "Unknown Attribute %s.", n)
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

func sqsSetQueueAttributes(s *Server, req *request) (any, error) {
	q, err := s.st.stacks.queue(str(req.input, "QueueUrl"))
	if err != nil {
		return nil, err
	}
	attrs, err := checkQueueAttributes(obj(req.input, "Attributes"))
	if err != nil {
		return nil, err
	}
	for k, v := range attrs {
		q.attrs[k] = v
	}
	return map[string]any{}, nil
}

func sqsReceiveMessage(s *Server, req *request) (any, error) {
	q, err := s.st.stacks.queue(str(req.input, "QueueUrl"))
	if err != nil {
		return nil, err
	}
	limit := 1
	if n, ok := intField(req.input, "MaxNumberOfMessages"); ok {
		if n < 1 || n > 10 {
			return nil, sqsErr("InvalidParameterValue", "Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n)
		}
		limit = n
	}
	if n, ok := intField(req.input, "WaitTimeSeconds"); ok && (n < 0 || n > 20) {
		return nil, sqsErr("InvalidParameterValue", "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", n)
	}
	vt := 30
	if v, e := strconv.Atoi(q.attrs["VisibilityTimeout"]); e == nil {
		vt = v
	}
	if n, ok := intField(req.input, "VisibilityTimeout"); ok {
		if n < 0 || n > 43200 {
			return nil, sqsErr("InvalidParameterValue", "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", n)
		}
		vt = n
	}
	now := s.now()
	var out []any
	for _, m := range q.messages {
		if len(out) == limit {
			break
		}
		if now.Before(m.invisibleUntil) {
			continue
		}
		m.received++
		m.receipt = fmt.Sprintf("%s#%d#%s", m.id, m.received, s.st.nextID("rh-"))
		m.invisibleUntil = now.Add(time.Duration(vt) * time.Second)
		sum := md5.Sum([]byte(m.body)) //nolint:gosec // G401: SQS's body checksum
		out = append(out, map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "MD5OfBody": hex.EncodeToString(sum[:]), "Body": m.body})
	}
	if len(out) == 0 {
		return map[string]any{}, nil
	}
	return map[string]any{"Messages": out}, nil
}

func sqsDeleteMessage(s *Server, req *request) (any, error) {
	q, err := s.st.stacks.queue(str(req.input, "QueueUrl"))
	if err != nil {
		return nil, err
	}
	h := str(req.input, "ReceiptHandle")
	for i, m := range q.messages {
		if m.receipt != "" && m.receipt == h {
			q.messages = append(q.messages[:i], q.messages[i+1:]...)
			return map[string]any{}, nil
		}
	}
	return nil, sqsErr("ReceiptHandleIsInvalid", "The input receipt handle %q is not a valid receipt handle.", h)
}

func sqsDeleteQueue(s *Server, req *request) (any, error) {
	q, err := s.st.stacks.queue(str(req.input, "QueueUrl"))
	if err != nil {
		return nil, err
	}
	delete(s.st.stacks.queues, q.name)
	return map[string]any{}, nil
}

// Queues lists the names of the queues that exist.
func (s *Server) Queues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.st.stacks.queues {
		out = append(out, n)
	}
	return out
}

// allowsSNS reports whether the queue's policy lets SNS send a message
// from topic: an Allow statement for the sns.amazonaws.com service
// principal (or "*"), action sqs:SendMessage (or sqs:*, *), this queue
// as resource, and, when it has one, an ArnEquals or ArnLike condition
// on aws:SourceArn that the topic matches ("Fanout to Amazon SQS
// queues", step 2, Amazon SNS Developer Guide). A queue without a policy
// admits only its own account's principals, never SNS.
func (q *sqsQueue) allowsSNS(topic string) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal any
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if json.Unmarshal([]byte(q.attrs["Policy"]), &doc) != nil {
		return false
	}
	allowed := false
	for _, st := range doc.Statement {
		if !principalIsSNS(st.Principal) || !anyMatches(st.Action, func(a string) bool {
			a = strings.ToLower(a)
			return a == "sqs:sendmessage" || a == "sqs:*" || a == "*"
		}) || !anyMatches(st.Resource, func(r string) bool { return r == q.arn || r == "*" }) {
			continue
		}
		ok := true
		for op, keys := range st.Condition {
			for key, vals := range keys {
				if !strings.EqualFold(key, "aws:SourceArn") {
					ok = false // a condition the stand-in does not model: not met
					continue
				}
				switch op {
				case "ArnEquals", "StringEquals":
					ok = ok && anyMatches(vals, func(v string) bool { return v == topic })
				case "ArnLike", "StringLike":
					ok = ok && anyMatches(vals, func(v string) bool { return globMatch(v, topic) })
				default:
					ok = false
				}
			}
		}
		switch {
		case !ok:
		case st.Effect == "Deny":
			return false
		case st.Effect == "Allow":
			allowed = true
		}
	}
	return allowed
}

func principalIsSNS(p any) bool {
	switch p := p.(type) {
	case string:
		return p == "*"
	case map[string]any:
		return anyMatches(p["Service"], func(s string) bool { return s == "sns.amazonaws.com" }) ||
			anyMatches(p["AWS"], func(s string) bool { return s == "*" })
	}
	return false
}

// anyMatches applies f to a policy value: a string or a list of them.
func anyMatches(v any, f func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && f(s) {
				return true
			}
		}
	}
	return false
}

// globMatch is IAM's ArnLike/StringLike: * any run, ? one character.
func globMatch(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}
