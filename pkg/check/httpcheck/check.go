package httpcheck

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/expect"
	"github.com/postdeploy/postdeploy/pkg/redact"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Methods are the request methods an http check may use.
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// excerptLen is how much of a body a failure message quotes.
const excerptLen = 200

// probe is one http check, validated and ready to send.
type probe struct {
	req        Request
	accept     []int // nil: any 2xx
	maxLatency time.Duration
	expect     string
	program    *expect.Program
}

// Sampler takes one sample of every http check given to New.
type Sampler struct {
	client *Client
	probes []probe
	// redactor hides the probes' secrets (header values, credentials in
	// URLs) in the evidence, also where a server reflects them.
	redactor *redact.Redactor
}

var _ check.Sampler = (*Sampler)(nil)

// New validates the http checks and builds their sampler, with one Client
// shared by all of them. It reports every problem, each at its path
// (checks[3].expect, checks[3].http.method); on any problem the sampler is
// nil.
func New(o Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	probes := make([]probe, 0, len(items))
	for _, it := range items {
		p, perrs := newProbe(it)
		errs = append(errs, perrs...)
		probes = append(probes, p)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var (
		secrets []string
		names   []string
	)
	for _, p := range probes {
		for k, v := range p.req.Header {
			secrets, names = append(secrets, v), append(names, k)
		}
		secrets = append(secrets, redact.URLValues(p.req.URL)...)
	}
	return &Sampler{client: NewClient(o), probes: probes, redactor: redact.New(secrets...).WithHeaders(names...)}, nil
}

func newProbe(it check.Item) (probe, spec.Errors) {
	var errs spec.Errors
	h := it.Check.HTTP
	base := spec.Field(it.Path(), spec.KindHTTP)
	if h == nil {
		errs.Add(base, "missing: this check has no http block")
		return probe{}, errs
	}
	errs = append(errs, check.Unused(it, "a probe that answers is judged by status, maxLatency and expect", "noData", "minSamples")...)
	p := probe{
		req: Request{
			Method:         strings.ToUpper(h.Method),
			URL:            h.URL,
			Header:         h.Headers,
			Body:           h.Body,
			Timeout:        h.Timeout.D(),
			Retries:        h.Retries,
			MaxRedirects:   h.MaxRedirects,
			AllowLinkLocal: h.AllowLinkLocal,
		},
		accept:     h.Status,
		maxLatency: h.MaxLatency.D(),
		expect:     it.Check.Expect,
	}
	if p.req.Method == "" {
		p.req.Method = http.MethodGet
	}
	if !slices.Contains(Methods, p.req.Method) {
		errs.Add(spec.Field(base, "method"), "unknown method %q (methods: %s)", h.Method, strings.Join(Methods, ", "))
	}
	// The URL, retries, status codes and maxRedirects are checked by
	// spec.Validate; what is left is what only this kind knows.
	errs = append(errs, checkHeaders(spec.Field(base, "headers"), h.Headers)...)
	if p.expect != "" {
		prog, err := Compile(p.expect)
		if err != nil {
			errs.Add(spec.Field(it.Path(), "expect"), "%v\n(variables: %s)", err, Variables)
		}
		p.program = prog
	}
	return p, errs
}

// Variables lists what an expect expression can use, for messages.
const Variables = `status (int), headers (map, e.g. headers["Content-Type"]), body (string), json (decoded body or nil; json?.field), latency (duration; latency < duration("500ms"))`

// Compile compiles an expect expression against Env; it must yield a
// bool. Its evaluation is bounded by the check's timeout and the sample's
// deadline (see package expect).
func Compile(src string) (*expect.Program, error) {
	return expect.Compile(src, Env{})
}

// checkHeaders reports header names that are not HTTP tokens and values
// that hold control characters, at path["Name"].
func checkHeaders(path string, hs map[string]string) spec.Errors {
	var errs spec.Errors
	for _, k := range slices.Sorted(maps.Keys(hs)) {
		at := fmt.Sprintf("%s[%q]", path, k)
		if !isToken(k) {
			errs.Add(at, "%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)", k)
		}
		if strings.ContainsAny(hs[k], "\r\n\x00") {
			errs.Add(at, "value must not contain line breaks or NUL")
		}
	}
	return errs
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// Sample probes every check concurrently and judges each response. The
// evidence never holds a header value a check sends or a credential from
// its URL, even when the server reflects one.
func (s *Sampler) Sample(ctx context.Context, _ check.Sample) []verdict.Result {
	rs := SampleAll(ctx, s.client, s.probes)
	check.Redact(s.redactor, rs)
	return rs
}

// CloseIdleConnections closes the connections the sampler keeps alive
// between samples; call it when the sampler is dropped.
func (s *Sampler) CloseIdleConnections() { s.client.CloseIdleConnections() }

// Prober is one check that SampleAll can run: the request to send, how to
// judge a response, and what would have passed.
type Prober interface {
	Request() Request
	// Judge judges a response; ctx bounds its work (expect expressions).
	Judge(ctx context.Context, resp *Response) verdict.Result
	Expected() string
}

// SampleAll sends every prober's request concurrently (at most
// Options.Concurrency at a time) and returns one result per prober, in
// order: Judge's for a response, ErrorResult's when none came, each with
// Expected and Duration set.
func SampleAll[P Prober](ctx context.Context, c *Client, ps []P) []verdict.Result {
	out := make([]verdict.Result, len(ps))
	c.Each(ctx, len(ps), func(ctx context.Context, i int) {
		start := c.Now()
		req := ps[i].Request()
		resp, err := c.Do(ctx, req)
		if err != nil {
			out[i] = ErrorResult(req, err)
		} else {
			out[i] = ps[i].Judge(ctx, resp)
		}
		out[i].Expected = ps[i].Expected()
		out[i].Duration = c.Now().Sub(start)
	})
	return out
}

// ErrorResult is the result of a probe that got no usable response.
func ErrorResult(req Request, err error) verdict.Result {
	v, msg := Explain(err, req.Timeout)
	r := verdict.Result{Target: req.URL, Verdict: v, Observed: msg}
	var pe *ProbeError
	if errors.As(err, &pe) {
		if pe.Attempts > 1 {
			r.Observed = fmt.Sprintf("%s (%d attempts)", msg, pe.Attempts)
		}
		r.Values = map[string]float64{"attempts": float64(pe.Attempts)}
	}
	return r
}

// Request is the probe's request.
func (p probe) Request() Request { return p.req }

// Judge turns a response into a verdict with its evidence. The expect
// expression is bounded by the check's timeout and ctx's deadline; one
// that does not finish in time, or that would build more text than
// expect.MaxBytes, makes the sample an Error.
func (p probe) Judge(ctx context.Context, resp *Response) verdict.Result {
	r := verdict.Result{
		Target:  p.req.URL,
		Verdict: verdict.Succeeded,
		Values: map[string]float64{
			"status":     float64(resp.Status),
			"latency_ms": float64(resp.Latency.Milliseconds()),
			"attempts":   float64(resp.Attempts),
		},
	}
	var problems []string
	if !p.accepts(resp.Status) {
		problems = append(problems, fmt.Sprintf("status %d is not accepted (want %s)", resp.Status, p.statusText()))
	}
	if p.maxLatency > 0 && resp.Latency > p.maxLatency {
		problems = append(problems, fmt.Sprintf("latency %s is over maxLatency %s", round(resp.Latency), p.maxLatency))
	}
	if p.program != nil {
		msg, bounded := p.eval(ctx, resp)
		if bounded {
			r.Verdict = verdict.Error
			r.Observed = fmt.Sprintf("status %d in %s: %s", resp.Status, round(resp.Latency), msg)
			return r
		}
		if msg != "" {
			problems = append(problems, msg)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "status %d in %s", resp.Status, round(resp.Latency))
	if resp.Attempts > 1 {
		fmt.Fprintf(&b, " on attempt %d", resp.Attempts)
	}
	if resp.URL != "" && resp.URL != p.req.URL {
		fmt.Fprintf(&b, " from %s", resp.URL)
	}
	if len(problems) > 0 {
		r.Verdict = verdict.Failed
		b.WriteString(": ")
		b.WriteString(strings.Join(problems, "; "))
	}
	r.Observed = b.String()
	return r
}

// eval runs the expect expression; it returns "" when it held, or why
// not. bounded is true when the expression was stopped by its time or
// text budget: no verdict on the response, the sample is an Error.
func (p probe) eval(ctx context.Context, resp *Response) (msg string, bounded bool) {
	timeout := p.req.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	out, err := p.program.Run(ctx, timeout, NewEnv(resp))
	var (
		te *expect.TimeoutError
		be *expect.BudgetError
	)
	switch {
	case errors.As(err, &te), errors.As(err, &be):
		return err.Error(), true
	case err != nil:
		msg = fmt.Sprintf("expect could not be evaluated: %s (use json?.field for fields that may be missing)", firstLine(err.Error()))
	case out == true:
		return "", false
	default:
		msg = "expect was false"
	}
	if resp.Truncated {
		msg += fmt.Sprintf("; body truncated at %s (body holds only the first %s, json is nil)", bodyLimitText, bodyLimitText)
	}
	return fmt.Sprintf("%s; body: %s", msg, Excerpt(resp.Body)), false
}

func (p probe) accepts(status int) bool {
	if len(p.accept) == 0 {
		return status >= 200 && status <= 299
	}
	return slices.Contains(p.accept, status)
}

// statusText says which statuses pass: "any 2xx" or "200 or 204".
func (p probe) statusText() string {
	if len(p.accept) == 0 {
		return "any 2xx"
	}
	s := make([]string, len(p.accept))
	for i, c := range p.accept {
		s[i] = strconv.Itoa(c)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Expected renders what would have passed.
func (p probe) Expected() string {
	parts := []string{"status " + p.statusText()}
	if p.maxLatency > 0 {
		parts = append(parts, "latency ≤ "+p.maxLatency.String())
	}
	if p.expect != "" {
		parts = append(parts, "expect `"+p.expect+"`")
	}
	return strings.Join(parts, ", ")
}

// Excerpt quotes the start of a body for a message: at most 200 bytes, cut
// on a rune boundary, with "…" when cut.
func Excerpt(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	cut := len(b) > excerptLen
	if cut {
		b = b[:excerptLen]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strconv.Quote(string(b))
	if cut {
		s += "…"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// round keeps two or three significant digits: 1.23s, 123ms, 4.56ms.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
