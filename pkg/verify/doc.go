// Package verify is the verify function's handler. It speaks the
// CodePipeline job protocol for the verify action: decode the job, load the spec (inline UserParameters, an SSM
// parameter, or a file in the input artifact), sample the checks over the
// bake window, hand over with a continuation token when the function's
// deadline nears, and report exactly once — whatever a check, AWS or the
// clock does.
//
// UserParameters is a JSON object with exactly one spec source:
//
//	{"spec": {...}}                                  inline (CodePipeline caps UserParameters at 1,000 characters)
//	{"ssmParameter": "/postdeploy/api/verify"}       an SSM parameter (String or SecureString)
//	{"artifactFile": "deploy/verify.yaml", "artifact": "BuildOutput"}   a file in an input artifact
//
// and optionally "variables": {"IMAGE_DIGEST": "#{Build.IMAGE_DIGEST}"},
// which CodePipeline resolves and the spec refers to as #{IMAGE_DIGEST}.
//
// The job event carries temporary artifact credentials: it is never
// logged, and the credentials are used only to read the artifact.
//
// Promises, and where they are kept:
//   - every invocation ends in exactly one report before its deadline:
//     work stops at the cutoff (bake.go: window), late checks are
//     abandoned, the report's retries stop when another could not finish
//     (report.go), and a function that cannot be configured fails its
//     jobs instead of exiting (unconfigured.go, initerror.go);
//   - continuation tokens are signed with a key from Secrets Manager and
//     checked for sane values (token.go, tokenkey.go);
//   - UserParameters are strict: no key twice, exact case (params.go);
//   - no secret leaves the function (secrets.go);
//   - what is not a CodePipeline job is refused by name (event.go), and
//     Lambda sees named error types (errors.go).
//
// Local (local.go) runs a whole bake in one process, for the postdeploy
// command line tool, on the same schedule, tallies, fail-fast rule and
// messages as the function.
//
// The same function answers CodeDeploy lifecycle hooks of ECS and Lambda
// deployments ({"DeploymentId", "LifecycleEventHookExecutionId"}) with the
// same engine: HookVerifier (hook.go, and hookroute, hookresolve,
// hookspec, hookclaim, hookhandover, hookreport) reads the hook from
// CodeDeploy and the group's hook spec from SSM, bakes, and reports
// PutLifecycleEventHookExecutionStatus once per hook execution.
package verify
