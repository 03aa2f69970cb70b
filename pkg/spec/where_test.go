package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestWhereParses checks that a spec and its checks name accounts and
// regions, and that a check's own role, external id and region override
// the spec's (a check naming its own role does not inherit the spec's
// external id).
func TestWhereParses(t *testing.T) {
	s, err := Parse([]byte(`
roleArn: arn:aws:iam::222222222222:role/postdeploy-verify
externalId: pipeline-42
region: eu-west-1
checks:
  - {name: a, alarms: {prefix: p-}}
  - {name: b, alarms: {prefix: p-}, region: us-east-2}
  - {name: c, alarms: {prefix: p-}, roleArn: "arn:aws:iam::333333333333:role/ops/postdeploy-verify"}
  - {name: d, metric: {namespace: NS, name: M, accountId: "444444444444"}, expect: "value < 1"}
  - {name: e, http: {url: "https://example.com/"}}
`), nil)
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	for i, want := range []Where{
		{RoleARN: "arn:aws:iam::222222222222:role/postdeploy-verify", ExternalID: "pipeline-42", Region: "eu-west-1"},
		{RoleARN: "arn:aws:iam::222222222222:role/postdeploy-verify", ExternalID: "pipeline-42", Region: "us-east-2"},
		{RoleARN: "arn:aws:iam::333333333333:role/ops/postdeploy-verify", Region: "eu-west-1"},
		{RoleARN: "arn:aws:iam::222222222222:role/postdeploy-verify", ExternalID: "pipeline-42", Region: "eu-west-1"},
	} {
		if got := s.Of(i); got != want {
			t.Errorf("Spec.Of(%d) = %+v; want %+v", i, got, want)
		}
	}
	if got := s.Checks[3].Metric.AccountID; got != "444444444444" {
		t.Errorf("checks[3].metric.accountId = %q; want 444444444444", got)
	}
	if got := s.Of(2).Account(); got != "333333333333" {
		t.Errorf("Where.Account() = %q; want 333333333333", got)
	}
}

// TestWhereRefusals checks every bad account or region value is refused
// with its path and the fix. The shapes are AssumeRole's
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html:
// RoleArn, ExternalId 2–1224 of [\w+=,.@:/-]) and GetMetricData's
// MetricDataQuery.AccountId
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
func TestWhereRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, path, msg string
	}{
		{"not a role ARN", `roleArn: "arn:aws:iam::222222222222:user/bob"`, "roleArn", "not an IAM role ARN"},
		{"short account", `roleArn: "arn:aws:iam::2222:role/x"`, "roleArn", "not an IAM role ARN"},
		{"region typo", `region: "eu-west"`, "region", "not an AWS Region code"},
		{"region upper case", `region: "EU-WEST-1"`, "region", "not an AWS Region code"},
		{"external id without role", `externalId: abc`, "externalId", "only used with roleArn"},
		{"external id too short", "roleArn: arn:aws:iam::222222222222:role/x\nexternalId: a", "externalId", "2 to 1224"},
		{"external id bad character", "roleArn: arn:aws:iam::222222222222:role/x\nexternalId: \"a b\"", "externalId", "2 to 1224"},
		{"region outside the role's partition", "roleArn: arn:aws-cn:iam::222222222222:role/x\nregion: eu-west-1", "region", `partition "aws-cn"`},
		{"http check names a role", "checks:\n  - {name: a, http: {url: \"https://example.com/\"}, roleArn: \"arn:aws:iam::222222222222:role/x\"}", "checks[0].roleArn", "call no AWS API"},
		{"headers check names a region", "checks:\n  - {name: a, headers: {url: \"https://example.com/\"}, region: eu-west-1}", "checks[0].region", "call no AWS API"},
		{"check region typo", "checks:\n  - {name: a, alarms: {prefix: p}, region: mars-1}", "checks[0].region", "not an AWS Region code"},
		{"metric account id", "checks:\n  - {name: a, metric: {namespace: N, name: M, accountId: \"12\"}}", "checks[0].metric.accountId", "12 digits"},
		{"compare account id", "checks:\n  - {name: a, compare: {baseline: {namespace: N, name: M, accountId: x}, canary: {namespace: N, name: M}}}", "checks[0].compare.baseline.accountId", "12 digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.yaml
			if !strings.Contains(src, "checks:") {
				src += "\nchecks:\n  - {name: a, alarms: {prefix: p}}"
			}
			_, err := Parse([]byte(src), nil)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse(%q) = %v; want spec.Errors", src, err)
			}
			for _, e := range errs {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("Parse(%q) = %v; want a problem at %s saying %q", src, err, tc.path, tc.msg)
		})
	}
}
