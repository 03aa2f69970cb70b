package standin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Call is one request the stand-in answered, as recorded for assertions.
type Call struct {
	Time      time.Time      `json:"time"`
	Service   string         `json:"service"`
	Operation string         `json:"operation"`
	Protocol  Protocol       `json:"protocol"`
	Input     map[string]any `json:"input,omitempty"`
	// ErrorCode is the AWS error code answered, "" on success.
	ErrorCode string `json:"errorCode,omitempty"`
	// Fault names the injected fault that shaped this answer, if any.
	Fault string `json:"fault,omitempty"`
}

// Calls returns a copy of every call answered so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls to one service's operation; operation ""
// matches every operation of the service.
func (s *Server) CallsTo(service, operation string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Service == service && (operation == "" || c.Operation == operation) {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.gen++
}

// callRef finds a recorded call again.
type callRef struct{ gen, idx int }

// record appends a call as it arrives.
func (s *Server) record(c Call) callRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return callRef{s.gen, len(s.calls) - 1}
}

func (s *Server) call(ref callRef) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref.gen != s.gen || ref.idx >= len(s.calls) {
		return Call{}, false
	}
	return s.calls[ref.idx], true
}

// finish sets the outcome of a recorded call (ResetCalls may have dropped
// it meanwhile).
func (s *Server) finish(ref callRef, code, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref.gen != s.gen || ref.idx >= len(s.calls) {
		return
	}
	if code != "" {
		s.calls[ref.idx].ErrorCode = code
	}
	if fault != "" {
		s.calls[ref.idx].Fault = fault
	}
}

// String renders a call on one line for a person reading a demo log:
//
//	12:00:01 codepipeline PutJobSuccessResult {"jobId":"j-1",...} -> InvalidJobStateException
func (c Call) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %s", c.Time.Format("15:04:05.000"), c.Service, c.Operation)
	if len(c.Input) > 0 {
		b, err := json.Marshal(jsonable(c.Input, false))
		if err == nil {
			in := string(b)
			const limit = 300
			if len(in) > limit {
				in = in[:limit] + "…"
			}
			sb.WriteString(" " + in)
		}
	}
	switch {
	case c.ErrorCode != "":
		sb.WriteString(" -> " + c.ErrorCode)
	default:
		sb.WriteString(" -> ok")
	}
	if c.Fault != "" {
		sb.WriteString(" (injected " + c.Fault + ")")
	}
	return sb.String()
}

// Summary counts calls per "service Operation", e.g. for a demo's closing
// report, in name order.
func Summary(calls []Call) []string {
	n := map[string]int{}
	errs := map[string]int{}
	for _, c := range calls {
		k := c.Service + " " + c.Operation
		n[k]++
		if c.ErrorCode != "" {
			errs[k]++
		}
	}
	keys := sortedKeys(n)
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		line := fmt.Sprintf("%-50s %4d", k, n[k])
		if errs[k] > 0 {
			line += fmt.Sprintf("  (%d errors)", errs[k])
		}
		out = append(out, line)
	}
	return out
}
