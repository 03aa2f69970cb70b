// Package lambdarun runs a Lambda function's real bootstrap binary on this
// machine, under a local implementation of the AWS Lambda Runtime API, and
// invokes it the way the Lambda service does.
//
// The Runtime API is the small HTTP interface a custom runtime (and so
// every Go function built with aws-lambda-go and -tags lambda.norpc) talks
// to inside Lambda (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
//
//	GET  /2018-06-01/runtime/invocation/next           the next event, with headers
//	     Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms,
//	     Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id
//	POST /2018-06-01/runtime/invocation/{id}/response  the function's result
//	POST /2018-06-01/runtime/invocation/{id}/error     the function's error
//	POST /2018-06-01/runtime/init/error                a failure before the first next
//
// Start listens on a loopback port; the first Invoke starts the bootstrap
// (a cold start) with AWS_LAMBDA_RUNTIME_API pointing at that port and
// the environment Lambda gives a function (AWS_LAMBDA_FUNCTION_NAME,
// AWS_REGION, AWS_LAMBDA_LOG_FORMAT, …) plus Config.Env — and nothing
// from the caller's environment, so no real credentials ever reach it.
// Each Invoke hands one event to the process and waits for its answer.
//
// It behaves as Lambda does where a function can tell the difference:
// one invocation at a time; the deadline header is the hand-out time plus
// Config.Timeout; an invocation still running at its deadline is a
// "Sandbox.Timedout" error and the process is killed, so the next Invoke
// is a cold start; a process that exits mid-invocation (a panic, os.Exit)
// is a "Runtime.ExitError" and is restarted on the next Invoke; a
// response larger than 6 MB is refused. Function errors are part of the
// Result, not Invoke's error, which is kept for the harness itself failing
// (the binary cannot start, ctx ends).
//
// Not implemented: the Extensions and Telemetry APIs (a function built
// with lambda.WithEnableSIGTERM logs that it could not register its
// extension and runs on), response streaming, and concurrent invocations
// of one execution environment (AWS_LAMBDA_MAX_CONCURRENCY). Start two
// Functions for two environments.
//
// The function's stdout and stderr — its logs — are copied to Config.Logs
// as they are written and kept per invocation in Result.Logs, framed by
// the START / END / REPORT lines Lambda writes.
//
// Build compiles function packages into bootstrap binaries for this host
// (CGO off, -tags lambda.norpc), the way `make build` does for Lambda.
package lambdarun
