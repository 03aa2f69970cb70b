// Package verdict defines the four outcomes of a check — Succeeded, Failed,
// Inconclusive and Error — the evidence that goes with each, and how the
// samples of one check, and then all checks, combine into one verdict.
//
// Failed means the deployment is bad: there is evidence. Error means the
// check itself could not run (AWS throttled, the probe could not connect).
// Inconclusive means it ran but there was not enough to judge (no data,
// too few samples). Keeping these apart is what lets a pipeline fail a bad
// release without also failing every release on a flaky dependency.
package verdict
