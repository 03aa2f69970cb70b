package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// wildcard is one resource pattern with a "*" in a role's policy and why
// it has to be there. Each becomes a cdk-nag AwsSolutions-IAM5
// suppression that names exactly that resource and carries the reason.
type wildcard struct {
	// nag is the resource as cdk-nag prints it, e.g.
	// "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/postdeploy/*".
	nag    string
	reason string
}

// arn is an ARN in this stack's partition, region and account. The
// pseudo parameters keep the stack environment-agnostic.
type arn struct {
	service, resource string
	// anyAccount puts "*" for the account; noAccount leaves it empty, as
	// the ARNs of resources AWS owns (public SSM documents) have it.
	anyAccount, noAccount bool
}

// token is the ARN for the template.
func (a arn) token() *string {
	account := awscdk.Aws_ACCOUNT_ID()
	switch {
	case a.anyAccount:
		account = jsii.String("*")
	case a.noAccount:
		account = jsii.String("")
	}
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":" + a.service + ":"),
		awscdk.Aws_REGION(), jsii.String(":"), account, jsii.String(":" + a.resource),
	})
}

// nag is the ARN as cdk-nag prints it in a finding.
func (a arn) nag() string {
	account := "<AWS::AccountId>"
	switch {
	case a.anyAccount:
		account = "*"
	case a.noAccount:
		account = ""
	}
	return "arn:<AWS::Partition>:" + a.service + ":<AWS::Region>:" + account + ":" + a.resource
}

// allow adds one statement to f's role.
func allow(f *Function, sid string, actions []string, resources []*string, conditions map[string]any) {
	p := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}
	if conditions != nil {
		p.Conditions = &conditions
	}
	f.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(p))
}

// allowAny adds a statement on Resource "*" for APIs that have no
// resource-level permissions, and records why.
func (s *Stack) allowAny(f *Function, sid string, actions []string, reason string) {
	allow(f, sid, actions, []*string{jsii.String("*")}, nil)
	s.wild(f, "*", sid+" ("+strings.Join(actions, ", ")+"): "+reason)
}

// allowPattern adds a statement on ARN patterns in this account and
// region, and records why each pattern has a "*".
func (s *Stack) allowPattern(f *Function, sid string, actions []string, a arn, conditions map[string]any, reason string, more ...arn) {
	res := []*string{}
	for _, m := range append([]arn{a}, more...) {
		res = append(res, m.token())
		if strings.Contains(m.resource, "*") || m.anyAccount {
			s.wild(f, m.nag(), sid+": "+reason)
		}
	}
	allow(f, sid, actions, res, conditions)
}

func (s *Stack) wild(f *Function, resource, reason string) {
	if s.wildcards == nil {
		s.wildcards = map[string][]wildcard{}
	}
	s.wildcards[f.Name] = append(s.wildcards[f.Name], wildcard{nag: resource, reason: reason})
}

// Table actions pkg/state calls (its API interface): single items,
// conditional writes and queries on the key; no scans, no batch, no
// table management.
var tableActions = []string{
	"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
}

// permissions gives each function exactly what it calls.
func (s *Stack) permissions() error {
	s.verifyPermissions()
	if err := s.remediatePermissions(); err != nil {
		return err
	}
	return s.respondPermissions()
}

