// Package vuln closes the loop of vulnerability management behind
// respond's triage: identification → triage → prioritisation (a ticket
// per finding at or above a priority, an AWS Systems Manager OpsCenter
// OpsItem) → remediation → verification (the finding resolved when AWS
// says so, its time to remediate measured against its SLA) → reporting
// (a daily SLA check, a weekly status report, digests that spare people
// one message per resource).
//
// The state table is the vulnerability management log: one Record per
// finding (pk "vuln", sk "finding#<Key>"), digest records (pk
// "digest#…", sk "digest") and claims (SLA-breach alerts per day,
// digests sent). Every decision that mutates the outside world — open a
// ticket, update it, close it, send a breach alert or a digest — is won
// by exactly one caller through a conditional write, so duplicate and
// concurrent deliveries make one call.
package vuln
