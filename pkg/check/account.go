package check

// AccountID returns a metric query's AccountId for a spec MetricStat's
// accountId: nil (this account) when empty. With CloudWatch cross-account
// observability a monitoring account reads a linked source account's
// metric by naming it in MetricDataQuery.AccountId
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html:
// "The ID of the account where the metrics are located. If you are
// performing a GetMetricData operation in a monitoring account, use this to
// specify which account to retrieve this metric from").
func AccountID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}
