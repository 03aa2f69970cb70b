// Command demo runs postdeploy end to end on this machine, with no AWS
// account, no docker and no network: `make demo`.
//
// It builds each function under functions/ for this host, runs the real
// bootstrap binaries under a local implementation of the Lambda Runtime
// API (pkg/lambdarun), and points their AWS SDK clients — through the
// SDK's standard AWS_ENDPOINT_URL — at a local AWS stand-in (pkg/standin)
// and dynalite (a real DynamoDB implementation). A small sample service on
// 127.0.0.1 plays the application being deployed: a healthy version and a
// broken one.
//
// It then plays scenarios (scenarios.go) through the binaries, as
// CodePipeline, SNS and EventBridge would deliver them, and prints a
// table: scenario, expected outcome, actual outcome, invocations, AWS
// calls and time, followed by the messages a person would read (the
// failure verify wrote for CodePipeline). It exits 1 when any scenario's
// outcome is not the expected one.
//
//	go run ./pkg/devtools/demo             play every scenario
//	go run ./pkg/devtools/demo -v          … streaming every function's logs
//	go run ./pkg/devtools/demo -run broken play the scenarios whose name matches
//
// The invoke subcommand replays one event file against one function and
// prints its result, the AWS calls it made and its logs (`make invoke`):
//
//	go run ./pkg/devtools/demo invoke -fn verify -event events/verify-inline.json [-follow]
//
// The stand-in's AWS state for each scenario comes from the files in
// pkg/devtools/demo/scenarios (see pkg/standin's Scenario for the format).
package main
