package respond

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postdeploy/postdeploy/pkg/deadline"
)

// The work of an invocation (the dedupe claims, the look-ups, the
// remediation hand-off, the SNS Publish) runs under a context that ends a
// margin before the Lambda deadline. A call still hanging then fails in
// time for respond to release the dedupe claim it took and return the
// error, so Lambda's async retry notifies. Killed at the deadline instead,
// the invocation would keep the claim and the retry would drop the event
// as "already notified".
//
// The margin follows pkg/deadline (a quarter of the time left), capped at
// two seconds: a 3 s function stops its work at 2.25 s and keeps 750 ms
// for the release (one DynamoDB DeleteItem, tens of milliseconds), while a
// long timeout does not give up more than the 2 s the release needs.
const maxDeadlineMargin = 2 * time.Second

// nearDeadline is the cause of a work context that ended at its margin.
type nearDeadline struct{ margin time.Duration }

func (n nearDeadline) Error() string {
	return fmt.Sprintf("respond stopped its AWS calls %s before the Lambda deadline so the dedupe claim is released and Lambda's retry notifies; if this repeats, raise the function timeout or find why the calls are slow", n.margin.Round(time.Millisecond))
}

// workContext returns the context the event's work runs under: ctx
// ending its margin before ctx's deadline, with nearDeadline as its
// cause. Without a deadline (tests, local runs) the work is bounded by
// ctx alone.
func workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return deadline.WithCutoff(ctx, time.Now(), maxDeadlineMargin, func(m time.Duration) error { return nearDeadline{margin: m} })
}

// stoppedNearDeadline returns the nearDeadline cause when work ended at
// its margin, else nil.
func stoppedNearDeadline(work context.Context) error {
	var nd nearDeadline
	if cause := context.Cause(work); errors.As(cause, &nd) {
		return nd
	}
	return nil
}
