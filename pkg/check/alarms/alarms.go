package alarms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// API is the part of *cloudwatch.Client an alarms check uses.
type API interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Options are what the alarms kind is built from.
type Options struct {
	// API is the CloudWatch client (required).
	API API
	// Now is the clock used to time samples (default time.Now).
	Now func() time.Time
}

// Limits of DescribeAlarms and of the evidence shown to a person.
const (
	// MaxNamesPerCall is how many AlarmNames one DescribeAlarms call takes.
	MaxNamesPerCall = 100
	// maxRecords is the page size asked of DescribeAlarms (its maximum).
	maxRecords = 100
	// maxNameLen is CloudWatch's limit on alarm names and prefixes.
	maxNameLen = 255
	// maxListed is how many alarms the evidence names before "…and N more".
	maxListed = 5
	// maxReason caps one alarm's state reason in the evidence.
	maxReason = 160
)

// query is one DescribeAlarms request, paginated: either up to
// MaxNamesPerCall names, or one prefix.
type query struct {
	names  []string
	prefix string
}

func (q query) String() string {
	if q.prefix != "" {
		return fmt.Sprintf("prefix %q", q.prefix)
	}
	return fmt.Sprintf("%d names from %q", len(q.names), q.names[0])
}

// selection is one alarms check, resolved.
type selection struct {
	names             []string // deduplicated, in spec order
	prefix            string
	ignorePreexisting bool
	// deps are the indexes of the queries whose answers this check needs.
	deps []int
}

type sampler struct {
	api     API
	now     func() time.Time
	queries []query
	checks  []selection
}

