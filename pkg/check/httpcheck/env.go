package httpcheck

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check/expect"
)

// Env is what an http check's expect expression sees.
type Env struct {
	// Context carries the evaluation's deadline to the guarded program;
	// expressions cannot name it.
	expect.Context
	// Status is the response's status code.
	Status int `expr:"status"`
	// Headers maps each canonical header name (Content-Type) to its first
	// value.
	Headers map[string]string `expr:"headers"`
	// Body is the response body, at most BodyLimit bytes.
	Body string `expr:"body"`
	// JSON is the body decoded as JSON (objects are map[string]any,
	// numbers float64), or nil when the body is not JSON or was truncated.
	JSON any `expr:"json"`
	// Latency is the response time, so `latency < duration("500ms")`.
	Latency time.Duration `expr:"latency"`
}

// NewEnv builds the expression environment from a response. The body is
// untrusted: anything that is not one complete JSON value leaves JSON nil.
func NewEnv(r *Response) Env {
	env := Env{
		Status:  r.Status,
		Headers: make(map[string]string, len(r.Header)),
		Body:    string(r.Body),
		Latency: r.Latency,
	}
	for k, vs := range r.Header {
		if len(vs) > 0 {
			env.Headers[k] = vs[0]
		}
	}
	if !r.Truncated {
		env.JSON = decodeJSON(r.Body)
	}
	return env
}

// decodeJSON returns the body's JSON value, or nil when it is not exactly
// one JSON value.
func decodeJSON(b []byte) any {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	return v
}
