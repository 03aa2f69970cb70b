package alarms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// fakeAlarm is one alarm in the fake account.
type fakeAlarm struct {
	name         string
	composite    bool
	state        types.StateValue
	transitioned time.Time // zero: not returned
	updated      time.Time // zero: not returned
	reason       string
}

// fakeCW is a CloudWatch that knows a fixed set of alarms. It enforces the
// DescribeAlarms rules the sampler must respect (names or prefix, not
// both; at most 100 names; MaxRecords at most 100) and paginates with
// NextToken, so a test fails if the sampler breaks them.
type fakeCW struct {
	alarms []fakeAlarm
	// fail, when set, may fail a call before it is answered.
	fail   func(in *cloudwatch.DescribeAlarmsInput) error
	calls  int
	inputs []cloudwatch.DescribeAlarmsInput
}

var _ API = (*fakeCW)(nil)

func (f *fakeCW) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.calls++
	f.inputs = append(f.inputs, *in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.fail != nil {
		if err := f.fail(in); err != nil {
			return nil, err
		}
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "AlarmNames and AlarmNamePrefix cannot be combined"}
	}
	if len(in.AlarmNames) > 100 {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "at most 100 AlarmNames"}
	}
	page := 50 // the service default
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "MaxRecords must be 1-100"}
		}
		page = int(*in.MaxRecords)
	}
	wantMetric := len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, types.AlarmTypeMetricAlarm)
	wantComposite := slices.Contains(in.AlarmTypes, types.AlarmTypeCompositeAlarm)
	var match []fakeAlarm
	for _, a := range f.alarms {
		switch {
		case a.composite && !wantComposite, !a.composite && !wantMetric:
			continue
		case in.AlarmNamePrefix != nil && !strings.HasPrefix(a.name, *in.AlarmNamePrefix):
			continue
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, a.name):
			continue
		}
		match = append(match, a)
	}
	from := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidNextToken", Message: "bad token"}
		}
		from = n
	}
	to := min(from+page, len(match))
	out := &cloudwatch.DescribeAlarmsOutput{}
	if to < len(match) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	for _, a := range match[from:to] {
		var tr, up *time.Time
		if !a.transitioned.IsZero() {
			tr = aws.Time(a.transitioned)
		}
		if !a.updated.IsZero() {
			up = aws.Time(a.updated)
		}
		if a.composite {
			out.CompositeAlarms = append(out.CompositeAlarms, types.CompositeAlarm{AlarmName: aws.String(a.name), StateValue: a.state, StateReason: aws.String(a.reason), StateTransitionedTimestamp: tr, StateUpdatedTimestamp: up})
		} else {
			out.MetricAlarms = append(out.MetricAlarms, types.MetricAlarm{AlarmName: aws.String(a.name), StateValue: a.state, StateReason: aws.String(a.reason), StateTransitionedTimestamp: tr, StateUpdatedTimestamp: up})
		}
	}
	return out, nil
}

var (
	bakeStart = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	before    = bakeStart.Add(-time.Hour)
	during    = bakeStart.Add(3 * time.Minute)
	sample    = check.Sample{BakeStart: bakeStart, Now: bakeStart.Add(5 * time.Minute), Number: 10}
	throttled = &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
)

func ok(name string) fakeAlarm {
	return fakeAlarm{name: name, state: types.StateValueOk, transitioned: before}
}

func firing(name string, at time.Time) fakeAlarm {
	return fakeAlarm{name: name, state: types.StateValueAlarm, transitioned: at, updated: at, reason: "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0)."}
}

func items(as ...spec.Alarms) []check.Item {
	its := make([]check.Item, len(as))
	for i := range as {
		its[i] = check.Item{Index: i + 2, Check: spec.Check{Name: fmt.Sprintf("alarms-%d", i), Alarms: &as[i]}}
	}
	return its
}

func build(t testing.TB, f *fakeCW, its []check.Item) check.Sampler {
	t.Helper()
	s, errs := New(Options{API: f}, its)
	if len(errs) > 0 {
		t.Fatalf("New(%d checks) errors: %v", len(its), errs)
	}
	return s
}

