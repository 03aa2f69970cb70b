// Package stack is the postdeploy CDK stack: the three functions (verify,
// remediate, respond) built the same way by one helper, the SNS topics per
// alert kind, the EventBridge rules that feed respond, the DynamoDB state
// table, least-privilege IAM per function, the alarms that watch the suite
// itself and the "Post-Deploy Verification" dashboard.
//
// New builds the stack from Props; PropsFromContext reads Props from the
// CDK context (cdk.json or `cdk synth -c key=value`); Check adds the
// cdk-nag AwsSolutions checks, so `cdk synth` and the tests run the same
// rules.
package stack
