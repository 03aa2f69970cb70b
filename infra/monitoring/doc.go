// Package monitoring holds the constructs a team reuses for every service
// it runs: the alarm set (high CPU, HTTP 5xx error rate, low free disk and
// anomalous sign-ins, each routed to the SNS topic of its alert kind) and
// the "System Health Overview" and "Application Performance" dashboards.
//
// The thresholds are the team's standard (CPU above 80% for 5 minutes,
// 5xx rate above 5% for 5 minutes, free disk below 20% for 30 minutes, a
// 2-standard-deviation anomaly band for 15 minutes) and are exported as
// constants so tests and runbooks quote the same numbers.
package monitoring
