package standin

import (
	"fmt"
	"sort"
	"strings"
)

// maxPutEvents is PutEvents' per-call entry limit.
const maxPutEvents = 10

func ebPutEvents(s *Server, req *request) (any, error) {
	entries := list(req.input, "Entries")
	if len(entries) == 0 || len(entries) > maxPutEvents {
		return nil, validation("Entries must hold 1 to %d entries, got %d", maxPutEvents, len(entries))
	}
	var out []any
	failed := 0
	for i, raw := range entries {
		e, _ := raw.(map[string]any)
		if str(e, "Source") == "" || str(e, "DetailType") == "" || str(e, "Detail") == "" {
			failed++
			out = append(out, map[string]any{"ErrorCode": "InvalidArgument",
				"ErrorMessage": fmt.Sprintf("entry %d: Source, DetailType and Detail are required", i)})
			continue
		}
		id := fmt.Sprintf("standin-event-%06d", len(s.st.events)+1)
		rec := map[string]any{"EventId": id}
		for k, v := range e {
			rec[k] = v
		}
		s.st.events = append(s.st.events, rec)
		out = append(out, map[string]any{"EventId": id})
	}
	return map[string]any{"FailedEntryCount": failed, "Entries": out}, nil
}

func snsPublish(s *Server, req *request) (any, error) {
	in := req.input
	topic := str(in, "TopicArn")
	if topic == "" {
		topic = str(in, "TargetArn")
	}
	msg := str(in, "Message")
	switch {
	case topic == "" && str(in, "PhoneNumber") == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	case msg == "":
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Empty message")
	case len(msg) > 256*1024:
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Message too long (%d bytes, limit 262144)", len(msg))
	case len(str(in, "Subject")) > 100:
		return nil, apiErr(400, "InvalidParameter", "Invalid parameter: Subject longer than 100 characters")
	}
	attrs := map[string]string{}
	for _, raw := range list(in, "MessageAttributes") {
		e, _ := raw.(map[string]any)
		v := obj(e, "Value")
		attrs[str(e, "Name")] = str(v, "StringValue")
	}
	// JSON-protocol callers send a map; accept it too.
	if m := obj(in, "MessageAttributes"); m != nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := m[k].(map[string]any); ok {
				attrs[k] = str(v, "StringValue")
			}
		}
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.st.published)+1)
	s.st.published = append(s.st.published, Published{MessageID: id, TopicARN: topic, Subject: str(in, "Subject"),
		Message: msg, Attributes: attrs, Time: s.now()})
	out := map[string]any{"MessageId": id}
	if strings.HasSuffix(topic, ".fifo") {
		out["SequenceNumber"] = fmt.Sprintf("%020d", len(s.st.published))
	}
	return out, nil
}
