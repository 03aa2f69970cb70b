// Package spec is the verification spec a user writes: what to check
// after a deployment, for how long, and how strict to be.
//
// Parse reads YAML or JSON strictly and reports every problem at once,
// each with its path (checks[2].http.url: must be https or http), so a
// broken spec is fixed in one round rather than one error per pipeline
// run. Strings may refer to pipeline variables as #{NAME}.
package spec
