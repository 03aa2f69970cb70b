// Package telemetry is how the functions tell the world what they did:
// JSON logs through log/slog over aws-lambda-go's lambdacontext handler
// (request id on every line), CloudWatch Embedded Metric Format metrics
// written to stdout, and the suite's own EventBridge events.
package telemetry
