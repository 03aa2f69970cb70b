package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// MemberStatement is one statement of a member account's role, and for
// each resource with a "*" (as cdk-nag prints it) why it is there.
type MemberStatement struct {
	Statement awsiam.PolicyStatement
	Wildcards map[string]string
}

// MemberRemediation returns the statements of the role remediate assumes
// in a member account: the same scopes as its own role's (one source, the
// action registry, see permissions.go), each mutating statement
// conditioned on the opt-in tag where IAM supports it, in any region of
// the member account (the role is global; the stack instances of every
// region share it). Skipped lists the actions left out, with why: SSM
// runbooks need an automation role of their own in the member account,
// which the member stack does not create.
func MemberRemediation(tag remediate.Tag) (stmts []MemberStatement, skipped map[string]string, err error) {
	scopes, actions, err := scopedRemediation(remediationActions())
	if err != nil {
		return nil, nil, err
	}
	skipped = map[string]string{}
	for _, sc := range scopes {
		if sc.sid == scopeRunbooks.sid {
			for _, a := range actions[sc.sid] {
				skipped[a] = "ssm.runbook is not available in member accounts: its runbooks need an automation role there"
			}
			continue
		}
		p := &awsiam.PolicyStatementProps{Sid: jsii.String(sc.sid), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings(actions[sc.sid]...)}
		wild := map[string]string{}
		if sc.any {
			p.Resources = jsii.Strings("*")
			wild["*"] = sc.sid + ": " + sc.reason
		} else {
			res := make([]*string, 0, len(sc.arns))
			for _, a := range sc.arns {
				res = append(res, anyRegion(a))
				wild["arn:<AWS::Partition>:"+a.service+":*:<AWS::AccountId>:"+a.resource] = sc.sid + ": " + sc.reason + " (any region of the member account: the role is global)"
			}
			p.Resources = &res
		}
		if sc.optIn {
			c := optInCondition(tag)
			p.Conditions = &c
		}
		stmts = append(stmts, MemberStatement{Statement: awsiam.NewPolicyStatement(p), Wildcards: wild})
	}
	return stmts, skipped, nil
}

// anyRegion is a's ARN in this account, in any region.
func anyRegion(a arn) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":" + a.service + ":*:"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":" + a.resource),
	})
}
