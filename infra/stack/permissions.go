package stack

// remediationActions are the IAM actions remediate's actions need.
//
// PROVISIONAL: a list kept here, in one place, until pkg/remediate
// exposes the union of its action registry's declared permissions; then
// this returns that union and nothing else changes.
func remediationActions() []string {
	return []string{
		"cloudwatch:DescribeAlarms",
		"ec2:DescribeInstances", "ec2:RebootInstances",
		"ecs:DescribeServices", "ecs:UpdateService",
		"autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity",
		"lambda:GetFunctionConfiguration", "lambda:PutFunctionConcurrency",
	}
}
