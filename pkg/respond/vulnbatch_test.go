package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// fakeBatchSNS is SNS with PublishBatch, strict as the PublishBatch API
// reference (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html)
// says: at most 10 entries (TooManyEntriesInBatchRequest), distinct Ids
// (BatchEntryIdsNotDistinct). failOnce names subjects whose first entry
// fails (SenderFault false); failAlways subjects that always fail with
// SenderFault true; callErr fails whole calls.
type fakeBatchSNS struct {
	fakeSNS
	mu         sync.Mutex
	batches    [][]snstypes.PublishBatchRequestEntry
	published  []string // subjects
	failOnce   map[string]bool
	failAlways map[string]bool
	callErr    error
}

var _ notify.BatchPublisher = (*fakeBatchSNS)(nil)

func (f *fakeBatchSNS) PublishBatch(_ context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(in.PublishBatchRequestEntries); n > 10 || n == 0 {
		return nil, fmt.Errorf("TooManyEntriesInBatchRequest or EmptyBatchRequest: %d entries", n)
	}
	ids := map[string]bool{}
	for _, e := range in.PublishBatchRequestEntries {
		if ids[aws.ToString(e.Id)] {
			return nil, errors.New("BatchEntryIdsNotDistinct")
		}
		ids[aws.ToString(e.Id)] = true
	}
	f.batches = append(f.batches, in.PublishBatchRequestEntries)
	if f.callErr != nil {
		return nil, f.callErr
	}
	out := &sns.PublishBatchOutput{}
	for _, e := range in.PublishBatchRequestEntries {
		subj := aws.ToString(e.Subject)
		switch {
		case f.failAlways[subj]:
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameter"), SenderFault: true})
		case f.failOnce[subj]:
			delete(f.failOnce, subj)
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
		default:
			f.published = append(f.published, subj)
			out.Successful = append(out.Successful, snstypes.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + aws.ToString(e.Id))})
		}
	}
	return out, nil
}

// manyFindings is a Security Hub event of n distinct ASFF findings (the
// sample event's finding, with ids and resources made distinct).
func manyFindings(t testing.TB, n int) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "respond-securityhub-asff.json"), &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	base, _ := json.Marshal(d["findings"].([]any)[0])
	var fs []any
	for i := range n {
		var f map[string]any
		_ = json.Unmarshal(base, &f)
		f["Id"] = fmt.Sprintf("arn:aws:securityhub:us-east-1:123456789012:security-control/S3.8/finding/test-%03d", i)
		f["Title"] = fmt.Sprintf("Finding %03d", i)
		f["Resources"] = []any{map[string]any{"Type": "AwsS3Bucket", "Id": fmt.Sprintf("arn:aws:s3:::bucket-%03d", i), "Partition": "aws", "Region": "us-east-1"}}
		fs = append(fs, f)
	}
	d["findings"] = fs
	b, _ := json.Marshal(ev)
	return b
}

func (r *rig) useBatchSNS(concurrency int) *fakeBatchSNS {
	f := &fakeBatchSNS{}
	router := r.h.Notify.(notify.Router)
	router.API = f
	r.h.Notify = router
	r.h.Findings = FindingOptions{Concurrency: concurrency, Batch: true}
	return f
}

