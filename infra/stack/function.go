package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// The functions, named as their directories under functions/ and dist/.
const (
	Verify    = "verify"
	Remediate = "remediate"
	Respond   = "respond"
)

// FunctionNames lists the functions the stack deploys.
var FunctionNames = []string{Verify, Remediate, Respond}

// Function is one of the suite's functions with the parts the helper
// makes for it.
type Function struct {
	awslambda.Function
	Name          string
	ExecutionRole awsiam.Role
	DLQ           awssqs.Queue
	LogGroup      awslogs.LogGroup
}

// functionSpec is what differs between the functions.
type functionSpec struct {
	name        string
	description string
	memoryMB    float64
	timeout     awscdk.Duration
	env         map[string]string // on top of the common ones
	reserved    int               // reserved concurrency; 0 = none
	// maxEventAge bounds how long Lambda keeps an asynchronous event
	// for retries (0: DefaultMaxEventAge).
	maxEventAge time.Duration
}

// DefaultMaxEventAge is how long Lambda keeps an asynchronous event of
// remediate and respond for retries.
const DefaultMaxEventAge = 6 * time.Hour

// checkAssets reports every file missing from p.AssetDir: each
// function's bootstrap, and the policy file of each function that runs
// the remediation engine with a file policy it does not embed (remediate
// embeds the shipped policy.yaml; respond embeds none).
func checkAssets(p Props) error {
	var missing []string
	need := []string{}
	for _, fn := range FunctionNames {
		need = append(need, filepath.Join(p.AssetDir, fn, "bootstrap"))
	}
	if ref, ok := strings.CutPrefix(p.RemediationPolicy, "file:"); ok {
		if p.RemediationPolicy != config.DefaultRemediationPolicy {
			need = append(need, filepath.Join(p.AssetDir, Remediate, ref))
		}
		if p.RespondRemediates {
			need = append(need, filepath.Join(p.AssetDir, Respond, ref))
		}
	}
	for _, p := range need {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("function files not found: %v; run `make build` (`make synth` builds first) to write each bootstrap, set the %q context to the directory that holds <fn>/bootstrap, and put a file remediation policy beside the binaries that read it (or use remediationPolicy=ssm:/<parameter>)", missing, CtxAssetDir)
	}
	return nil
}

// newFunction builds a function the one way every function is built:
// provided.al2023 on arm64 from <AssetDir>/<name>/ (the binary `make
// build` wrote and the tests ran is the one deployed), JSON logs into its
// own log group with retention, X-Ray active tracing, an encrypted,
// TLS-only SQS dead-letter queue for failed asynchronous invocations, and
// its own role that starts with nothing but writing its logs.
func (s *Stack) newFunction(spec functionSpec) *Function {
	id := titleCase(spec.name)
	f := &Function{Name: spec.name}

	f.LogGroup = awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention[s.Props.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	f.ExecutionRole = awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("postdeploy %s function: least privilege, see infra/stack/iam.go", spec.name)),
	})
	// Only this function's own log group, instead of the managed
	// AWSLambdaBasicExecutionRole's logs:* on every group.
	f.LogGroup.GrantWrite(f.ExecutionRole)

	f.DLQ = awssqs.NewQueue(s.Stack, jsii.String(id+"DeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	env := map[string]*string{
		config.EnvMetricNamespace: jsii.String(s.Props.MetricNamespace),
	}
	for k, v := range spec.env {
		env[k] = jsii.String(v)
	}
	maxEventAge := spec.maxEventAge
	if maxEventAge == 0 {
		maxEventAge = DefaultMaxEventAge
	}
	props := &awslambda.FunctionProps{
		Description:           jsii.String(spec.description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(s.Props.AssetDir, spec.name)), nil),
		MemorySize:            jsii.Number(spec.memoryMB),
		Timeout:               spec.timeout,
		Environment:           &env,
		Role:                  f.ExecutionRole,
		LogGroup:              f.LogGroup,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		// Active tracing makes CDK add xray:PutTraceSegments and
		// xray:PutTelemetryRecords on "*" to the role: X-Ray has no
		// resource-level permissions for them.
		Tracing:         awslambda.Tracing_ACTIVE,
		DeadLetterQueue: f.DLQ,
		RetryAttempts:   jsii.Number(2),
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(maxEventAge.Seconds())),
	}
	if spec.reserved > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(spec.reserved))
	}
	f.Function = awslambda.NewFunction(s.Stack, jsii.String(id), props)
	return f
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

// retention maps CloudWatch Logs' allowed retention days to CDK's enum.
var retention = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
