// Package delivery measures software delivery performance: the four DORA
// keys (deployment frequency, lead time for changes, change failure rate,
// time to restore service) and the build and pipeline success rates,
// from facts respond records as AWS reports them.
//
// definitions.go holds each metric's definition as a pure function over
// recorded facts (Deployment, Failure, Incident, Outcome); the README's
// "Delivery performance (DORA)" section states the same definitions in
// words. recorder.go keeps the facts in the suite's state table with
// conditional writes keyed by each event's own identity, so a duplicated,
// late or out-of-order event is counted once, and emits the metrics
// (metrics.go) as CloudWatch Embedded Metric Format records, per
// pipeline (the service) or CodeBuild project.
package delivery
