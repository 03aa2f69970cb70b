package check

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/postdeploy/postdeploy/pkg/redact"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Sample says which sample is being taken.
type Sample struct {
	// BakeStart is when the bake began (the first sample of the first
	// invocation); it is carried across continuations.
	BakeStart time.Time
	// Now is when this sample starts.
	Now time.Time
	// Number counts samples across the whole bake, from 0.
	Number int
}

// Sampler takes one sample of a group of checks of the same kind.
type Sampler interface {
	// Sample returns exactly one Result per check, in the order the checks
	// were given to the kind's factory. It must honour ctx's deadline. A
	// check that cannot run returns an Error result, not a Go error.
	Sample(ctx context.Context, s Sample) []verdict.Result
}

// Item is one check of a spec with its position, so a kind can report
// problems at the right path ("checks[3].http.url").
type Item struct {
	Index int
	Check spec.Check
}

// Path returns the check's path in the spec, e.g. "checks[3]".
func (it Item) Path() string { return spec.Index("checks", it.Index) }

// Group is a Sampler and the spec checks it answers for.
type Group struct {
	Kind    string
	Items   []Item
	Sampler Sampler
}

// Suite is every check group of one spec.
type Suite struct {
	Groups []Group
	// Count is the number of checks across all groups.
	Count int
	// OnPanic, when set, is told of a sampler's panic with its stack, for
	// the log; the checks concerned get Error results either way.
	OnPanic func(kind string, value any, stack []byte)
	// Redactor keeps secrets out of every result's text (Target,
	// Observed, Expected), whichever check quoted them — a server
	// reflecting one check's Authorization in another's body, say.
	// registry.Build sets it from the spec (spec.Spec.Redactor); the
	// caller may add values it knows are secret (SecureString
	// parameters) with Redactor.With. Nil still redacts credential-looking
	// URL parameters.
	Redactor *redact.Redactor
}

// Redact rewrites the text of each result with r: Target, Observed and
// Expected.
func Redact(r *redact.Redactor, rs []verdict.Result) {
	for i := range rs {
		rs[i].Target = r.String(rs[i].Target)
		rs[i].Observed = r.String(rs[i].Observed)
		rs[i].Expected = r.String(rs[i].Expected)
	}
}

// Run takes one sample of every check, groups in parallel, and returns one
// result per check indexed by the check's position in the spec. A sampler
// that panics, or that returns the wrong number of results, yields Error
// results for its checks; the other groups are unaffected. Run returns by
// ctx's deadline whatever the samplers do: a group that has not answered
// by then gets Error results saying so (samplers honour ctx, so this only
// catches one that does not; its goroutine is left to finish). Every
// result's text is redacted with s.Redactor.
func (s Suite) Run(ctx context.Context, at Sample) []verdict.Result {
	out := s.run(ctx, at)
	Redact(s.Redactor, out)
	return out
}

func (s Suite) run(ctx context.Context, at Sample) []verdict.Result {
	type answer struct {
		group int
		rs    []verdict.Result
	}
	start := time.Now()
	out := make([]verdict.Result, s.Count)
	answers := make(chan answer, len(s.Groups))
	for i, g := range s.Groups {
		go func() { answers <- answer{i, s.sampleSafely(ctx, g, at)} }()
	}
	answered := make([]bool, len(s.Groups))
	take := func(a answer) {
		answered[a.group] = true
		for i, it := range s.Groups[a.group].Items {
			out[it.Index] = a.rs[i]
		}
	}
	for pending := len(s.Groups); pending > 0; pending-- {
		select {
		case a := <-answers:
			take(a)
		case <-ctx.Done():
			// Take what has arrived, then answer for the rest.
			for drained := false; !drained; {
				select {
				case a := <-answers:
					take(a)
				default:
					drained = true
				}
			}
			for gi, g := range s.Groups {
				if answered[gi] {
					continue
				}
				msg := fmt.Sprintf("%s check did not finish before the sample's deadline (%v)", g.Kind, context.Cause(ctx))
				for i, r := range errorResults(g, msg, time.Since(start)) {
					out[g.Items[i].Index] = r
				}
			}
			return out
		}
	}
	return out
}

func (s Suite) sampleSafely(ctx context.Context, g Group, at Sample) (rs []verdict.Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			if s.OnPanic != nil {
				s.OnPanic(g.Kind, p, debug.Stack())
			}
			rs = errorResults(g, fmt.Sprintf("check panicked: %v", p), time.Since(start))
		}
	}()
	rs = g.Sampler.Sample(ctx, at)
	if len(rs) != len(g.Items) {
		return errorResults(g, fmt.Sprintf("internal error: %s sampler returned %d results for %d checks", g.Kind, len(rs), len(g.Items)), time.Since(start))
	}
	for i := range rs {
		// The sampler owns its results; the suite owns their identity.
		rs[i].Check = g.Items[i].Check.Name
		rs[i].Kind = g.Kind
		if rs[i].Verdict == 0 {
			rs[i].Verdict = verdict.Error
			rs[i].Observed = "internal error: no verdict set"
		}
	}
	return rs
}

func errorResults(g Group, msg string, d time.Duration) []verdict.Result {
	rs := make([]verdict.Result, len(g.Items))
	for i, it := range g.Items {
		rs[i] = verdict.Result{Check: it.Check.Name, Kind: g.Kind, Verdict: verdict.Error, Observed: msg, Duration: d}
	}
	return rs
}

// Unused reports each of the common check fields ("expect", "noData",
// "minSamples") that it sets although its kind ignores them, so a spec
// is told instead of silently ignored. why says what the kind judges by.
func Unused(it Item, why string, fields ...string) spec.Errors {
	var errs spec.Errors
	set := map[string]bool{
		"expect":     it.Check.Expect != "",
		"noData":     it.Check.NoData != "",
		"minSamples": it.Check.MinSamples != 0,
	}
	for _, f := range fields {
		if set[f] {
			errs.Add(spec.Field(it.Path(), f), "%s checks take no %s (%s); remove it", it.Check.Kind(), f, why)
		}
	}
	return errs
}
