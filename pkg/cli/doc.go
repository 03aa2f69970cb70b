// Package cli is the postdeploy command line tool: the verification spec
// and engine of the verify function, run from a laptop, CodeBuild or any
// CI.
//
//	postdeploy lint [--format text|json] [--var NAME=VALUE]... SPEC...
//	postdeploy run [--var NAME=VALUE]... [--junit FILE] SPEC
//	postdeploy schema
//
// lint validates strictly, as verify does when it loads a spec, and
// reports every problem with its file, line, column and field path. run
// samples the spec's checks over its bake with the caller's AWS
// credentials and region (the SDK's default chain, AWS_ENDPOINT_URL
// included), prints a line per sample, then the message verify would
// send. schema prints the spec's JSON Schema. Nothing here implements a
// check: pkg/spec parses, pkg/check/registry builds the checks,
// verify.Local bakes them and writes the message.
//
// Exit status: 0 the spec is clean (lint) or the verification passed
// (run); 1 lint found problems, or the verification Failed; 2 a usage or
// spec error; 3 the verification ended Inconclusive or in Error (and
// limits.inconclusive is not pass), was interrupted, or could not start
// (no AWS credentials or region).
package cli
