// Package runbook writes the Monitoring Runbook (infra/monitoring/MONITORING.md)
// from the stack's own definitions, so it cannot drift from what is
// deployed:
//
//   - every AWS::CloudWatch::Dashboard of the synthesized template, its
//     purpose (its heading text widget) and each widget, read from its
//     DashboardBody;
//   - every AWS::CloudWatch::Alarm: metric or expression, statistic,
//     threshold, periods, missing-data treatment and the topics it
//     notifies;
//   - each alert type's meaning, first diagnostic steps, escalation and
//     remediation, from pkg/notify's Runbooks (the texts the functions put
//     in their messages);
//   - each rule of the shipped remediation policy
//     (functions/remediate/policy.yaml).
//
// `make runbook` writes the document (cmd/runbook); TestRunbookIsCurrent
// fails when the committed document differs from what it writes.
package runbook
