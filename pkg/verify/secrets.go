package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"sigs.k8s.io/yaml"

	"github.com/postdeploy/postdeploy/pkg/redact"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// secrets is what one invocation must never let out — in the failure
// message, the summary, the output variables, the continuation token's
// evidence, the published event or a log line. It starts knowing only
// what is secret by nature (credential-looking URL parameters, userinfo
// passwords: a nil redact.Redactor) and learns the spec's secrets once the
// spec is read (see forSpec). Safe for concurrent use: the log handler
// reads it while the bake runs.
type secrets struct {
	r atomic.Pointer[redact.Redactor]
}

func (s *secrets) set(r *redact.Redactor) { s.r.Store(r) }

func (s *secrets) redactor() *redact.Redactor {
	if s == nil {
		return nil
	}
	return s.r.Load()
}

// String redacts text leaving the function.
func (s *secrets) String(text string) string { return s.redactor().String(text) }

// forSpec is the redactor of a parsed spec: the values the spec itself
// knows to be secret (every header value its probes send, credential-
// looking URL values: spec.Spec.Redactor) and, when the spec came from a
// SecureString parameter, the parameter's value as a whole and every
// http body (where a probe's credentials travel when they are not in a
// header). Names, kinds, durations and targets stay readable: a person
// must still be told which check failed and what it probed.
func forSpec(s spec.Spec, raw []byte, secure bool) *redact.Redactor {
	var extra []string
	if secure {
		extra = append(extra, strings.TrimSpace(string(raw)))
		for _, c := range s.Checks {
			if c.HTTP != nil && c.HTTP.Body != "" {
				extra = append(extra, c.HTTP.Body)
			}
		}
	}
	return s.Redactor(extra...)
}

// forSecureSource is the redactor for the problems of a spec read from a
// SecureString parameter that did not parse: a validation message may
// quote any value it holds ("got \"…\""), so every string in the document
// is secret there.
func forSecureSource(raw []byte) *redact.Redactor {
	values := []string{strings.TrimSpace(string(raw))}
	js, err := yaml.YAMLToJSON(raw)
	if err == nil {
		var doc any
		if json.Unmarshal(js, &doc) == nil {
			values = appendLeaves(values, doc, 0)
		}
	}
	return redact.New(values...)
}

// appendLeaves appends every string (keys excepted) in v.
func appendLeaves(out []string, v any, depth int) []string {
	if depth > 100 {
		return out
	}
	switch x := v.(type) {
	case string:
		return append(out, x)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			out = appendLeaves(out, x[k], depth+1)
		}
	case []any:
		for _, e := range x {
			out = appendLeaves(out, e, depth+1)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// redact returns d with every text it carries out of the function
// redacted: the message or summary, the output variables' values, the
// event's summary and evidence.
func (d decision) redact(s *secrets) decision {
	d.text = s.String(d.text)
	if d.vars != nil {
		vars := make(map[string]string, len(d.vars))
		for k, v := range d.vars {
			vars[s.String(k)] = s.String(v)
		}
		d.vars = vars
	}
	if d.event != nil {
		ev := *d.event
		ev.Summary = s.String(ev.Summary)
		ev.FailedChecks = s.redactor().Strings(ev.FailedChecks)
		ev.Checks = make([]verdict.Result, len(d.event.Checks))
		for i, r := range d.event.Checks {
			r.Target, r.Observed, r.Expected = s.String(r.Target), s.String(r.Observed), s.String(r.Expected)
			ev.Checks[i] = r
		}
		d.event = &ev
	}
	return d
}

// redactingHandler is a slog.Handler that redacts every message and
// string, error and Stringer attribute through secrets before the next
// handler sees it, so no log line repeats a secret the invocation knows.
// Attributes and groups added with With are redacted when a line is
// written, not when they are added: by then secrets may know more.
type redactingHandler struct {
	next slog.Handler
	s    *secrets
	// with are the WithAttrs and WithGroup calls made on this handler,
	// replayed on next for each line.
	with []withOp
}

type withOp struct {
	attrs []slog.Attr
	group string
}

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	next := h.next
	for _, op := range h.with {
		if op.group != "" {
			next = next.WithGroup(op.group)
			continue
		}
		red := make([]slog.Attr, len(op.attrs))
		for i, a := range op.attrs {
			red[i] = h.attr(a)
		}
		next = next.WithAttrs(red)
	}
	out := slog.NewRecord(r.Time, r.Level, h.s.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	return redactingHandler{next: h.next, s: h.s, with: append(slices.Clip(h.with), withOp{attrs: slices.Clone(as)})}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return redactingHandler{next: h.next, s: h.s, with: append(slices.Clip(h.with), withOp{group: name})}
}

func (h redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.s.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = h.attr(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.s.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.s.String(x.String()))
		case []byte:
			return slog.String(a.Key, h.s.String(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
