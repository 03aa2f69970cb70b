// Package check defines what a check kind provides — a Sampler that takes
// one sample of every check of its kind — and runs the samplers of a spec
// side by side, turning a panic in one into that check's Error.
//
// Each kind lives in its own sub-package (http, alarms, metrics, compare,
// headers, imagescan); package registry maps spec kind names to their
// factories. A kind gets all of a spec's checks of its kind at once so it
// can batch its API calls across them (one GetMetricData for every metric
// check of a sample, DescribeAlarms 100 names at a time).
package check
