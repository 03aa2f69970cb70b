// Package compare is the compare check kind: it tests a canary series
// against a baseline series of CloudWatch data statistically, so a real
// regression below a fixed alarm threshold, or on a low-traffic
// deployment, still fails the verification.
//
// # What a check reads
//
// Each check names two series (spec.Series): a CloudWatch metric with its
// dimensions and statistic — a Lambda alias against its previous version,
// two ECS task sets, two target groups, or the same metric before and
// after the deployment (baseline.beforeBake) or a day earlier
// (baseline.offset: 24h). Every sample reads both series of every compare
// check of the spec in one GetMetricData call (following NextToken), with
// query ids "b<i>" and "c<i>" for checks[i]. The call spans the union of
// the checks' windows; each series keeps only the points whose whole
// period lies in its own window.
//
// The canary window ends at the start of the current period, so only
// complete periods are read. It covers the bake so far (from the first
// complete period after check.Sample.BakeStart), or the last
// compare.window of it when that is shorter: a canary never counts data
// from before the deployment as its own. The baseline window has the
// same length and ends at the same time, unless beforeBake moves its end
// to the bake's start (floored to a period boundary, so no canary data
// leaks in); offset then shifts a series further back. A decrease can be
// at most −100% for a metric that is never negative, so a tolerance of
// 100% or more never fails a decrease.
//
// # How a sample is judged
//
//  1. NaN, ±Inf and values outside CloudWatch's range (±2^360) are
//     dropped.
//  2. Fewer usable points than minSamples (default 10) on either side:
//     the check's noData policy, Inconclusive by default, with both
//     counts and, for an empty series, the window it was read over.
//  3. Outliers are removed from each side separately with Tukey's fences
//     (1.5×IQR beyond the quartiles). A side with an IQR of 0, such as
//     an error count that is mostly 0, keeps all its points, so its rare
//     non-zero values are not discarded. The counts removed are reported:
//     a regression confined to a few periods shows there rather than in
//     the test, the price of not failing a deployment on one noisy minute.
//  4. The Mann-Whitney U test (github.com/aclements/go-moremath/stats:
//     exact distribution for small samples, normal approximation with
//     tie and continuity corrections beyond) gives the p-value,
//     one-sided in the bad direction (increase, decrease), two-sided for
//     either. Two sides of one repeated value give p = 1.
//  5. The effect size is the relative change of the medians,
//     (canary−baseline)/|baseline|, or of the means when the baseline
//     median is 0 (sparse series). A baseline of 0 against a canary that
//     is not 0 is an unbounded change: it exceeds any tolerance, and the
//     message says the baseline is zero rather than printing a division
//     by zero.
//  6. The sample fails only when all three hold: the change is in the
//     bad direction, it is significant (p < 1−confidence), and it is
//     larger than the tolerance. Otherwise it succeeds, and the message
//     says which condition was not met.
//
// A GetMetricData error, or a query answered Forbidden or InternalError,
// gives every compare check of the sample an Error result naming the
// call. Criticality (spec.Check.Critical) is the suite's concern: this
// package returns each check's verdict only.
//
// Each result carries Target ("p95 AWS/Lambda Duration: canary (…) vs
// baseline (…)"), Observed (medians, relative change, p-value, U, counts,
// outliers removed, and what to do), Expected ("no increase above 20% at
// 95% confidence …") and Values: baseline_median, canary_median,
// baseline_mean, canary_mean, change_pct (left out when unbounded),
// p_value, n_baseline, n_canary, outliers_baseline, outliers_canary.
package compare
