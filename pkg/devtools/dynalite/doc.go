// Package dynalite starts dynalite — a real implementation of the
// DynamoDB API on LevelDB/memdown, installed from npm into node_modules by
// `make node` — on a free loopback port, so tests and `make demo` exercise
// conditional writes, atomic counters and queries against DynamoDB's own
// semantics rather than a hand-written fake.
//
// Tests that share one server per package start it from TestMain with
// StartShared and fetch it per test with (*Shared).Server, which skips
// the test when dynalite is not installed on a developer's machine
// ("dynalite not installed: run make node") and fails it under CI
// (CI set), where a missing tool is a broken build, not a reason to skip.
package dynalite
