package headers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/httpcheck"
	"github.com/postdeploy/postdeploy/pkg/redact"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// target is one headers check, validated.
type target struct {
	req   httpcheck.Request
	rules []Rule
	// explicit is true when require named the rules.
	explicit bool
}

// Sampler takes one sample of every headers check given to New.
type Sampler struct {
	client  *httpcheck.Client
	targets []target
	// redactor hides credentials from the targets' URLs in the evidence.
	redactor *redact.Redactor
}

var _ check.Sampler = (*Sampler)(nil)

// New validates the headers checks — URLs, rule names in require and skip
// — and builds their sampler on one httpcheck.Client. It reports every
// problem at its path (checks[3].headers.require[1]); on any problem the
// sampler is nil.
func New(o httpcheck.Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	ts := make([]target, 0, len(items))
	for _, it := range items {
		t, terrs := newTarget(it)
		errs = append(errs, terrs...)
		ts = append(ts, t)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var secrets []string
	for _, t := range ts {
		secrets = append(secrets, redact.URLValues(t.req.URL)...)
	}
	return &Sampler{client: httpcheck.NewClient(o), targets: ts, redactor: redact.New(secrets...)}, nil
}

func newTarget(it check.Item) (target, spec.Errors) {
	var errs spec.Errors
	h := it.Check.Headers
	base := spec.Field(it.Path(), spec.KindHeaders)
	if h == nil {
		errs.Add(base, "missing: this check has no headers block")
		return target{}, errs
	}
	// spec.Validate checks the URL; what is left is what only this kind
	// knows: rule names, and that expect means nothing here.
	errs = append(errs, check.Unused(it, "choose rules with headers.require and headers.skip", "expect", "noData", "minSamples")...)
	plainHTTP := strings.HasPrefix(strings.ToLower(h.URL), "http://")
	valid := strings.Join(RuleNames(), ", ")

	skip := map[string]bool{}
	for i, n := range h.Skip {
		if _, ok := lookup(n); !ok {
			errs.Add(spec.Index(spec.Field(base, "skip"), i), "unknown rule %q (rules: %s)", n, valid)
		}
		skip[n] = true
	}
	var names []string
	for i, n := range h.Require {
		at := spec.Index(spec.Field(base, "require"), i)
		r, ok := lookup(n)
		switch {
		case !ok:
			errs.Add(at, "unknown rule %q (rules: %s)", n, valid)
		case skip[n]:
			errs.Add(at, "rule %q is also in skip; remove it from one of them", n)
		case r.HTTPSOnly && plainHTTP:
			errs.Add(at, "rule %q needs an https:// url (browsers ignore it over plain http); probe the https URL or drop %q", n, n)
		case !slices.Contains(names, n):
			names = append(names, n)
		}
	}
	t := target{
		req:      httpcheck.Request{Method: http.MethodGet, URL: h.URL, Timeout: h.Timeout.D(), AllowLinkLocal: h.AllowLinkLocal},
		explicit: len(h.Require) > 0,
	}
	for _, r := range Rules {
		if (t.explicit && slices.Contains(names, r.Name)) || (!t.explicit && !skip[r.Name]) {
			t.rules = append(t.rules, r)
		}
	}
	if !t.explicit && len(t.rules) == 0 {
		errs.Add(spec.Field(base, "skip"), "skips every rule, so the check checks nothing; remove the check or keep a rule")
	}
	return t, errs
}

// Sample fetches every target concurrently and runs its rules.
func (s *Sampler) Sample(ctx context.Context, _ check.Sample) []verdict.Result {
	rs := httpcheck.SampleAll(ctx, s.client, s.targets)
	check.Redact(s.redactor, rs)
	return rs
}

// CloseIdleConnections closes the connections the sampler keeps alive
// between samples; call it when the sampler is dropped.
func (s *Sampler) CloseIdleConnections() { s.client.CloseIdleConnections() }

// Request is the target's request.
func (t target) Request() httpcheck.Request { return t.req }

// Judge runs the target's rules on one response.
func (t target) Judge(_ context.Context, resp *httpcheck.Response) verdict.Result {
	r := verdict.Result{
		Target: t.req.URL,
		Values: map[string]float64{
			"status":     float64(resp.Status),
			"latency_ms": float64(resp.Latency.Milliseconds()),
		},
	}
	from := ""
	if resp.URL != "" && resp.URL != t.req.URL {
		from = " from " + resp.URL
	}
	if resp.Status >= 500 {
		r.Verdict = verdict.Inconclusive
		r.Observed = fmt.Sprintf("status %d%s: a server error response is not judged for security headers; see why the service fails (an http check reports it)", resp.Status, from)
		return r
	}
	plainHTTP := false
	if u, err := url.Parse(resp.URL); err == nil && u.Scheme == "http" {
		plainHTTP = true
	}
	cs := cookies(resp.Header)
	var (
		findings []Finding
		failed   []string
		ran      []string
		notes    []string
	)
	for _, rule := range t.rules {
		if rule.HTTPSOnly && plainHTTP {
			notes = append(notes, fmt.Sprintf("%s not applicable to a plain-http response", rule.Name))
			continue
		}
		ran = append(ran, rule.Name)
		if fs := rule.eval(resp.Header, cs); len(fs) > 0 {
			findings = append(findings, fs...)
			failed = append(failed, rule.Name)
		}
	}
	r.Values["rules_checked"] = float64(len(ran))
	r.Values["rules_failed"] = float64(len(failed))

	var b strings.Builder
	fmt.Fprintf(&b, "status %d%s: ", resp.Status, from)
	if len(failed) == 0 {
		r.Verdict = verdict.Succeeded
		fmt.Fprintf(&b, "%d rules passed (%s)", len(ran), strings.Join(ran, ", "))
	} else {
		r.Verdict = verdict.Failed
		fmt.Fprintf(&b, "%d of %d rules failed (%s)", len(failed), len(ran), strings.Join(failed, ", "))
		for _, f := range findings {
			b.WriteString("; ")
			b.WriteString(f.String())
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "; %s", strings.Join(notes, "; "))
	}
	r.Observed = b.String()
	return r
}

// Expected names the rules that must pass.
func (t target) Expected() string {
	ns := make([]string, len(t.rules))
	for i, r := range t.rules {
		ns[i] = r.Name
	}
	return "security header rules pass: " + strings.Join(ns, ", ")
}