func (s *Stack) verifyPermissions() {
	f := s.Verify
	// CodePipeline's job worker APIs take only a job id and support no
	// resource-level permissions: "*" is the only resource IAM accepts.
	s.allowAny(f, "PipelineJobs", []string{
		"codepipeline:GetJobDetails", "codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult",
	}, "CodePipeline's job APIs take only a job id and support no resource-level permissions")
	// GetMetricData and DescribeAlarms (with a name prefix) support no
	// resource-level permissions.
	s.allowAny(f, "ReadMetricsAndAlarms", []string{
		"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
	}, "CloudWatch GetMetricData and DescribeAlarms support no resource-level permissions")
	// Inspector's ListFindings supports no resource-level permissions.
	s.allowAny(f, "ReadInspectorFindings", []string{"inspector2:ListFindings"},
		"Inspector2 ListFindings supports no resource-level permissions")

	prefix := strings.TrimPrefix(s.Props.SpecParameterPrefix, "/")
	s.allowPattern(f, "ReadSpecParameters", []string{"ssm:GetParameter"},
		arn{service: "ssm", resource: "parameter/" + prefix + "*"}, nil,
		"verification specs live under the configured parameter path; pipelines name their own parameter within it")
	// SecureString parameters are decrypted by SSM on verify's behalf:
	// only through SSM in this region, whatever key the parameter uses.
	s.allowPattern(f, "DecryptSpecParameters", []string{"kms:Decrypt"},
		arn{service: "kms", resource: "key/*"}, viaSSM(),
		"SecureString specs may use any customer key; kms:ViaService limits the grant to decryption by SSM in this region")
	allow(f, "PublishVerdicts", []string{"events:PutEvents"}, []*string{s.Bus.EventBusArn()}, nil)
	// The continuation-token key, exactly that secret (AWSCURRENT and
	// AWSPREVIOUS are versions of it; "Actions, resources, and condition
	// keys for AWS Secrets Manager": GetSecretValue acts on Secret*). The
	// secret uses Secrets Manager's AWS managed key, which needs no grant.
	allow(f, "ReadTokenKey", []string{"secretsmanager:GetSecretValue"}, []*string{s.TokenKey.SecretArn()}, nil)
	s.allowPattern(f, "ReadImageScanFindings", []string{"ecr:DescribeImageScanFindings"},
		arn{service: "ecr", resource: "repository/*"}, nil,
		"a spec names the repository of the image it deploys, any repository of this account and region")
}

func (s *Stack) remediatePermissions() error {
	f := s.Remediate
	s.grantTopics(f)
	s.Table.Grant(f.ExecutionRole, tableActionPtrs()...)
	return s.grantRemediation(f)
}