// New validates the alarms checks of a spec and returns the sampler that
// answers all of them with as few DescribeAlarms calls as possible: the
// names of every check, deduplicated and minus those a queried prefix
// already covers, 100 a call, and each distinct prefix (minus prefixes a
// shorter queried prefix covers) in its own paginated call.
func New(o Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	if o.API == nil {
		errs.Add("", "internal error: the alarms check kind was built without a CloudWatch client (alarms.Options.API is nil)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &sampler{api: o.API, now: o.Now, checks: make([]selection, len(items))}
	for i, it := range items {
		a := it.Check.Alarms
		path := spec.Field(it.Path(), "alarms")
		if a == nil {
			errs.Add(path, "required for an alarms check")
			continue
		}
		errs = append(errs, check.Unused(it, "it fails on any selected alarm in ALARM", "expect", "noData", "minSamples")...)
		if len(a.Names) == 0 && a.Prefix == "" {
			errs.Add(path, "set names (a list of alarm names) or prefix (an alarm name prefix); with neither the check selects no alarm")
		}
		if len(a.Prefix) > maxNameLen {
			errs.Add(spec.Field(path, "prefix"), "is %d characters; CloudWatch alarm names are at most %d", len(a.Prefix), maxNameLen)
		}
		sel := selection{prefix: a.Prefix, ignorePreexisting: a.IgnorePreexisting}
		seen := map[string]bool{}
		for j, n := range a.Names {
			np := spec.Index(spec.Field(path, "names"), j)
			switch {
			case strings.TrimSpace(n) == "":
				errs.Add(np, "must not be empty; give the alarm's exact name")
			case len(n) > maxNameLen:
				errs.Add(np, "is %d characters; CloudWatch alarm names are at most %d", len(n), maxNameLen)
			case !seen[n]:
				seen[n] = true
				sel.names = append(sel.names, n)
			}
		}
		s.checks[i] = sel
	}
	if len(errs) > 0 {
		return nil, errs
	}
	s.plan()
	return s, nil
}

// plan decides the queries of every sample once, and which queries each
// check depends on.
func (s *sampler) plan() {
	// Prefixes: keep the shortest of any chain ("prod-" covers "prod-api-").
	var all []string
	for _, c := range s.checks {
		if c.prefix != "" {
			all = append(all, c.prefix)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	var prefixes []string
	for _, p := range all {
		if coveringPrefix(prefixes, p) == "" {
			prefixes = append(prefixes, p)
		}
	}
	prefixQuery := map[string]int{}
	for _, p := range prefixes {
		prefixQuery[p] = len(s.queries)
		s.queries = append(s.queries, query{prefix: p})
	}
	// Names not covered by a queried prefix, deduplicated, 100 a call.
	nameQuery := map[string]int{}
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			s.queries = append(s.queries, query{names: batch})
			batch = nil
		}
	}
	for _, c := range s.checks {
		for _, n := range c.names {
			if _, ok := nameQuery[n]; ok {
				continue
			}
			if p := coveringPrefix(prefixes, n); p != "" {
				nameQuery[n] = prefixQuery[p]
				continue
			}
			nameQuery[n] = len(s.queries)
			batch = append(batch, n)
			if len(batch) == MaxNamesPerCall {
				flush()
			}
		}
	}
	flush()
	for i := range s.checks {
		c := &s.checks[i]
		deps := map[int]bool{}
		if c.prefix != "" {
			deps[prefixQuery[coveringPrefix(prefixes, c.prefix)]] = true
		}
		for _, n := range c.names {
			deps[nameQuery[n]] = true
		}
		for d := range deps {
			c.deps = append(c.deps, d)
		}
		slices.Sort(c.deps)
	}
}

// coveringPrefix returns the prefix in ps that name starts with, or "".
func coveringPrefix(ps []string, name string) string {
	for _, p := range ps {
		if strings.HasPrefix(name, p) {
			return p
		}
	}
	return ""
}

// alarm is what a check needs to know of one metric or composite alarm.
type alarm struct {
	name   string
	kind   string // "metric" or "composite"
	state  types.StateValue
	reason string
	// since is when the alarm entered its state: StateTransitionedTimestamp,
	// or StateUpdatedTimestamp when CloudWatch did not return the former.
	since time.Time
}

func since(transitioned, updated *time.Time) time.Time {
	if transitioned != nil && !transitioned.IsZero() {
		return *transitioned
	}
	return aws.ToTime(updated)
}

// Sample describes every selected alarm once and judges each check.
func (s *sampler) Sample(ctx context.Context, at check.Sample) []verdict.Result {
	start := s.now()
	found := map[string]alarm{}
	errs := make([]error, len(s.queries))
	for i, q := range s.queries {
		errs[i] = s.run(ctx, q, found)
	}
	d := s.now().Sub(start)
	out := make([]verdict.Result, len(s.checks))
	for i, c := range s.checks {
		out[i] = c.judge(found, errs, at)
		out[i].Duration = d
	}
	return out
}

// run sends one query, following NextToken, and adds what it finds.
func (s *sampler) run(ctx context.Context, q query, found map[string]alarm) error {
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm},
		MaxRecords: aws.Int32(maxRecords),
	}
	if q.prefix != "" {
		in.AlarmNamePrefix = aws.String(q.prefix)
	} else {
		in.AlarmNames = q.names
	}
	p := cloudwatch.NewDescribeAlarmsPaginator(s.api, in, func(o *cloudwatch.DescribeAlarmsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe alarms (%s): %w", q, err)
		}
		for _, a := range page.MetricAlarms {
			n := aws.ToString(a.AlarmName)
			found[n] = alarm{name: n, kind: "metric", state: a.StateValue, reason: aws.ToString(a.StateReason), since: since(a.StateTransitionedTimestamp, a.StateUpdatedTimestamp)}
		}
		for _, a := range page.CompositeAlarms {
			n := aws.ToString(a.AlarmName)
			found[n] = alarm{name: n, kind: "composite", state: a.StateValue, reason: aws.ToString(a.StateReason), since: since(a.StateTransitionedTimestamp, a.StateUpdatedTimestamp)}
		}
	}
	return nil
}