func TestSample(t *testing.T) {
	account := []fakeAlarm{
		ok("prod-api-5xx"),
		ok("prod-api-latency"),
		{name: "prod-api-insufficient", state: types.StateValueInsufficientData, transitioned: before},
		firing("prod-db-cpu", during),
		firing("prod-db-old", before),
		{name: "prod-db-updated-only", state: types.StateValueAlarm, updated: before, reason: "r"},
		{name: "prod-db-no-times", state: types.StateValueAlarm, reason: "r"},
		{name: "prod-health", composite: true, state: types.StateValueAlarm, transitioned: during, reason: "alarm rule true"},
		{name: "prod-health-ok", composite: true, state: types.StateValueOk, transitioned: before},
	}
	tests := []struct {
		name       string
		alarms     spec.Alarms
		want       verdict.Verdict
		contains   []string // in Observed
		absent     []string // not in Observed
		wantValues map[string]float64
	}{
		{
			name:       "all OK by prefix",
			alarms:     spec.Alarms{Prefix: "prod-api-"},
			want:       verdict.Succeeded,
			contains:   []string{"3 alarms, none newly in ALARM", "2 OK", "1 INSUFFICIENT_DATA"},
			wantValues: map[string]float64{"alarms": 3, "in_alarm": 0, "preexisting": 0, "missing": 0},
		},
		{
			name:       "metric alarm in ALARM",
			alarms:     spec.Alarms{Names: []string{"prod-api-5xx", "prod-db-cpu"}},
			want:       verdict.Failed,
			contains:   []string{"1 of 2 alarms in ALARM", `"prod-db-cpu" (metric alarm, in ALARM since 2026-11-22T08:03:00Z: Threshold Crossed`},
			wantValues: map[string]float64{"alarms": 2, "in_alarm": 1, "preexisting": 0, "missing": 0},
		},
		{
			name:     "composite alarm in ALARM",
			alarms:   spec.Alarms{Names: []string{"prod-health", "prod-health-ok"}},
			want:     verdict.Failed,
			contains: []string{`"prod-health" (composite alarm`, "alarm rule true"},
		},
		{
			name:     "pre-existing alarm fails without ignorePreexisting",
			alarms:   spec.Alarms{Names: []string{"prod-db-old"}},
			want:     verdict.Failed,
			contains: []string{"1 of 1 alarms in ALARM", `"prod-db-old"`},
		},
		{
			name:       "pre-existing alarm ignored",
			alarms:     spec.Alarms{Names: []string{"prod-db-old", "prod-api-5xx"}, IgnorePreexisting: true},
			want:       verdict.Succeeded,
			contains:   []string{"none newly in ALARM", `ignored 1 already in ALARM before the bake started: "prod-db-old"`},
			wantValues: map[string]float64{"alarms": 2, "in_alarm": 0, "preexisting": 1, "missing": 0},
		},
		{
			name:     "new alarm fails despite ignorePreexisting",
			alarms:   spec.Alarms{Names: []string{"prod-db-old", "prod-db-cpu"}, IgnorePreexisting: true},
			want:     verdict.Failed,
			contains: []string{`1 of 2 alarms in ALARM: "prod-db-cpu"`, `ignored 1 already in ALARM before the bake started: "prod-db-old"`},
		},
		{
			name:     "falls back to StateUpdatedTimestamp",
			alarms:   spec.Alarms{Names: []string{"prod-db-updated-only"}, IgnorePreexisting: true},
			want:     verdict.Succeeded,
			contains: []string{"ignored 1"},
		},
		{
			name:     "no timestamps counts as new",
			alarms:   spec.Alarms{Names: []string{"prod-db-no-times"}, IgnorePreexisting: true},
			want:     verdict.Failed,
			contains: []string{`"prod-db-no-times" (metric alarm: r)`},
		},
		{
			name:       "missing name is inconclusive",
			alarms:     spec.Alarms{Names: []string{"prod-api-5xx", "prod-api-5XX-typo"}},
			want:       verdict.Inconclusive,
			contains:   []string{`do not exist: "prod-api-5XX-typo"`, "fix the name in alarms.names"},
			wantValues: map[string]float64{"alarms": 1, "in_alarm": 0, "preexisting": 0, "missing": 1},
		},
		{
			name:     "missing name does not hide a firing alarm",
			alarms:   spec.Alarms{Names: []string{"prod-db-cpu", "nope"}},
			want:     verdict.Failed,
			contains: []string{`"prod-db-cpu"`, `do not exist: "nope"`},
		},
		{
			name:     "prefix matching nothing is inconclusive",
			alarms:   spec.Alarms{Prefix: "staging-"},
			want:     verdict.Inconclusive,
			contains: []string{`no alarm name starts with "staging-"`},
		},
		{
			name:     "names and prefix together",
			alarms:   spec.Alarms{Prefix: "prod-api-", Names: []string{"prod-health-ok"}},
			want:     verdict.Succeeded,
			contains: []string{"4 alarms, none newly in ALARM"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{alarms: account}
			rs := build(t, f, items(tt.alarms)).Sample(context.Background(), sample)
			if len(rs) != 1 {
				t.Fatalf("Sample returned %d results; want 1", len(rs))
			}
			r := rs[0]
			if r.Verdict != tt.want {
				t.Errorf("Sample(%+v).Verdict = %v; want %v (observed %q)", tt.alarms, r.Verdict, tt.want, r.Observed)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Observed, s) {
					t.Errorf("Sample(%+v).Observed = %q; want it to contain %q", tt.alarms, r.Observed, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(r.Observed, s) {
					t.Errorf("Sample(%+v).Observed = %q; want it not to contain %q", tt.alarms, r.Observed, s)
				}
			}
			if tt.wantValues != nil {
				if d := cmp.Diff(tt.wantValues, r.Values); d != "" {
					t.Errorf("Sample(%+v).Values mismatch (-want +got):\n%s", tt.alarms, d)
				}
			}
			if r.Target == "" || r.Expected == "" {
				t.Errorf("Sample(%+v) Target = %q, Expected = %q; want both set", tt.alarms, r.Target, r.Expected)
			}
		})
	}
}

func TestSampleAsksForBothAlarmTypes(t *testing.T) {
	f := &fakeCW{alarms: []fakeAlarm{ok("a")}}
	build(t, f, items(spec.Alarms{Names: []string{"a"}})).Sample(context.Background(), sample)
	for i, in := range f.inputs {
		want := []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm}
		if d := cmp.Diff(want, in.AlarmTypes); d != "" {
			t.Errorf("call %d AlarmTypes mismatch (-want +got):\n%s", i, d)
		}
	}
}

