package main

// Events that are not CodePipeline jobs, through verify's real
// bootstrap: refused with errorType NotAJobError (not the runtime
// decoder's SyntaxError), the refusal logged, and no report made.

import (
	"strings"
	"testing"
)

func TestVerifyRefusesWhatIsNotAJobByName(t *testing.T) {
	requireFunction(t, "verify")
	si, fn := startVerify(t, nil, verifyTimeout)
	for _, payload := range []string{
		`{"CodePipeline.job": [1, 2`,
		`{"Records":[{"eventSource":"aws:sqs","body":"hello"}]}`,
		`{"CodePipeline.job":"j"}`,
		`[]`,
	} {
		res := invokeOnce(t, fn, []byte(payload))
		if res.Err == nil || res.Err.Type != "NotAJobError" || !strings.Contains(res.Err.Message, "not a CodePipeline job") {
			t.Errorf("Invoke(%s) error = %v; want errorType NotAJobError", payload, res.Err)
		}
		if !strings.Contains(string(res.Logs), "refused") {
			t.Errorf("Invoke(%s) logged no refusal:\n%s", payload, res.Logs)
		}
	}
	for _, j := range si.Jobs() {
		if len(j.Reports) > 0 {
			t.Errorf("job %s got %d reports from events that carry no job; want none", j.ID, len(j.Reports))
		}
	}
}
