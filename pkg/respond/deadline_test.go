package respond

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func TestWorkContextWithoutDeadline(t *testing.T) {
	work, cancel := workContext(context.Background())
	defer cancel()
	if d, ok := work.Deadline(); ok {
		t.Errorf("workContext(no deadline) has deadline %v; want none", d)
	}
	cancel()
	if err := stoppedNearDeadline(work); err != nil {
		t.Errorf("stoppedNearDeadline(cancelled work) = %v; want nil", err)
	}
}

// A Publish that hangs past the deadline (the fault matrix's "deadline
// mid-event") must fail before Lambda kills the run, release the dedupe
// claim and return an error, so Lambda's retry publishes once.
func TestDeadlineMidPublishReleasesClaimForRetry(t *testing.T) {
	r := newRig(t)
	r.sns.hang = true
	ev := readEvent(t, "respond-inspector-finding.json")

	// 4 s leaves respond a 1 s margin (a quarter of the time left): room
	// for a loaded machine to schedule the release before the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	lambdaDeadline, _ := ctx.Deadline()
	_, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, ev)
	if err == nil {
		t.Fatal("Invoke with Publish hanging past the deadline = nil; want an error so Lambda retries")
	}
	if ctx.Err() != nil {
		t.Errorf("Invoke returned after the Lambda deadline (%v); want it to stop at its margin, before Lambda kills the run", ctx.Err())
	}
	if !r.sns.deadline.Before(lambdaDeadline) {
		t.Errorf("Publish ran under deadline %v; want one before the Lambda deadline %v", r.sns.deadline, lambdaDeadline)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "before the Lambda deadline") {
		t.Errorf("Invoke error = %q; want the Publish deadline error saying respond stopped before the Lambda deadline", err)
	}
	if n := len(r.claims.claimed); n != 0 {
		t.Errorf("after the failed Publish %d dedupe claims are held (%v); want the finding's claim released", n, r.claims.claimed)
	}
	if n := len(r.sns.in); n != 0 {
		t.Fatalf("a hanging Publish recorded %d messages; want 0", n)
	}

	// Lambda's async retry, with SNS answering again.
	r.sns.hang = false
	retry, cancelRetry := context.WithTimeout(context.Background(), time.Minute)
	defer cancelRetry()
	if _, err := lambda.NewHandler(r.h.Handle).Invoke(retry, ev); err != nil {
		t.Fatalf("retry: Invoke error %v; want nil", err)
	}
	if n := len(r.sns.in); n != 1 {
		t.Errorf("retry published %d messages; want 1", n)
	}
	if n := len(r.claims.claimed); n != 1 {
		t.Errorf("after the retry's successful Publish %d claims are held; want 1 (kept, so a redelivery is not notified again)", n)
	}
	// A redelivery after the successful retry is a duplicate.
	if _, err := lambda.NewHandler(r.h.Handle).Invoke(retry, ev); err != nil {
		t.Fatalf("redelivery: Invoke error %v; want nil", err)
	}
	if n := len(r.sns.in); n != 1 {
		t.Errorf("redelivery after a sent notification published again: %d messages; want 1", n)
	}
}
