package standin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// This file finds, from the protocol markers of a request (see doc.go),
// which service and operation it calls and on which wire protocol, and
// decodes its input.

// Service names as the stand-in records them in Call.Service and as
// Inject and CallsTo take them.
const (
	CodePipeline = "codepipeline"
	CloudWatch   = "cloudwatch"
	SSM          = "ssm"
	S3           = "s3"
	SNS          = "sns"
	EventBridge  = "events"
	EC2          = "ec2"
	ECS          = "ecs"
	AutoScaling  = "autoscaling"
	CodeDeploy   = "codedeploy"
	Lambda       = "lambda"
	ECR          = "ecr"
	Inspector2   = "inspector2"
)

// Protocol names the wire protocol a call arrived on (Call.Protocol).
type Protocol string

// The wire protocols the stand-in speaks.
const (
	ProtoJSON10   Protocol = "awsJson1_0"
	ProtoJSON11   Protocol = "awsJson1_1"
	ProtoCBOR     Protocol = "rpcv2Cbor"
	ProtoQuery    Protocol = "awsQuery"
	ProtoEC2Query Protocol = "ec2Query"
	ProtoRESTJSON Protocol = "restJson1"
	ProtoRESTXML  Protocol = "restXml"
)

// request is one routed call.
type request struct {
	service string
	op      string
	proto   Protocol
	input   map[string]any
	// target is the JSON target prefix (e.g. CodePipeline_20150709) or
	// the Query API version, echoed in responses where the protocol wants.
	target string
	http   *http.Request
	// body is a REST payload kept out of the recorded input (S3 PutObject).
	body []byte
}

// jsonTargets maps an X-Amz-Target prefix to the service it names.
var jsonTargets = map[string]string{
	"CodePipeline_20150709":                CodePipeline,
	"AmazonSSM":                            SSM,
	"AWSEvents":                            EventBridge,
	"AmazonEC2ContainerServiceV20141113":   ECS,
	"CodeDeploy_20141006":                  CodeDeploy,
	"AmazonEC2ContainerRegistry_V20150921": ECR,
	"GraniteServiceVersion20100801":        CloudWatch,
	"secretsmanager":                       SecretsManager,
	"AmazonSQS":                            SQS,
}

// scopeServices maps a SigV4 credential-scope service to the service.
var scopeServices = map[string]string{
	"monitoring":     CloudWatch,
	"sns":            SNS,
	"ec2":            EC2,
	"autoscaling":    AutoScaling,
	"s3":             S3,
	"lambda":         Lambda,
	"inspector2":     Inspector2,
	"cloudformation": CloudFormation,
	ELBv2:            ELBv2, // its signing name, "elasticloadbalancing"
}

// queryActions names the service of a Query action when the request
// carries no credential scope (an unsigned request).
var queryActions = map[string]string{
	"Publish":                   SNS,
	"Subscribe":                 SNS,
	"SetSubscriptionAttributes": SNS,
	"DescribeInstances":         EC2,
	"DescribeInstanceStatus":    EC2,
	"RebootInstances":           EC2,
	"DescribeAutoScalingGroups": AutoScaling,
	"SetDesiredCapacity":        AutoScaling,
	"DescribeAlarms":            CloudWatch,
	"GetMetricData":             CloudWatch,
	"PutMetricData":             CloudWatch,
	"ListTagsForResource":       CloudWatch,
	"SetAlarmState":             CloudWatch,
	"GetDashboard":              CloudWatch,
	"Unsubscribe":               SNS,
	"ListSubscriptionsByTopic":  SNS,
	"DescribeStacks":            CloudFormation,
	"ListStackResources":        CloudFormation,
}

const cborPrefix = "/service/GraniteServiceVersion20100801/operation/"

// route finds service, operation and protocol from the protocol markers
// (see doc.go) and decodes the input.
func route(r *http.Request, body []byte) (*request, *APIError) {
	req := &request{http: r}
	bad := func(proto Protocol, format string, args ...any) (*request, *APIError) {
		req.proto = proto
		return req, &APIError{Code: "SerializationException", Status: 400, Message: fmt.Sprintf(format, args...)}
	}

	// JSON RPC: X-Amz-Target.
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		req.proto = ProtoJSON11
		if strings.Contains(r.Header.Get("Content-Type"), "1.0") {
			req.proto = ProtoJSON10
		}
		prefix, op, ok := strings.Cut(target, ".")
		svc := jsonTargets[prefix]
		req.target, req.op = prefix, op
		if !ok || svc == "" {
			req.service = prefix
			return req, &APIError{Code: "UnknownOperationException", Status: 400,
				Message: fmt.Sprintf("X-Amz-Target %q names no service the stand-in serves (DynamoDB runs in dynalite, not here)", target)}
		}
		req.service = svc
		in, err := decodeJSON(body)
		if err != nil {
			return bad(req.proto, "%s %s: %v", svc, op, err)
		}
		req.input = in
		return req, nil
	}

	// RPC v2 CBOR: the operation is in the path.
	if strings.HasPrefix(r.URL.Path, cborPrefix) {
		req.proto, req.service = ProtoCBOR, CloudWatch
		req.op = strings.TrimPrefix(r.URL.Path, cborPrefix)
		in, err := decodeCBOR(body)
		if err != nil {
			return bad(ProtoCBOR, "cloudwatch %s: %v", req.op, err)
		}
		req.input = in
		return req, nil
	}

	scope := credentialScope(r.Header.Get("Authorization"))

	// Query protocols: a form with Action.
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return bad(ProtoQuery, "request body is not a form: %v", err)
		}
		action := form.Get("Action")
		svc := scopeServices[scope]
		if svc == "" || svc == S3 || svc == Lambda || svc == Inspector2 {
			svc = queryActions[action]
		}
		req.service, req.op, req.target = svc, action, form.Get("Version")
		req.proto = ProtoQuery
		if svc == EC2 {
			req.proto = ProtoEC2Query
		}
		if action == "" || svc == "" {
			return req, &APIError{Code: "InvalidAction", Status: 400,
				Message: fmt.Sprintf("Query request with Action %q and credential scope %q names no service the stand-in serves", action, scope)}
		}
		form.Del("Action")
		form.Del("Version")
		req.input = decodeForm(form)
		return req, nil
	}

	// REST-JSON: Lambda and Inspector2 by path.
	if ok, err := routeREST(r, body, req); ok {
		return req, err
	}

	// Everything else is S3, path-style.
	return routeS3(r, body, req)
}

// credentialScope returns the service of a SigV4 Authorization header's
// credential scope (".../us-east-1/monitoring/aws4_request" -> monitoring).
func credentialScope(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
