// Package alarms is the "alarms" check kind: a sample fails when a
// selected CloudWatch alarm — metric or composite — is in ALARM.
//
// # Spec
//
//	checks:
//	  - name: no-new-alarms
//	    alarms:
//	      names: [prod-api-5xx, prod-api-latency]  # exact alarm names
//	      prefix: "prod-api-"                      # every alarm whose name starts with this
//	      ignorePreexisting: true                  # alarms already in ALARM when the bake started don't fail
//
// Set names, prefix, or both (the check watches the union). Names are
// case-sensitive and at most 255 characters. The check takes no expect,
// noData or minSamples.
//
// # Verdicts
//
//   - Failed: a selected alarm is in ALARM (with ignorePreexisting, one that
//     entered ALARM at or after the bake started). The evidence names each
//     such alarm, whether it is a metric or composite alarm, since when it
//     has been in ALARM and its state reason, up to five, then "…and N more".
//   - Error: a DescribeAlarms call failed (throttling, a 5xx, a missing
//     cloudwatch:DescribeAlarms permission) and nothing read so far shows a
//     new alarm. The error text is in the evidence.
//   - Inconclusive: a named alarm does not exist, or the prefix matches no
//     alarm. A typo must not pass silently, but it is not evidence against
//     the release either; with the default limits.inconclusive "fail" the
//     verification fails at the end of the bake with the missing names in
//     the message.
//   - Succeeded: every selected alarm exists and none is newly in ALARM.
//     Alarms in INSUFFICIENT_DATA do not fail the check; the evidence counts
//     them.
//
// Every result carries Values: alarms (how many were read), in_alarm (newly
// in ALARM), preexisting (in ALARM since before the bake, ignored) and
// missing (named alarms that do not exist).
//
// # ignorePreexisting
//
// The continuation token that carries a bake across Lambda runs has no
// room for a list of alarm names, so the baseline is not remembered: it is
// recomputed every sample from the alarm itself. An alarm in ALARM whose
// StateTransitionedTimestamp (or, when CloudWatch returns none,
// StateUpdatedTimestamp) is before the bake start (check.Sample.BakeStart)
// was already firing when the deployment began: it is reported in the
// evidence as ignored and does not fail the check. An alarm that entered
// ALARM at or after the bake start — including a pre-existing one that
// recovered and fired again during the bake — fails it. When neither
// timestamp is known, or the bake start is unknown, the alarm counts as
// new: the check errs on the side of failing. StateUpdatedTimestamp also
// moves on updates that are not transitions, so the fallback can only make
// a pre-existing alarm look new, never the reverse.
//
// # Cost
//
// One sample answers every alarms check of the spec together. Names are
// deduplicated across checks, names that a queried prefix already covers
// are dropped, prefixes covered by a shorter queried prefix are dropped;
// then names go 100 to a DescribeAlarms call and each prefix gets its own
// call (the API cannot combine the two), each paginated 100 alarms a page
// with AlarmTypes MetricAlarm and CompositeAlarm. 150 names plus a prefix
// matching 100 alarms cost 3 calls a sample. The function needs
// cloudwatch:DescribeAlarms.
package alarms
