package verdict

// Limits say how many bad samples a check may see before its verdict is
// decided, as Argo Rollouts' analysis does.
type Limits struct {
	// FailureLimit is how many Failed samples a check may have and still
	// pass. 0 (the default) means the first Failed sample fails the check.
	FailureLimit int
	// ConsecutiveErrorLimit is how many Error samples in a row a check may
	// have before it ends in Error.
	ConsecutiveErrorLimit int
}

// Tally counts the sample verdicts of one check across the bake. Its
// fields are what the continuation token carries between invocations.
type Tally struct {
	Succeeded         int `json:"s,omitempty"`
	Failed            int `json:"f,omitempty"`
	Inconclusive      int `json:"i,omitempty"`
	Errors            int `json:"e,omitempty"`
	ConsecutiveErrors int `json:"c,omitempty"`
}

// Add counts one sample's verdict.
func (t *Tally) Add(v Verdict) {
	switch v {
	case Succeeded:
		t.Succeeded++
		t.ConsecutiveErrors = 0
	case Failed:
		t.Failed++
		t.ConsecutiveErrors = 0
	case Inconclusive:
		t.Inconclusive++
		t.ConsecutiveErrors = 0
	default: // Error, and any invalid value: never count it as a pass.
		t.Errors++
		t.ConsecutiveErrors++
	}
}

// Samples is the number of samples counted.
func (t Tally) Samples() int {
	return t.Succeeded + t.Failed + t.Inconclusive + t.Errors
}

// Decided reports whether the check's verdict is already settled before
// the bake ends: more failures than the limit allows (Failed), or more
// errors in a row than the limit allows (Error).
func (t Tally) Decided(l Limits) (Verdict, bool) {
	if t.Failed > l.FailureLimit {
		return Failed, true
	}
	if t.ConsecutiveErrors > l.ConsecutiveErrorLimit {
		return Error, true
	}
	return 0, false
}

// Final is the check's verdict at the end of the bake:
//   - Failed when failures exceed the limit;
//   - Error when errors in a row exceed the limit, or every sample errored;
//   - Inconclusive when no sample succeeded (no data, too few points);
//   - Succeeded otherwise.
func (t Tally) Final(l Limits) Verdict {
	if v, ok := t.Decided(l); ok {
		return v
	}
	if t.Samples() == 0 {
		return Inconclusive
	}
	if t.Errors == t.Samples() {
		return Error
	}
	if t.Succeeded == 0 {
		return Inconclusive
	}
	return Succeeded
}
