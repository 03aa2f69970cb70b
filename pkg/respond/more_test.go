package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// TestDedupeWithStateTable runs dedupe against the real state store on
// dynalite: a finding is notified once, and again after the claim is
// released (a failed publish).
func TestDedupeWithStateTable(t *testing.T) {
	srv := dynalite.StartT(t)
	ctx := context.Background()
	c := srv.Client()
	if err := state.CreateTable(ctx, c, "respond-state"); err != nil {
		t.Fatalf("create state table: %v", err)
	}
	r := newRig(t)
	store := state.New(c, "respond-state")
	r.h.Claims = store
	ev := readEvent(t, "respond-inspector-finding.json")
	for i := range 2 {
		if err := r.invoke(t, ev); err != nil {
			t.Fatalf("Invoke #%d: %v", i+1, err)
		}
	}
	if len(r.sns.in) != 1 {
		t.Fatalf("same finding twice with the state table published %d messages; want 1", len(r.sns.in))
	}
	r.sns.err = fmt.Errorf("throttled")
	other := readEvent(t, "respond-guardduty-finding.json")
	if err := r.invoke(t, other); err == nil {
		t.Fatal("Invoke with SNS failing = nil; want an error")
	}
	r.sns.err = nil
	if err := r.invoke(t, other); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(r.sns.in) != 2 {
		t.Errorf("after a failed publish the retry published %d messages in all; want 2 (claim released in the table)", len(r.sns.in))
	}
}

// FuzzHandle feeds arbitrary details under every handled detail-type:
// the handler must never panic, and must drop (nil) or retry (error) —
// never publish from a detail it could not read.
func FuzzHandle(f *testing.F) {
	for _, file := range []string{
		"respond-alarm-cpu.json", "respond-pipeline-failed.json", "respond-pipeline-action-failed.json",
		"respond-codedeploy-failure.json", "respond-codebuild-failed.json", "respond-verify-failed.json",
		"respond-ecr-scan.json", "respond-inspector-finding.json", "respond-inspector-scan.json",
		"respond-guardduty-finding.json", "respond-securityhub-asff.json", "respond-securityhub-ocsf.json",
		"respond-unknown.json", "respond-malformed.json", "respond-securityhub-hostile.json",
		"respond-securityhub-mixed-batch.json",
	} {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(readEvent(f, file), &ev); err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Source, ev.DetailType, []byte(ev.Detail))
	}
	f.Fuzz(func(t *testing.T, source, detailType string, detail []byte) {
		r := newRig(t)
		ev := events.EventBridgeEvent{ID: "fuzz", Source: source, DetailType: detailType, Region: "us-east-1", Detail: detail}
		if !json.Valid(detail) {
			ev.Detail = nil
		}
		if err := r.h.HandleEvent(context.Background(), ev); err != nil {
			t.Fatalf("HandleEvent returned %v; only a failed publish may return an error and SNS did not fail", err)
		}
		malformed := r.metric(telemetry.MetricEventsMalformed, "Source", source)
		if malformed > 0 && len(r.sns.in) > 0 {
			t.Fatalf("a malformed detail was also published: %s", aws.ToString(r.sns.in[0].Subject))
		}
	})
}

// FuzzHandlePayload feeds whole payloads: an envelope that does not
// decode is dropped, never an error.
func FuzzHandlePayload(f *testing.F) {
	for _, file := range []string{"respond-inspector-finding.json", "respond-unknown.json", "respond-alarm-cpu.json"} {
		f.Add(readEvent(f, file))
	}
	f.Add([]byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","time":"yesterday","detail":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r := newRig(t)
		if err := r.h.Handle(context.Background(), payload); err != nil {
			t.Fatalf("Handle(%q) = %v; want nil (SNS did not fail)", payload, err)
		}
	})
}

// BenchmarkTriageRoute measures the security path end to end in process:
// decode the event, normalise, score, dedupe (in memory), render and
// route (SNS faked). findings/s is per core with -cpu 1.
func BenchmarkTriageRoute(b *testing.B) {
	r := newRig(b)
	r.h.Metrics = telemetry.NewMetrics("Postdeploy", nil)
	var evs []events.EventBridgeEvent
	for _, file := range []string{"respond-inspector-finding.json", "respond-guardduty-finding.json", "respond-securityhub-asff.json", "respond-securityhub-ocsf.json", "respond-ecr-scan.json"} {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(readEvent(b, file), &ev); err != nil {
			b.Fatal(err)
		}
		evs = append(evs, ev)
	}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	start := time.Now()
	n := 0
	for b.Loop() {
		r.claims.claimed = nil // every finding is new: the full path runs
		r.sns.in = r.sns.in[:0]
		ev := evs[n%len(evs)]
		if err := r.h.HandleEvent(ctx, ev); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "findings/s")
	// On a shared machine wall time overstates the cost: findings per
	// CPU-second is the per-core throughput.
	if used := cpuTime() - cpu0; used > 0 {
		b.ReportMetric(float64(n)/used.Seconds(), "findings/cpu-s")
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
