package spec

import (
	"regexp"
	"strings"
)

// The shapes AWS documents for the values a Where carries.
var (
	// roleARNPattern is an IAM role ARN: arn:<partition>:iam::<12-digit
	// account>:role/<optional path/><name>. Role names are at most 64 of
	// [\w+=,.@-] (IAM CreateRole, RoleName); AssumeRole takes RoleArn of
	// 20–2048 characters
	// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
	roleARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):iam::(\d{12}):role/(/?[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	// externalIDPattern is AssumeRole's ExternalId: 2–1224 characters of
	// [\w+=,.@:/-] (API_AssumeRole, "ExternalId").
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	// regionPattern is an AWS Region code: us-east-1, eu-central-2,
	// us-gov-west-1, cn-north-1, ap-southeast-7.
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	// accountPattern is a 12-digit AWS account id.
	accountPattern = regexp.MustCompile(`^\d{12}$`)
)

// Account returns the account id a valid RoleARN names, or "".
func (w Where) Account() string {
	m := roleARNPattern.FindStringSubmatch(w.RoleARN)
	if m == nil {
		return ""
	}
	return m[2]
}

// validate reports the problems of a Where at path p ("" for the spec's).
func (w Where) validate(p string) Errors {
	var errs Errors
	if w.RoleARN != "" {
		m := roleARNPattern.FindStringSubmatch(w.RoleARN)
		switch {
		case len(w.RoleARN) > 2048 || m == nil:
			errs.Add(Field(p, "roleArn"), "%q is not an IAM role ARN: want arn:aws:iam::<12-digit account id>:role/<name>, e.g. arn:aws:iam::222222222222:role/postdeploy-verify", w.RoleARN)
		case w.Region != "" && partitionOf(w.Region) != m[1]:
			errs.Add(Field(p, "region"), "%q is not in the role's partition %q (%s): name a region of that partition or a role of the region's", w.Region, m[1], w.RoleARN)
		}
	}
	if w.ExternalID != "" {
		switch {
		case w.RoleARN == "":
			errs.Add(Field(p, "externalId"), "is only used with roleArn (AssumeRole passes it to the role's trust policy): set roleArn or remove externalId")
		case len(w.ExternalID) < 2 || len(w.ExternalID) > 1224 || !externalIDPattern.MatchString(w.ExternalID):
			errs.Add(Field(p, "externalId"), "must be 2 to 1224 letters, digits or any of _+=,.@:/- (AssumeRole's ExternalId), got %d characters", len(w.ExternalID))
		}
	}
	if w.Region != "" && !regionPattern.MatchString(w.Region) {
		errs.Add(Field(p, "region"), "%q is not an AWS Region code: want one such as eu-west-1 or us-east-1", w.Region)
	}
	return errs
}

// partitionOf returns the partition a well-formed region code belongs to.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// validateWhere reports the problems of the spec's Where and of check c's
// at path p: a check that calls no AWS API (http, headers) must not name
// one.
func (c Check) validateWhere(p string) Errors {
	errs := c.Where.validate(p)
	if (c.HTTP != nil || c.Headers != nil) && !c.Where.IsZero() {
		field := "roleArn"
		if c.RoleARN == "" {
			field = "region"
			if c.Region == "" {
				field = "externalId"
			}
		}
		errs.Add(Field(p, field), "%s checks probe a URL and call no AWS API: remove roleArn, externalId and region from this check", c.Kind())
	}
	return errs
}

// validateAccountID reports a MetricStat's accountId that is not an account
// id.
func validateAccountID(errs *Errors, path, id string) {
	if id != "" && !accountPattern.MatchString(id) {
		errs.Add(Field(path, "accountId"), "%q is not an AWS account id (12 digits): name a source account linked to this monitoring account", id)
	}
}

// CallsAWS reports whether the check's kind calls an AWS API, and so looks
// where its Where says: alarms, metric, compare and imageScan do; http and
// headers probe a URL.
func (c Check) CallsAWS() bool {
	return c.Alarms != nil || c.Metric != nil || c.Compare != nil || c.ImageScan != nil
}
