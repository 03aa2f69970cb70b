// Package deptest holds a test, and no code, that keeps the local
// development tooling under pkg/devtools (the AWS stand-in, the Lambda
// Runtime API harness, dynalite, the demo, the benchmark report, the
// golden-file helper) out of what ships: it lists the non-test
// dependencies of ./functions/..., ./infra/... and ./pkg/cmd/... (the
// postdeploy CLI) with `go list -deps`,
// for the host and for the linux/arm64 lambda.norpc build `make build`
// makes, and fails naming each pkg/devtools package found there and the
// packages that import it.
//
// Tests anywhere may import pkg/devtools; production code may not. The
// depguard rule "devtools" in .golangci.yml says the same per import, at
// lint time.
package deptest