// TestFindingsConcurrentBatchedSameMessagesAsSequential: 100 findings of
// one event, claimed 16 at a time and published with PublishBatch, give
// the same messages as one claim and one Publish after another, in calls
// of at most 10 entries, each finding claimed once.
func TestFindingsConcurrentBatchedSameMessagesAsSequential(t *testing.T) {
	ev := manyFindings(t, 100)
	seq := newRig(t)
	if err := seq.invoke(t, ev); err != nil {
		t.Fatalf("sequential Invoke = %v; want nil", err)
	}
	var want []string
	for _, in := range seq.sns.in {
		want = append(want, aws.ToString(in.Subject)+"\n"+aws.ToString(in.Message))
	}

	con := newRig(t)
	fb := con.useBatchSNS(16)
	if err := con.invoke(t, ev); err != nil {
		t.Fatalf("concurrent Invoke = %v; want nil", err)
	}
	var got []string
	for _, b := range fb.batches {
		if len(b) > notify.MaxBatchEntries {
			t.Errorf("a PublishBatch call carried %d entries; want ≤ %d", len(b), notify.MaxBatchEntries)
		}
		for _, e := range b {
			got = append(got, aws.ToString(e.Subject)+"\n"+aws.ToString(e.Message))
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) != 100 || !slices.Equal(got, want) {
		t.Errorf("batched messages differ from sequential ones: %d vs %d messages", len(got), len(want))
	}
	if len(fb.batches) != 10 {
		t.Errorf("PublishBatch calls = %d; want 10 (100 findings, 10 a call)", len(fb.batches))
	}
	if len(con.claims.claimed) != 100 {
		t.Errorf("claims = %d; want 100, one per finding", len(con.claims.claimed))
	}
	// The redelivered event finds every claim held: nothing is sent again.
	if err := con.invoke(t, ev); err != nil {
		t.Fatalf("redelivered Invoke = %v; want nil", err)
	}
	if len(fb.batches) != 10 {
		t.Errorf("PublishBatch calls after redelivery = %d; want still 10", len(fb.batches))
	}
}

// TestFindingsBatchPartialFailures: the PublishBatch API reference says
// each entry is reported on its own ("check for batch errors even when
// the call returns an HTTP status code of 200"). An entry that fails
// with SenderFault false is sent again (only it) and published once; an
// entry that fails with SenderFault true is not retried in the
// invocation: it is counted, its claim released, and the event fails so
// Lambda's retry sends it — and only it.
func TestFindingsBatchPartialFailures(t *testing.T) {
	ev := manyFindings(t, 25)
	r := newRig(t)
	fb := r.useBatchSNS(4)
	fb.failOnce = map[string]bool{}
	fb.failAlways = map[string]bool{}
	r.h.sleep = func(context.Context, time.Duration) error { return nil }
	// Learn the subjects from a clean run first.
	probe := newRig(t)
	if err := probe.invoke(t, ev); err != nil {
		t.Fatal(err)
	}
	subjects := []string{}
	for _, in := range probe.sns.in {
		subjects = append(subjects, aws.ToString(in.Subject))
	}
	fb.failOnce[subjects[3]] = true
	fb.failOnce[subjects[17]] = true
	fb.failAlways[subjects[20]] = true

	err := r.invoke(t, ev)
	if err == nil {
		t.Fatalf("Invoke = nil; want an error (one entry failed for good, Lambda must retry)")
	}
	count := map[string]int{}
	for _, s := range fb.published {
		count[s]++
	}
	for i, s := range subjects {
		want := 1
		if i == 20 {
			want = 0
		}
		if count[s] != want {
			t.Errorf("subject %d %q published %d times; want %d", i, s, count[s], want)
		}
	}
	if got := r.metric(telemetry.MetricNotificationsFailed, "Kind", "security"); got != 1 {
		t.Errorf("NotificationsFailed{Kind=security} = %v; want 1", got)
	}
	if len(r.claims.claimed) != 24 {
		t.Errorf("claims held = %d; want 24 (the failed entry's claim released)", len(r.claims.claimed))
	}

	// Lambda's retry: the entry now succeeds; nothing else is sent again.
	delete(fb.failAlways, subjects[20])
	if err := r.invoke(t, ev); err != nil {
		t.Fatalf("retried Invoke = %v; want nil", err)
	}
	count = map[string]int{}
	for _, s := range fb.published {
		count[s]++
	}
	for i, s := range subjects {
		if count[s] != 1 {
			t.Errorf("after the retry, subject %d published %d times; want exactly once", i, count[s])
		}
	}
}

// TestFindingsBatchCallFails: a PublishBatch call that fails as a whole
// tells nothing of its entries; every notification of the event is
// counted as failed and its claim released, so the retry sends them.
func TestFindingsBatchCallFails(t *testing.T) {
	ev := manyFindings(t, 12)
	r := newRig(t)
	fb := r.useBatchSNS(4)
	fb.callErr = errors.New("operation error SNS: PublishBatch: InternalError")
	err := r.invoke(t, ev)
	if err == nil || !strings.Contains(err.Error(), "PublishBatch") {
		t.Fatalf("Invoke = %v; want the PublishBatch error", err)
	}
	if got := r.metric(telemetry.MetricNotificationsFailed, "Kind", "security"); got != 12 {
		t.Errorf("NotificationsFailed = %v; want 12", got)
	}
	if len(r.claims.claimed) != 0 {
		t.Errorf("claims held = %d; want 0 (all released for Lambda's retry)", len(r.claims.claimed))
	}
}
