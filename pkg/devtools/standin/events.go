package standin

import "fmt"

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
