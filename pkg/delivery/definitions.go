package delivery

import (
	"cmp"
	"slices"
	"time"
)

// Deployment is one execution of a pipeline that reached production: every
// deploy action of its production stage succeeded.
type Deployment struct {
	Pipeline    string
	ExecutionID string
	// Completed is when the last deploy action of the production stage
	// finished (CodePipeline's ActionExecutionDetail.lastUpdateTime).
	Completed time.Time
	// SourceCreated is when the newest source revision of the execution
	// was created (CodePipeline's ArtifactRevision.created); zero when
	// CodePipeline does not say.
	SourceCreated time.Time
	// Rollback marks a CodePipeline rollback execution (executionType
	// ROLLBACK): it restores service; it is not a change.
	Rollback bool
}

// FailureKind is what showed that a deployed change failed.
type FailureKind string

// The failure kinds.
const (
	FailedVerification FailureKind = "verification" // postdeploy verify judged it Failed
	RolledBack         FailureKind = "rollback"     // a rollback execution replaced it
	IncidentStarted    FailureKind = "incident"     // an alarm of its service entered ALARM
)

// Failure is one sign that a production change failed.
type Failure struct {
	Kind     FailureKind
	Pipeline string
	// ExecutionID names the execution when the sign does (a verification
	// runs inside the execution it judges); "" otherwise.
	ExecutionID string
	At          time.Time
}

// Incident is one period of degraded service of a pipeline's service:
// from an alarm entering ALARM (Start) to it returning to OK (End, zero
// while open).
type Incident struct {
	Pipeline   string
	Start, End time.Time
}

// Frequency is deployment frequency: the number of production
// deployments (rollbacks excluded) completed in [from, to).
func Frequency(deps []Deployment, from, to time.Time) int {
	n := 0
	for _, d := range deps {
		if !d.Rollback && !d.Completed.Before(from) && d.Completed.Before(to) {
			n++
		}
	}
	return n
}

// LeadTime is lead time for changes of one deployment: from the creation
// of its newest source revision to its completion. ok is false for a
// rollback, an unknown source time, or a source newer than the deployment.
func LeadTime(d Deployment) (time.Duration, bool) {
	if d.Rollback || d.SourceCreated.IsZero() || d.Completed.Before(d.SourceCreated) {
		return 0, false
	}
	return d.Completed.Sub(d.SourceCreated), true
}

// Attribute returns the index in deps of the deployment that caused f, or
// -1: among the same pipeline's deployments (rollbacks excluded) that
// completed at or before f.At and no longer than window before it, the
// one f names by execution id when it names one, else the latest.
func Attribute(deps []Deployment, f Failure, window time.Duration) int {
	best := -1
	for i, d := range deps {
		if d.Rollback || d.Pipeline != f.Pipeline || d.Completed.After(f.At) || f.At.Sub(d.Completed) > window {
			continue
		}
		if f.ExecutionID != "" {
			if d.ExecutionID == f.ExecutionID {
				return i
			}
			continue
		}
		if best < 0 || later(d, deps[best]) {
			best = i
		}
	}
	return best
}

// later orders deployments by completion, then execution id, so equal
// times still choose one deployment whatever the input order.
func later(a, b Deployment) bool {
	if c := a.Completed.Compare(b.Completed); c != 0 {
		return c > 0
	}
	return a.ExecutionID > b.ExecutionID
}

// ChangeFailureRate is change failure rate over deps: failed is the number
// of deployments (rollbacks excluded) to which at least one failure is
// attributed, total the number of deployments. Each deployment counts
// once however many failures follow it.
func ChangeFailureRate(deps []Deployment, failures []Failure, window time.Duration) (failed, total int) {
	hit := make(map[int]bool)
	for _, f := range failures {
		if i := Attribute(deps, f, window); i >= 0 {
			hit[i] = true
		}
	}
	for _, d := range deps {
		if !d.Rollback {
			total++
		}
	}
	return len(hit), total
}

// IncidentRestore is time to restore service for an incident: End minus
// Start; ok is false while it is open or when End is not after Start.
func IncidentRestore(in Incident) (time.Duration, bool) {
	if in.End.IsZero() || !in.End.After(in.Start) {
		return 0, false
	}
	return in.End.Sub(in.Start), true
}