func TestExpectedNamesBakeStart(t *testing.T) {
	f := &fakeCW{alarms: []fakeAlarm{ok("a")}}
	r := build(t, f, items(spec.Alarms{Names: []string{"a"}, IgnorePreexisting: true})).Sample(context.Background(), sample)[0]
	if want := "2026-11-22T08:00:00Z"; !strings.Contains(r.Expected, want) {
		t.Errorf("Expected = %q; want it to name the bake start %s", r.Expected, want)
	}
}

func TestEvidenceIsCapped(t *testing.T) {
	var account []fakeAlarm
	for i := range 12 {
		account = append(account, firing(fmt.Sprintf("svc-%02d", i), during))
	}
	f := &fakeCW{alarms: account}
	r := build(t, f, items(spec.Alarms{Prefix: "svc-"})).Sample(context.Background(), sample)[0]
	if !strings.Contains(r.Observed, "12 of 12 alarms in ALARM") || !strings.Contains(r.Observed, "…and 7 more") {
		t.Errorf("Observed = %q; want 12 of 12 with five named and \"…and 7 more\"", r.Observed)
	}
	if strings.Contains(r.Observed, "svc-05") {
		t.Errorf("Observed = %q; want only the first five alarms named", r.Observed)
	}
}

func TestLongReasonIsTruncated(t *testing.T) {
	a := firing("x", during)
	a.reason = strings.Repeat("é", 1000)
	f := &fakeCW{alarms: []fakeAlarm{a}}
	r := build(t, f, items(spec.Alarms{Names: []string{"x"}})).Sample(context.Background(), sample)[0]
	if n := len([]rune(r.Observed)); n > 400 {
		t.Errorf("Observed is %d runes; want the reason truncated", n)
	}
}