// grantRemediation gives f what the remediation engine and its actions
// call, each action on the narrowest resources its API accepts, and read
// access to an SSM policy.
func (s *Stack) grantRemediation(f *Function) error {
	scopes, actions, err := scopedRemediation(remediationActions())
	if err != nil {
		return err
	}
	for _, sc := range scopes {
		var cond map[string]any
		if sc.optIn {
			cond = optInCondition(s.Props.OptInTag)
		}
		arns := sc.arns
		if sc.sid == scopeRunbooks.sid {
			arns = s.runbookARNs()
		}
		if sc.any {
			s.allowAny(f, sc.sid, actions[sc.sid], sc.reason)
			continue
		}
		s.allowPattern(f, sc.sid, actions[sc.sid], arns[0], cond, sc.reason, arns[1:]...)
	}
	if s.AutomationRole != nil {
		// The one role a runbook may be given, and only for Systems
		// Manager to assume: iam:PassedToService (IAM User Guide, "Grant
		// a user permissions to pass a role to an AWS service",
		// id_roles_use_passrole.html, and "IAM and AWS STS condition
		// context keys").
		allow(f, "PassAutomationRole", []string{"iam:PassRole"}, []*string{s.AutomationRole.RoleArn()},
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ssm.amazonaws.com"}}) //nolint:gosec // G101: a service principal, not a credential
	}
	if ref, ok := strings.CutPrefix(s.Props.RemediationPolicy, "ssm:"); ok {
		allow(f, "ReadRemediationPolicy", []string{"ssm:GetParameter"}, []*string{arn{service: "ssm", resource: "parameter" + ref}.token()}, nil)
		s.allowPattern(f, "DecryptRemediationPolicy", []string{"kms:Decrypt"}, arn{service: "kms", resource: "key/*"}, viaSSM(),
			"a SecureString policy may use any customer key; kms:ViaService limits the grant to decryption by SSM in this region")
	}
	return nil
}

// viaSSM limits a KMS grant to requests SSM makes in this region.
func viaSSM() map[string]any {
	return map[string]any{"StringEquals": map[string]any{
		"kms:ViaService": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("ssm."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com")}),
	}}
}

// grantTopics lets f publish to every alert topic: sns:Publish on each
// topic, and on the topic key the two operations SNS performs for an
// encrypting publisher (spelled out instead of topic.GrantPublish's
// kms:GenerateDataKey* wildcard).
func (s *Stack) grantTopics(f *Function) {
	arns := make([]*string, 0, len(notify.Kinds))
	for _, k := range notify.Kinds {
		arns = append(arns, s.Topics[k].TopicArn())
	}
	allow(f, "PublishAlerts", []string{"sns:Publish"}, arns, nil)
	allow(f, "EncryptAlerts", []string{"kms:GenerateDataKey", "kms:Decrypt"}, []*string{s.TopicKey.KeyArn()}, nil)
}

func (s *Stack) respondPermissions() error {
	f := s.Respond
	s.grantTopics(f)
	s.Table.Grant(f.ExecutionRole, tableActionPtrs()...)
	if s.Props.RespondRemediates {
		// Includes cloudwatch:DescribeAlarms.
		if err := s.grantRemediation(f); err != nil {
			return err
		}
	} else {
		// DescribeAlarms supports no resource-level permissions.
		s.allowAny(f, "ReadAlarms", []string{"cloudwatch:DescribeAlarms"},
			"CloudWatch DescribeAlarms supports no resource-level permissions")
	}
	// Reads: respond reports any failed pipeline or deployment of the
	// account, and confirms through CodePipeline that a verify action
	// really failed before it rolls back ("Actions, resources, and
	// condition keys for AWS CodePipeline": these act on pipeline*).
	s.allowPattern(f, "PipelineReads", []string{
		"codepipeline:GetPipeline", "codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions",
		"codepipeline:ListPipelineExecutions",
	}, arn{service: "codepipeline", resource: "*"}, nil,
		"the failed pipeline is named by the event; respond reads any pipeline of this account and region to report and confirm it")
	s.allowPattern(f, "DeploymentReads", []string{
		"codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments",
	}, arn{service: "codedeploy", resource: "deploymentgroup:*"}, nil,
		"the failed deployment's group is named by the event; respond reads any deployment group of this account and region")
	// The mutating calls only under the policy that makes them.
	switch s.Props.RollbackPolicy {
	case config.RollbackStage:
		// RollbackStage acts on stage*: arn:...:codepipeline:region:account:<pipeline>/<stage>.
		targets := s.rollbackStages()
		s.allowPattern(f, "PipelineRollback", []string{"codepipeline:RollbackStage"}, targets[0], nil,
			"only the pipelines (and stages) named in the rollbackPipelines context; a name ending in * is a prefix", targets[1:]...)
	case config.RollbackStopDeployment:
		// "Actions, resources, and condition keys for AWS CodeDeploy":
		// StopDeployment lists no resource type; "*" is the only
		// resource IAM matches it with.
		s.allowAny(f, "DeploymentStop", []string{"codedeploy:StopDeployment"},
			"codedeploy:StopDeployment supports no resource-level permissions; respond stops only the deployment of a pipeline whose verify action CodePipeline confirms failed")
	}
	return nil
}

// rollbackStages are the stage ARNs RollbackStage may act on:
// Props.RollbackPipelines, and the example pipeline's stages.
func (s *Stack) rollbackStages() []arn {
	var out []arn
	for _, r := range s.Props.RollbackPipelines {
		res := r
		if !strings.Contains(r, "/") && !strings.HasSuffix(r, "*") {
			res = r + "/*" // any stage of the pipeline
		}
		out = append(out, arn{service: "codepipeline", resource: res})
	}
	if s.Props.ExamplePipeline {
		out = append(out, arn{service: "codepipeline", resource: s.examplePipelineName() + "/*"})
	}
	return out
}

func tableActionPtrs() []*string { return *jsii.Strings(tableActions...) }
