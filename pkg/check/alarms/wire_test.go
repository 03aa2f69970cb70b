package alarms

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

var _ API = (*cloudwatch.Client)(nil)

// TestRealClient runs the sampler with the real *cloudwatch.Client over
// its default wire protocol against the project's local AWS stand-in.
func TestRealClient(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	sc := standin.Scenario{Alarms: []standin.Alarm{
		{Name: "prod-api-5xx", State: "ALARM", Reason: "Threshold Crossed", Since: standin.Duration{Duration: 30 * time.Minute}},
		{Name: "prod-api-latency", State: "OK"},
		{Name: "prod-api-health", Type: "CompositeAlarm", State: "ALARM", Reason: "rule true", Since: standin.Duration{Duration: 2 * time.Minute}},
		{Name: "prod-db-cpu", State: "OK"},
	}}
	srv := standin.StartT(t, sc, standin.WithClock(func() time.Time { return now }))
	cw := cloudwatch.NewFromConfig(srv.Config())
	sampler, errs := New(Options{API: cw}, items(
		spec.Alarms{Prefix: "prod-api-", IgnorePreexisting: true},
		spec.Alarms{Names: []string{"prod-db-cpu", "prod-db-typo"}},
	))
	if len(errs) > 0 {
		t.Fatalf("New: %v", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	at := check.Sample{BakeStart: now.Add(-5 * time.Minute), Now: now}

	rs := sampler.Sample(ctx, at)
	want := []struct {
		v    verdict.Verdict
		text string
	}{
		{verdict.Failed, `1 of 3 alarms in ALARM: "prod-api-health" (composite alarm, in ALARM since 2026-11-22T11:58:00Z: rule true); ignored 1 already in ALARM before the bake started: "prod-api-5xx"`},
		{verdict.Inconclusive, `do not exist: "prod-db-typo"`},
	}
	for i, w := range want {
		if rs[i].Verdict != w.v || !strings.Contains(rs[i].Observed, w.text) {
			t.Errorf("check %d = %v %q; want %v containing %q", i, rs[i].Verdict, rs[i].Observed, w.v, w.text)
		}
	}
	if n := len(srv.CallsTo(standin.CloudWatch, "DescribeAlarms")); n != 2 {
		t.Errorf("DescribeAlarms calls = %d; want 2 (the prefix, then the names)", n)
	}

	srv.Inject(standin.CloudWatch, "DescribeAlarms", standin.Fault{Kind: standin.FaultThrottle})
	for i, r := range sampler.Sample(ctx, at) {
		if r.Verdict != verdict.Error || !strings.Contains(r.Observed, "Throttling") {
			t.Errorf("throttled: check %d = %v %q; want Error naming the throttling", i, r.Verdict, r.Observed)
		}
	}
}
