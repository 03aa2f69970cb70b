// Command benchreport measures what a platform team asks of postdeploy
// before adopting it — how fast each function starts, how big it ships,
// how much memory it needs under a heavy load, how many AWS calls a
// sample costs — and writes the figures, their targets and the commands
// that reproduce them to BENCHMARKS.md (`make bench`).
//
// Every figure comes from the real bootstrap binaries:
//
//   - Cold start: each function, built for this host (lambdarun.Build),
//     is started under the Lambda Runtime API harness (pkg/lambdarun) and
//     handed one trivial event, -runs times; the figure is the harness's
//     Init Duration + Duration (process start to first response, so AWS
//     config loading and client construction are in it). A bare
//     aws-lambda-go bootstrap (pkg/devtools/lambdarun/testdata/fn) is measured
//     the same way as the floor the machine and harness impose. One more
//     start with GODEBUG=inittrace=1 names the package initialisers that
//     cost the most.
//   - Deployment package size: dist/<fn>/bootstrap (make build:
//     linux/arm64, -s -w) zipped with deflate; the symbol sizes of the
//     unstripped host build, summed per module, say what dominates.
//   - Peak RSS: verify sampling the heaviest legal spec (50 checks, the
//     spec's limit: 37 HTTP probes of a local server, 250 alarms, 500
//     metric queries) against the AWS stand-in (pkg/standin), and respond
//     triaging 10,000 Security Hub findings (100 events of 100 findings)
//     against the stand-in and dynalite. The figure is the child's VmHWM
//     from /proc (Linux only), read while it is still running.
//   - What switches off the linker's method dead-code elimination in each
//     function (go build -ldflags=-dumpdep), the usual cause of an
//     oversized Go binary that links AWS SDK clients.
//   - Fan-out: the AWS calls each heavy sample made, from the stand-in's
//     call record, and the in-process figures (ms/sample, calls/op,
//     findings/s) parsed from `go test -bench` output given with -bench.
//
// Usage:
//
//	go run ./pkg/devtools/benchreport [-bench bench.txt] [-runs 15] [-findings 10000] [-out BENCHMARKS.md]
//
// The machine's load is recorded beside the figures: on a shared machine
// medians and ratios to the floor mean more than any one time.
package main
