package remediate

import (
	"context"
	"errors"
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

// verify waits, within the rule's verify timeout and ctx (which ends
// the margin before the invocation's deadline), for the action to take
// and the alarm to return to OK. cut says ctx ended first.
func (e *Engine) verify(ctx context.Context, a Alarm, r *Rule, v Verifier, t Target, c Call, res Result) (done bool, observed, alarmState string, cut bool) {
	deadline := e.Now().Add(e.Policy.verifyTimeout(r))
	interval := e.Policy.verifyInterval(r)
	var actionDone bool
	observed, alarmState = "not checked", a.NewState
	for {
		if !actionDone {
			done, obs, err := v.Verify(ctx, t, c, res)
			switch {
			case errors.Is(err, ErrFailed):
				return false, obs, alarmState, false
			case err != nil:
				observed = "could not check: " + err.Error()
			default:
				actionDone, observed = done, obs
			}
		}
		if actionDone {
			st, err := e.alarmState(ctx, a.Name)
			if err != nil {
				e.Log.WarnContext(ctx, "could not read alarm state", "alarm", a.Name, "error", err)
			} else {
				alarmState = st
			}
			if alarmState == contract.StateOK {
				return true, observed, alarmState, false
			}
		}
		if ctx.Err() != nil {
			return false, observed, alarmState, true
		}
		left := deadline.Sub(e.Now())
		if left <= 0 {
			if !actionDone {
				observed = "after waiting, the action had still not taken: " + observed
			}
			return false, observed, alarmState, false
		}
		if err := e.Sleep(ctx, min(interval, left)); err != nil || ctx.Err() != nil {
			return false, observed, alarmState, true
		}
	}
}

func (e *Engine) alarmState(ctx context.Context, name string) (string, error) {
	found, err := e.describeAlarms(ctx, []string{name})
	if err != nil {
		return "", fmt.Errorf("describe alarm %s: %w", name, err)
	}
	def, ok := found[name]
	if !ok {
		return "", fmt.Errorf("describe alarm %s: not found", name)
	}
	return def.state, nil
}
