package standin

import (
	"sort"
	"strings"
)

// opHandler answers one operation. It runs with Server.mu held and
// returns the response tree (or a *rawResponse) or an *APIError.
type opHandler func(s *Server, req *request) (any, error)

var handlers = map[string]map[string]opHandler{
	CodePipeline: {
		"PutJobSuccessResult":    cpPutJobSuccess,
		"PutJobFailureResult":    cpPutJobFailure,
		"GetJobDetails":          cpGetJobDetails,
		"GetPipelineExecution":   cpGetPipelineExecution,
		"ListActionExecutions":   cpListActionExecutions,
		"RollbackStage":          cpRollbackStage,
		"GetPipeline":            cpGetPipeline,
		"ListPipelineExecutions": cpListPipelineExecutions,
	},
	CloudWatch: {
		"DescribeAlarms":      cwDescribeAlarms,
		"GetMetricData":       cwGetMetricData,
		"PutMetricData":       cwPutMetricData,
		"ListTagsForResource": cwListTags,
		"SetAlarmState":       cwSetAlarmState,
		"GetDashboard":        cwGetDashboard,
	},
	SSM: {
		"GetParameter":             ssmGetParameter,
		"StartAutomationExecution": ssmStartAutomation,
		"GetAutomationExecution":   ssmGetAutomation,
		"CreateOpsItem":            ssmCreateOpsItem,
		"UpdateOpsItem":            ssmUpdateOpsItem,
		"GetOpsItem":               ssmGetOpsItem,
	},
	S3: {
		"GetObject":  s3GetObject,
		"HeadObject": s3GetObject,
		"PutObject":  s3PutObject,
	},
	EventBridge: {"PutEvents": ebPutEvents},
	SNS: {
		"Publish":                   snsPublish,
		"PublishBatch":              snsPublishBatch,
		"Subscribe":                 snsSubscribe,
		"SetSubscriptionAttributes": snsSetSubscriptionAttributes,
		"Unsubscribe":               snsUnsubscribe,
		"ListSubscriptionsByTopic":  snsListSubscriptionsByTopic,
	},
	ECS: {
		"DescribeServices": ecsDescribeServices,
		"UpdateService":    ecsUpdateService,
	},
	EC2: {
		"DescribeInstances":      ec2DescribeInstances,
		"RebootInstances":        ec2RebootInstances,
		"DescribeInstanceStatus": ec2DescribeInstanceStatus,
	},
	AutoScaling: {
		"DescribeAutoScalingGroups": asgDescribe,
		"SetDesiredCapacity":        asgSetDesired,
	},
	CodeDeploy: {
		"GetDeployment":       cdGetDeployment,
		"StopDeployment":      cdStopDeployment,
		"GetDeploymentGroup":  cdGetDeploymentGroup,
		"ListDeployments":     cdListDeployments,
		"ListTagsForResource": cdListTags,

		"ListDeploymentTargets":                cdListDeploymentTargets,
		"GetDeploymentTarget":                  cdGetDeploymentTarget,
		"PutLifecycleEventHookExecutionStatus": cdPutLifecycleEventHookExecutionStatus,
	},
	Lambda: {
		"GetAlias":               lambdaGetAlias,
		"UpdateAlias":            lambdaUpdateAlias,
		"ListTags":               lambdaListTags,
		"ListVersionsByFunction": lambdaListVersions,
		"Invoke":                 lambdaInvoke,
	},
	ECR:        {"DescribeImageScanFindings": ecrDescribeFindings},
	Inspector2: {"ListFindings": inspectorListFindings},
	ELBv2: {
		"DescribeListeners":     elbDescribeListeners,
		"DescribeLoadBalancers": elbDescribeLoadBalancers,
	},

	SecretsManager: {"GetSecretValue": smGetSecretValue},
	CloudFormation: {
		"DescribeStacks":     cfnDescribeStacks,
		"ListStackResources": cfnListStackResources,
	},
	SQS: {
		"CreateQueue":        sqsCreateQueue,
		"GetQueueAttributes": sqsGetQueueAttributes,
		"SetQueueAttributes": sqsSetQueueAttributes,
		"ReceiveMessage":     sqsReceiveMessage,
		"DeleteMessage":      sqsDeleteMessage,
		"DeleteQueue":        sqsDeleteQueue,
	},
}

func handlerFor(service, op string) opHandler { return handlers[service][op] }

func implementedList(service string) string {
	var ops []string
	for op := range handlers[service] {
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return "nothing for this service"
	}
	sort.Strings(ops)
	return strings.Join(ops, ", ")
}

// Implemented lists every operation the stand-in serves, by service.
func Implemented() map[string][]string {
	out := map[string][]string{}
	for svc, ops := range handlers {
		for op := range ops {
			out[svc] = append(out[svc], op)
		}
		sort.Strings(out[svc])
	}
	return out
}