// judge turns what was found into this check's result.
//
// Precedence: an alarm newly in ALARM is evidence and fails the check even
// when another query failed; otherwise a failed query is an Error; otherwise
// a named alarm that does not exist, or a prefix that matches nothing, is
// Inconclusive (the check could not look at what it was asked to); otherwise
// the check succeeded.
func (c selection) judge(found map[string]alarm, errs []error, at check.Sample) verdict.Result {
	r := verdict.Result{Target: c.target(), Expected: c.expected(at)}
	var callErrs []string
	for _, d := range c.deps {
		if errs[d] != nil {
			callErrs = append(callErrs, errs[d].Error())
		}
	}
	selected := map[string]alarm{}
	var missing []string
	for _, n := range c.names {
		if a, ok := found[n]; ok {
			selected[n] = a
		} else if len(callErrs) == 0 {
			missing = append(missing, n)
		}
	}
	prefixMatched := 0
	if c.prefix != "" {
		for n, a := range found {
			if strings.HasPrefix(n, c.prefix) {
				selected[n] = a
				prefixMatched++
			}
		}
	}
	names := make([]string, 0, len(selected))
	for n := range selected {
		names = append(names, n)
	}
	slices.Sort(names)

	var firing, baseline []alarm
	counts := map[types.StateValue]int{}
	for _, n := range names {
		a := selected[n]
		counts[a.state]++
		if a.state != types.StateValueAlarm {
			continue
		}
		if c.ignorePreexisting && !at.BakeStart.IsZero() && !a.since.IsZero() && a.since.Before(at.BakeStart) {
			baseline = append(baseline, a)
		} else {
			firing = append(firing, a)
		}
	}
	r.Values = map[string]float64{
		"alarms":      float64(len(names)),
		"in_alarm":    float64(len(firing)),
		"preexisting": float64(len(baseline)),
		"missing":     float64(len(missing)),
	}

	var notes []string
	if len(baseline) > 0 {
		notes = append(notes, fmt.Sprintf("ignored %d already in ALARM before the bake started: %s", len(baseline), list(baseline)))
	}
	if len(missing) > 0 {
		notes = append(notes, fmt.Sprintf("%d named alarm(s) do not exist: %s (names are case-sensitive: fix the name in alarms.names or remove it)", len(missing), quoteList(missing)))
	}
	if c.prefix != "" && prefixMatched == 0 && len(callErrs) == 0 {
		notes = append(notes, fmt.Sprintf("no alarm name starts with %q (fix alarms.prefix)", c.prefix))
	}
	if len(callErrs) > 0 {
		notes = append(notes, "CloudWatch failed: "+strings.Join(callErrs, "; "))
	}

	switch {
	case len(firing) > 0:
		r.Verdict = verdict.Failed
		r.Observed = fmt.Sprintf("%d of %d alarms in ALARM: %s", len(firing), len(names), list(firing))
	case len(callErrs) > 0:
		r.Verdict = verdict.Error
		r.Observed = fmt.Sprintf("could not read every selected alarm (%d read, none newly in ALARM); retry, or check the function's cloudwatch:DescribeAlarms permission", len(names))
	case len(missing) > 0 || (c.prefix != "" && prefixMatched == 0):
		r.Verdict = verdict.Inconclusive
		r.Observed = fmt.Sprintf("%d alarms read, none newly in ALARM, but the selection is incomplete", len(names))
	default:
		r.Verdict = verdict.Succeeded
		r.Observed = fmt.Sprintf("%d alarms, none newly in ALARM (%s)", len(names), stateCounts(counts))
	}
	if len(notes) > 0 {
		r.Observed += "; " + strings.Join(notes, "; ")
	}
	return r
}

func (c selection) target() string {
	var parts []string
	if c.prefix != "" {
		parts = append(parts, fmt.Sprintf("alarms with prefix %q", c.prefix))
	}
	if len(c.names) > 0 {
		shown := c.names
		more := ""
		if len(shown) > maxListed {
			more = fmt.Sprintf(" …and %d more", len(shown)-maxListed)
			shown = shown[:maxListed]
		}
		parts = append(parts, "alarms "+quoteList(shown)+more)
	}
	return strings.Join(parts, " and ")
}

func (c selection) expected(at check.Sample) string {
	if c.ignorePreexisting && !at.BakeStart.IsZero() {
		return "no selected alarm entering ALARM at or after the bake start " + at.BakeStart.UTC().Format(time.RFC3339) + " (alarms already in ALARM before it are ignored)"
	}
	return "no selected alarm in ALARM, and every named alarm to exist"
}

// list renders alarms for a person, capped at maxListed.
func list(as []alarm) string {
	var b strings.Builder
	for i, a := range as {
		if i == maxListed {
			fmt.Fprintf(&b, "; …and %d more", len(as)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%q (%s alarm", a.name, a.kind)
		if !a.since.IsZero() {
			fmt.Fprintf(&b, ", in ALARM since %s", a.since.UTC().Format(time.RFC3339))
		}
		if a.reason != "" {
			fmt.Fprintf(&b, ": %s", truncate(a.reason, maxReason))
		}
		b.WriteString(")")
	}
	return b.String()
}

func quoteList(ns []string) string {
	q := make([]string, len(ns))
	for i, n := range ns {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func stateCounts(counts map[types.StateValue]int) string {
	var parts []string
	for _, s := range []types.StateValue{types.StateValueOk, types.StateValueInsufficientData, types.StateValueAlarm} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		return "none read"
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
