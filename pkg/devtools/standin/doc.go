// Package standin is a local stand-in for AWS, used by postdeploy's demo
// and tests. It is NOT an emulator of AWS behaviour beyond what the suite
// needs: it implements the few operations the functions call, on the wire
// protocols the current aws-sdk-go-v2 clients in go.mod speak, answered
// from in-memory state seeded by a Scenario. Anything else gets an
// UnknownOperationException (or InvalidAction) naming what is implemented.
//
// # Operations
//
//	CodePipeline  PutJobSuccessResult, PutJobFailureResult, GetJobDetails,
//	              GetPipeline, GetPipelineExecution, ListPipelineExecutions,
//	              ListActionExecutions, RollbackStage
//	CloudWatch    DescribeAlarms, GetMetricData, PutMetricData,
//	              ListTagsForResource, SetAlarmState, GetDashboard
//	              (rpcv2Cbor, awsQuery, awsJson1_0)
//	SSM           GetParameter, StartAutomationExecution, GetAutomationExecution,
//	              CreateOpsItem, UpdateOpsItem, GetOpsItem (OpsCenter, opscenter.go)
//	S3            GetObject, HeadObject, PutObject (path-style)
//	EventBridge   PutEvents
//	SNS           Publish, PublishBatch, Subscribe, SetSubscriptionAttributes, Unsubscribe,
//	              ListSubscriptionsByTopic (filter policies applied as SNS
//	              documents them; see Deliveries; sqs subscriptions get
//	              messages their queue's policy admits, lambda ones go to
//	              Hooks.Lambda: delivery.go)
//	SQS           CreateQueue, GetQueueAttributes, SetQueueAttributes,
//	              ReceiveMessage, DeleteMessage, DeleteQueue (awsJson1_0)
//	CloudFormation  DescribeStacks, ListStackResources (seeded with AddStack)
//	ECS           DescribeServices, UpdateService
//	EC2           DescribeInstances, DescribeInstanceStatus, RebootInstances
//	Auto Scaling  DescribeAutoScalingGroups, SetDesiredCapacity
//	CodeDeploy    GetDeployment, StopDeployment, GetDeploymentGroup,
//	              ListDeployments, ListTagsForResource, ListDeploymentTargets,
//	              GetDeploymentTarget, PutLifecycleEventHookExecutionStatus
//	              (lifecycle hooks seeded with AddHookDeployment)
//	Lambda        GetAlias, UpdateAlias, ListVersionsByFunction, ListTags,
//	              Invoke (InvocationType Event only; TakeInvocations)
//	ECR           DescribeImageScanFindings
//	Inspector2    ListFindings
//	Secrets Manager  GetSecretValue (seeded with PutSecret / EnsureSecret)
//	ELBv2         DescribeListeners, DescribeLoadBalancers (awsQuery;
//	              seeded with AddLoadBalancer: elbv2.go)
//
// Implemented returns the same list. CodePipeline jobs not in the
// scenario are accepted and tracked from their first report, so sample
// events replay without seeding; exactly one terminal report per job is
// accepted, the next gets InvalidJobStateException. Actions change state:
// UpdateService starts a deployment that completes (running = desired)
// after Scenario.SettleAfter, StopDeployment with autoRollbackEnabled
// starts a rollback deployment that succeeds after it, automation
// executions succeed after it, SetDesiredCapacity and UpdateAlias apply at
// once.
//
// # Lifecycle
//
//	s, err := standin.New(scenario)        // or LoadScenario(path) first
//	err = s.Start()                        // 127.0.0.1:<free port>; WithAddr to pin
//	defer s.Close()
//	cmd.Env = append(os.Environ(), s.Env()...) // AWS_ENDPOINT_URL etc.
//
// A Server is also an http.Handler. Clients reach it through the SDK's
// standard AWS_ENDPOINT_URL (one URL for every service) or BaseEndpoint,
// with any static credentials: signatures are never checked. S3 is served
// path-style (/bucket/key); set UsePathStyle on the S3 client (the SDK
// falls back to path style by itself for an IP endpoint like the one URL
// returns, but not for "localhost").
//
// # Routing
//
// Requests are routed by protocol markers, never by Host:
//
//  1. X-Amz-Target "<Prefix>.<Operation>" — the JSON protocols:
//     CodePipeline_20150709 (CodePipeline), AmazonSSM (SSM), AWSEvents
//     (EventBridge), AmazonEC2ContainerServiceV20141113 (ECS),
//     CodeDeploy_20141006 (CodeDeploy), AmazonEC2ContainerRegistry_V20150921
//     (ECR), secretsmanager (Secrets Manager), all awsJson1_1;
//     GraniteServiceVersion20100801 (CloudWatch, awsJson1_0 when a client
//     is switched to it). Content-Type 1.0/1.1 picks the answer's content
//     type.
//  2. POST /service/GraniteServiceVersion20100801/operation/<Op> —
//     CloudWatch on Smithy RPC v2 CBOR, the current client's default.
//  3. A form-encoded POST with Action= — the Query protocols. The service
//     is the SigV4 credential scope's service in the Authorization header
//     (monitoring, sns, ec2, autoscaling, elasticloadbalancing), else a table
//     keyed by Action.
//     EC2 answers in ec2Query XML, the others in awsQuery XML (CloudWatch
//     too, when a client is switched to awsQuery).
//  4. REST-JSON paths: /2015-03-31/functions/{fn}/aliases/{alias} (Lambda
//     GetAlias GET, UpdateAlias PUT), GET /2015-03-31/functions/{fn}/versions
//     (ListVersionsByFunction), GET /2017-03-31/tags/{arn} (ListTags) and
//     POST /findings/list (Inspector2 ListFindings).
//  5. Anything else is S3 REST-XML, path-style: GET/HEAD/PUT /bucket/key.
//
// DynamoDB is not served here (the project runs dynalite for it); an
// X-Amz-Target of DynamoDB_20120810 is answered with an error saying so.
//
// # Errors
//
// Errors are encoded as each protocol expects so the SDK builds its typed
// errors: JSON "__type" + "message" with an X-Amzn-ErrorType header;
// CBOR "__type" (namespaced, com.amazonaws.cloudwatch#Code) with
// X-Amzn-Query-Error; Query XML <ErrorResponse>; EC2 <Response><Errors>;
// REST-JSON X-Amzn-ErrorType; S3 <Error>.
//
// # Recording and faults
//
// Every call is recorded (service, operation, protocol, decoded input,
// error code, injected fault, time): Calls, CallsTo. Inject arms a fault
// per (service, operation): throttling with the code the SDK's retryer
// recognises, 5xx, added latency, or a connection reset, for the next N
// calls or every call.
//
// # GetMetricData
//
// MetricStat queries read the seeded series (explicit points aggregated
// per Period with the Stat: Sum, Average, Minimum, Maximum, SampleCount,
// pNN; generators give one value per period). Results honour ReturnData,
// Label and ScanBy; they are never paginated (no NextToken).
//
// Expression queries are evaluated point by point with
// github.com/expr-lang/expr (see mathexpr.go): numbers, query ids,
// + - * / % ^, parentheses, comparisons, arrays [a, b], METRICS() and
// METRICS('s'), and SUM, AVG, MIN, MAX (across an array's series, per
// timestamp), ABS, CEIL, FLOOR, IF(cond, a[, b]).
// Arithmetic meets at the timestamps every series has; non-finite results
// are dropped. FILL, functions over time (RATE, DIFF, PERIOD,
// RUNNING_SUM...), SEARCH, anomaly bands, and SUM of one series as a
// scalar over time are answered with a ValidationError naming what is
// supported.
package standin
