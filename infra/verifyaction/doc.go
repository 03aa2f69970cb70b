// Package verifyaction returns the CodePipeline action that runs
// postdeploy's verify function after a deploy stage: a Lambda invoke
// action whose UserParameters say where the verification spec is (inline,
// an SSM parameter, or a file in the action's input artifact).
package verifyaction