func TestBatching(t *testing.T) {
	names := func(prefix string, n int) []string {
		var ns []string
		for i := range n {
			ns = append(ns, fmt.Sprintf("%s%03d", prefix, i))
		}
		return ns
	}
	var account []fakeAlarm
	for _, n := range append(names("a-", 150), names("b-", 100)...) {
		account = append(account, ok(n))
	}
	tests := []struct {
		name      string
		checks    []spec.Alarms
		wantCalls int
		wantSeen  float64 // alarms counted by the first check
	}{
		{"250 names in one check", []spec.Alarms{{Names: append(names("a-", 150), names("b-", 100)...)}}, 3, 250},
		{"150 names and a prefix", []spec.Alarms{{Names: names("a-", 150), Prefix: "b-"}}, 3, 250},
		{"names shared by checks are asked once", []spec.Alarms{{Names: names("a-", 100)}, {Names: names("a-", 100)}, {Names: names("a-", 50)}}, 1, 100},
		{"names a prefix covers are not asked", []spec.Alarms{{Names: names("b-", 100)}, {Prefix: "b-"}}, 1, 100},
		{"shorter prefix covers longer", []spec.Alarms{{Prefix: "a-1"}, {Prefix: "a-"}, {Prefix: "a-"}}, 2, 50},
		{"prefix paginates", []spec.Alarms{{Prefix: "a-"}}, 2, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCW{alarms: account}
			rs := build(t, f, items(tt.checks...)).Sample(context.Background(), sample)
			if f.calls != tt.wantCalls {
				t.Errorf("DescribeAlarms calls = %d; want %d", f.calls, tt.wantCalls)
			}
			for i, r := range rs {
				if r.Verdict != verdict.Succeeded {
					t.Errorf("check %d verdict = %v (%s); want Succeeded", i, r.Verdict, r.Observed)
				}
			}
			if got := rs[0].Values["alarms"]; got != tt.wantSeen {
				t.Errorf("check 0 saw %v alarms; want %v", got, tt.wantSeen)
			}
			for i, in := range f.inputs {
				if len(in.AlarmNames) > MaxNamesPerCall {
					t.Errorf("call %d has %d names; want at most %d", i, len(in.AlarmNames), MaxNamesPerCall)
				}
				if aws.ToInt32(in.MaxRecords) != 100 {
					t.Errorf("call %d MaxRecords = %v; want 100", i, aws.ToInt32(in.MaxRecords))
				}
			}
		})
	}
}

func TestThrottlingIsAnError(t *testing.T) {
	f := &fakeCW{
		alarms: []fakeAlarm{ok("api-1"), firing("db-1", during), ok("web-1")},
		fail: func(in *cloudwatch.DescribeAlarmsInput) error {
			if aws.ToString(in.AlarmNamePrefix) == "api-" {
				return throttled
			}
			return nil
		},
	}
	rs := build(t, f, items(
		spec.Alarms{Prefix: "api-"},
		spec.Alarms{Prefix: "db-"},
		spec.Alarms{Names: []string{"web-1"}},
		spec.Alarms{Prefix: "api-", Names: []string{"db-1"}},
	)).Sample(context.Background(), sample)
	want := []verdict.Verdict{verdict.Error, verdict.Failed, verdict.Succeeded, verdict.Failed}
	for i, r := range rs {
		if r.Verdict != want[i] {
			t.Errorf("check %d verdict = %v (%s); want %v", i, r.Verdict, r.Observed, want[i])
		}
	}
	for _, i := range []int{0, 3} {
		if !strings.Contains(rs[i].Observed, "Rate exceeded") || !strings.Contains(rs[i].Observed, `prefix "api-"`) {
			t.Errorf("check %d Observed = %q; want the throttling error and the query it hit", i, rs[i].Observed)
		}
	}
	var apiErr smithy.APIError
	if !errors.As(throttled, &apiErr) {
		t.Fatal("throttled is not a smithy.APIError")
	}
}

