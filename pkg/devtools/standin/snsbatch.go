package standin

import (
	"errors"
	"regexp"
)

// SNS PublishBatch, as strict as the API reference
// (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html):
// EmptyBatchRequest for no entries, TooManyEntriesInBatchRequest for
// more than 10, BatchEntryIdsNotDistinct for a repeated Id,
// InvalidBatchEntryId for an Id that is not 1–80 alphanumerics, hyphens
// and underscores (PublishBatchRequestEntry), BatchRequestTooLong when
// the messages and their attributes exceed 256 KiB (262,144 bytes) in
// all. Each entry is then published as Publish would publish it; one
// Publish refuses is listed in Failed with SenderFault true, the others
// in Successful.

// maxBatchPayload is PublishBatch's limit on the sum of the messages'
// sizes, attributes included.
const maxBatchPayload = 262144

var batchEntryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func snsPublishBatch(s *Server, req *request) (any, error) {
	in := req.input
	topic := str(in, "TopicArn")
	entries := list(in, "PublishBatchRequestEntries")
	switch {
	case topic == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: TopicArn Reason: no value for required parameter")
	case len(entries) == 0:
		return nil, apiErr(400, "EmptyBatchRequest", "The batch request doesn't contain any entries.")
	case len(entries) > 10:
		return nil, apiErr(400, "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible: %d (at most 10).", len(entries))
	}
	ids := map[string]bool{}
	size := 0
	for _, raw := range entries {
		e, _ := raw.(map[string]any)
		id := str(e, "Id")
		if !batchEntryID.MatchString(id) {
			return nil, apiErr(400, "InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification: %q", id)
		}
		if ids[id] {
			return nil, apiErr(400, "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id: %q", id)
		}
		ids[id] = true
		size += len(str(e, "Message"))
		for k, a := range publishAttributes(e) {
			size += len(k) + len(a.DataType) + len(a.StringValue)
		}
	}
	if size > maxBatchPayload {
		return nil, apiErr(400, "BatchRequestTooLong", "The length of all the messages put together is more than the limit: %d bytes (at most %d).", size, maxBatchPayload)
	}
	var ok, failed []any
	for _, raw := range entries {
		e, _ := raw.(map[string]any)
		id := str(e, "Id")
		one := map[string]any{"TopicArn": topic}
		for _, k := range []string{"Message", "Subject", "MessageAttributes", "MessageStructure"} {
			if v, found := e[k]; found {
				one[k] = v
			}
		}
		out, err := snsPublish(s, &request{service: SNS, op: "Publish", proto: req.proto, input: one})
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				return nil, err
			}
			failed = append(failed, map[string]any{"Id": id, "Code": ae.Code, "Message": ae.Message, "SenderFault": true})
			continue
		}
		res := map[string]any{"Id": id}
		if m, isMap := out.(map[string]any); isMap {
			for k, v := range m {
				res[k] = v
			}
		}
		ok = append(ok, res)
	}
	return map[string]any{"Successful": listOrEmpty(ok), "Failed": listOrEmpty(failed)}, nil
}

// listOrEmpty keeps an empty list a list (SNS answers both members).
func listOrEmpty(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}