// RedeployRestore is time to restore service for a failed deployment that
// a later one fixed: from the failure (failedAt) to the completion of the
// first deployment of the same pipeline, rollback or fix, that completed
// after it. It returns that deployment's index, or -1 while none has.
func RedeployRestore(deps []Deployment, failed Deployment, failedAt time.Time) (time.Duration, int) {
	best := -1
	var first Deployment
	for i, d := range deps {
		if d.Pipeline != failed.Pipeline || d.ExecutionID == failed.ExecutionID || !d.Completed.After(failedAt) || !d.Completed.After(failed.Completed) {
			continue
		}
		if best < 0 || later(first, d) {
			best, first = i, d
		}
	}
	if best < 0 {
		return 0, -1
	}
	return first.Completed.Sub(failedAt), best
}

// Outcome is a build's or pipeline execution's result as the success
// rates count it.
type Outcome string

// The outcomes. Excluded results (stopped by a person, superseded by a
// newer execution, still running) are in neither count.
const (
	Succeeded Outcome = "Succeeded"
	Failed    Outcome = "Failed"
	Excluded  Outcome = ""
)

// BuildOutcome maps CodeBuild's build-status: SUCCEEDED succeeded;
// FAILED, FAULT and TIMED_OUT failed; STOPPED and IN_PROGRESS are
// excluded ("Build status" values, CodeBuild API Reference, Build).
func BuildOutcome(status string) Outcome {
	switch status {
	case "SUCCEEDED":
		return Succeeded
	case "FAILED", "FAULT", "TIMED_OUT":
		return Failed
	}
	return Excluded
}

// PipelineOutcome maps CodePipeline's PipelineExecution status: Succeeded
// succeeded, Failed failed; Cancelled, InProgress, Stopped, Stopping and
// Superseded are excluded (GetPipelineExecution, CodePipeline API
// Reference).
func PipelineOutcome(status string) Outcome {
	switch status {
	case "Succeeded":
		return Succeeded
	case "Failed":
		return Failed
	}
	return Excluded
}

// SuccessRate is succeeded over succeeded plus failed, in percent; ok is
// false when there is neither.
func SuccessRate(outcomes []Outcome) (float64, bool) {
	var s, f int
	for _, o := range outcomes {
		switch o {
		case Succeeded:
			s++
		case Failed:
			f++
		}
	}
	if s+f == 0 {
		return 0, false
	}
	return 100 * float64(s) / float64(s+f), true
}

// Keys are the four keys of one pipeline over a period.
type Keys struct {
	Deployments int
	// LeadTime is the median lead time (0 when no deployment has one).
	LeadTime time.Duration
	// Failed of Deployments had a failure attributed; ChangeFailureRate
	// is the percentage (0 with no deployment).
	Failed            int
	ChangeFailureRate float64
	// TimeToRestore is the median restore time over closed incidents and
	// fixed failed deployments (0 when none).
	TimeToRestore time.Duration
	Restores      int
}

// Summarize computes the four keys over the deployments completed in
// [from, to), the failures attributed to them, and the restores: closed
// incidents and failed deployments fixed by a later one. An incident-
// caused failure is restored by its incident closing, so it is not
// counted again as fixed by a redeploy.
func Summarize(deps []Deployment, failures []Failure, incidents []Incident, from, to time.Time, window time.Duration) Keys {
	var in []Deployment
	for _, d := range deps {
		if !d.Completed.Before(from) && d.Completed.Before(to) {
			in = append(in, d)
		}
	}
	k := Keys{Deployments: Frequency(in, from, to)}
	var leads []time.Duration
	for _, d := range in {
		if lt, ok := LeadTime(d); ok {
			leads = append(leads, lt)
		}
	}
	k.LeadTime = median(leads)
	k.Failed, _ = ChangeFailureRate(in, failures, window)
	if k.Deployments > 0 {
		k.ChangeFailureRate = 100 * float64(k.Failed) / float64(k.Deployments)
	}
	var restores []time.Duration
	for _, inc := range incidents {
		if r, ok := IncidentRestore(inc); ok && !inc.Start.Before(from) && inc.Start.Before(to) {
			restores = append(restores, r)
		}
	}
	first := map[int]Failure{}
	for _, f := range failures {
		i := Attribute(in, f, window)
		if i < 0 {
			continue
		}
		if prev, ok := first[i]; !ok || f.At.Before(prev.At) {
			first[i] = f
		}
	}
	for i, f := range first {
		if f.Kind == IncidentStarted {
			continue
		}
		if r, j := RedeployRestore(deps, in[i], f.At); j >= 0 {
			restores = append(restores, r)
		}
	}
	k.TimeToRestore, k.Restores = median(restores), len(restores)
	return k
}

// median of ds; for an even count the mean of the middle two.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.SortFunc(s, func(a, b time.Duration) int { return cmp.Compare(a, b) })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