func TestErrorDoesNotReportMissing(t *testing.T) {
	f := &fakeCW{fail: func(*cloudwatch.DescribeAlarmsInput) error { return throttled }}
	r := build(t, f, items(spec.Alarms{Names: []string{"a"}})).Sample(context.Background(), sample)[0]
	if r.Verdict != verdict.Error || strings.Contains(r.Observed, "do not exist") {
		t.Errorf("Sample with every call throttled = %v %q; want Error without claiming the alarm is missing", r.Verdict, r.Observed)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeCW{alarms: []fakeAlarm{ok("a")}}
	r := build(t, f, items(spec.Alarms{Names: []string{"a"}})).Sample(ctx, sample)[0]
	if r.Verdict != verdict.Error || !strings.Contains(r.Observed, "context canceled") {
		t.Errorf("Sample(cancelled ctx) = %v %q; want Error naming the cancellation", r.Verdict, r.Observed)
	}
}

func TestNewValidation(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		name   string
		alarms *spec.Alarms
		common func(*spec.Check) // sets fields outside alarms
		want   []string          // paths
	}{
		{"neither names nor prefix", &spec.Alarms{}, nil, []string{"checks[2].alarms"}},
		{"empty name", &spec.Alarms{Names: []string{"a", " "}}, nil, []string{"checks[2].alarms.names[1]"}},
		{"name too long", &spec.Alarms{Names: []string{long}}, nil, []string{"checks[2].alarms.names[0]"}},
		{"prefix too long", &spec.Alarms{Prefix: long}, nil, []string{"checks[2].alarms.prefix"}},
		{"every problem at once", &spec.Alarms{Prefix: long, Names: []string{"", long}}, nil, []string{"checks[2].alarms.prefix", "checks[2].alarms.names[0]", "checks[2].alarms.names[1]"}},
		{"no alarms block", nil, nil, []string{"checks[2].alarms"}},
		{"metric fields on an alarms check", &spec.Alarms{Prefix: "a"}, func(c *spec.Check) { c.Expect, c.NoData, c.MinSamples = "value < 1", "pass", 3 }, []string{"checks[2].expect", "checks[2].noData", "checks[2].minSamples"}},
		{"duplicates are fine", &spec.Alarms{Names: []string{"a", "a"}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			its := []check.Item{{Index: 2, Check: spec.Check{Name: "c", Alarms: tt.alarms}}}
			if tt.common != nil {
				tt.common(&its[0].Check)
			}
			s, errs := New(Options{API: &fakeCW{}}, its)
			var got []string
			for _, e := range errs {
				got = append(got, e.Path)
				if e.Msg == "" {
					t.Errorf("error at %s has no message", e.Path)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("New(%+v) error paths mismatch (-want +got):\n%s\nerrors: %v", tt.alarms, d, errs)
			}
			if (s == nil) != (len(tt.want) > 0) {
				t.Errorf("New(%+v) sampler = %v with %d errors; want a sampler exactly when there are no errors", tt.alarms, s, len(errs))
			}
		})
	}
}

func TestNewWithoutClient(t *testing.T) {
	_, errs := New(Options{}, items(spec.Alarms{Prefix: "a"}))
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "Options.API is nil") {
		t.Errorf("New(no API) errors = %v; want one naming the missing client", errs)
	}
}

// fixture250 is 150 named alarms and a prefix matching 100 more.
func fixture250() (*fakeCW, []check.Item) {
	f := &fakeCW{}
	var names []string
	for i := range 150 {
		n := fmt.Sprintf("svc-a-%03d", i)
		names = append(names, n)
		f.alarms = append(f.alarms, ok(n))
	}
	for i := range 100 {
		f.alarms = append(f.alarms, ok(fmt.Sprintf("svc-b-%03d", i)))
	}
	return f, items(spec.Alarms{Names: names[:100]}, spec.Alarms{Names: names[50:]}, spec.Alarms{Prefix: "svc-b-", IgnorePreexisting: true})
}

func TestCallBudget250(t *testing.T) {
	f, its := fixture250()
	rs := build(t, f, its).Sample(context.Background(), sample)
	if f.calls > 3 {
		t.Errorf("250 alarms cost %d DescribeAlarms calls; want at most 3", f.calls)
	}
	for i, r := range rs {
		if r.Verdict != verdict.Succeeded {
			t.Errorf("check %d = %v (%s); want Succeeded", i, r.Verdict, r.Observed)
		}
	}
}

func BenchmarkAlarms250(b *testing.B) {
	f, its := fixture250()
	s := build(b, f, its)
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s.Sample(ctx, sample)
		n++
	}
	b.ReportMetric(float64(f.calls)/float64(n), "calls/op")
}

func TestNoChecks(t *testing.T) {
	f := &fakeCW{}
	if rs := build(t, f, nil).Sample(context.Background(), sample); len(rs) != 0 || f.calls != 0 {
		t.Errorf("Sample with no checks = %d results, %d calls; want 0, 0", len(rs), f.calls)
	}
}
