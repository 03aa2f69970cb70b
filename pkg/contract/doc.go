// Package contract holds the event shapes the suite's functions and its
// CDK stack share, in aws-lambda-go's style: the Source and DetailType
// constants beside one documented detail struct, declared once here and
// imported by every producer and consumer.
//
//   - VerificationCompleted: the "Post-Deploy Verification Completed"
//     event verify publishes and respond acts on.
//   - Alarm: a CloudWatch alarm state change, decoded from the SNS
//     notification CloudWatch publishes (DecodeSNSMessage, AlarmFromSNS)
//     or from the EventBridge "CloudWatch Alarm State Change" event
//     (AlarmFromEventBridge, AlarmStateChangeDetail).
package contract
