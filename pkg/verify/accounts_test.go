package verify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/registry"
	"github.com/postdeploy/postdeploy/pkg/devtools/fakests"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

const memberRole = "arn:aws:iam::222222222222:role/postdeploy-verify"

// memberCloudWatch is a CloudWatch endpoint (awsQuery) that answers the
// member role's DescribeAlarms with no alarms — or AccessDenied when
// denied — and counts the requests it saw by signing key.
type memberCloudWatch struct {
	mu     sync.Mutex
	denied bool
	byKey  map[string]int
}

func (m *memberCloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	// SigV4: Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<scope>, ...
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	key, _, _ := strings.Cut(cred, "/")
	m.byKey[key]++
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if m.denied {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::222222222222:assumed-role/postdeploy-verify/s is not authorized to perform: cloudwatch:DescribeAlarms</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
		return
	}
	_, _ = w.Write([]byte(`<DescribeAlarmsResponse><DescribeAlarmsResult><MetricAlarms><member><AlarmName>prod-api-5xx</AlarmName><AlarmArn>arn:aws:cloudwatch:eu-west-1:222222222222:alarm:prod-api-5xx</AlarmArn><StateValue>OK</StateValue></member></MetricAlarms><CompositeAlarms/></DescribeAlarmsResult></DescribeAlarmsResponse>`))
}

// acrossEnv is a verifier whose spec looks at the member account through
// memberRole, with a real CloudWatch client pointed at cw.
func acrossEnv(t *testing.T, stsAPI *fakests.STS, cw *memberCloudWatch) *env {
	t.Helper()
	srv := httptest.NewServer(cw)
	t.Cleanup(srv.Close)
	proto, err := awsclient.CloudWatchProtocol("query")
	if err != nil {
		t.Fatal(err)
	}
	client := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAHOME", "home-secret", "")}, proto)
	e := newEnv(&scripted{result: pass})
	e.v.STS = stsAPI
	e.v.BuildWith = func(s spec.Spec, a *awsclient.Assumer) (check.Suite, error) {
		return registry.Build(s, registry.Clients{CloudWatch: client, Assumer: a})
	}
	return e
}

func acrossSpec() map[string]any {
	return map[string]any{"spec": map[string]any{"roleArn": memberRole, "region": "eu-west-1", "checks": []any{
		map[string]any{"name": "member-alarms", "alarms": map[string]any{"prefix": "prod-"}},
		map[string]any{"name": "member-alarms-2", "alarms": map[string]any{"names": []string{"prod-api-5xx"}}},
	}}}
}

// TestVerifyAssumesTheSpecsRoleOncePerInvocation checks a spec naming a
// role is checked with that role's credentials, assumed once for both
// checks, with a session name carrying the job id
// (postdeploy-verify-<job id>, within AssumeRole's 64 characters), and
// that the credentials never reach the log.
func TestVerifyAssumesTheSpecsRoleOncePerInvocation(t *testing.T) {
	stsAPI, cw := &fakests.STS{}, &memberCloudWatch{byKey: map[string]int{}}
	e := acrossEnv(t, stsAPI, cw)
	if err := e.invoke(t, jobEvent(t, "11111111-2222-3333-4444-555555555555", acrossSpec(), ""), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.successes) != 1 {
		t.Fatalf("successes = %d, failures = %d; want one success (log:\n%s)", len(e.cp.successes), len(e.cp.failures), e.logs)
	}
	calls := stsAPI.Calls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls = %d; want 1 (cached for the invocation)", len(calls))
	}
	in := calls[0].Input
	if got, want := aws.ToString(in.RoleSessionName), "postdeploy-verify-11111111-2222-3333-4444-555555555555"; got != want {
		t.Errorf("RoleSessionName = %q; want %q", got, want)
	}
	if got := aws.ToString(in.RoleArn); got != memberRole {
		t.Errorf("RoleArn = %q; want %q", got, memberRole)
	}
	if cw.byKey["ASIAMEMBER"] == 0 || len(cw.byKey) != 1 {
		t.Errorf("CloudWatch requests by signing key = %v; want every one signed by the assumed role's ASIAMEMBER", cw.byKey)
	}
	for _, secret := range []string{"SECRET-never-logged", "TOKEN-never-logged"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("log carries the assumed role's %s:\n%s", secret, e.logs)
		}
	}
}

// TestVerifyRefusesWhatItCannotReach checks a role that cannot be assumed
// and a region that is not enabled each end the job before any check runs,
// with a message naming the account, the role and the fix: AccessDenied as
// a PermissionError, RegionDisabledException (documented in
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
// Errors) as a ConfigurationError.
func TestVerifyRefusesWhatItCannotReach(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want cptypes.FailureType
		says []string
	}{
		{"role cannot be assumed", &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"},
			cptypes.FailureTypePermissionError, []string{"account 222222222222", memberRole, "trust policy", "sts:AssumeRole"}},
		{"region not enabled", &ststypes.RegionDisabledException{Message: aws.String("STS is not activated in this region")},
			cptypes.FailureTypeConfigurationError, []string{"account 222222222222", memberRole, "region eu-west-1", "Enable the region"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cw := &memberCloudWatch{byKey: map[string]int{}}
			e := acrossEnv(t, &fakests.STS{Err: tc.err}, cw)
			if err := e.invoke(t, jobEvent(t, "job-refused", acrossSpec(), ""), time.Minute); err != nil {
				t.Fatalf("Handle error: %v", err)
			}
			if len(e.cp.failures) != 1 || e.cp.reports() != 1 {
				t.Fatalf("reports = %d (failures %d); want exactly 1 failure", e.cp.reports(), len(e.cp.failures))
			}
			fd := e.cp.failures[0].FailureDetails
			if fd.Type != tc.want {
				t.Errorf("failure type = %s; want %s", fd.Type, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(aws.ToString(fd.Message), s) {
					t.Errorf("failure message = %q; want it to name %q", aws.ToString(fd.Message), s)
				}
			}
			if len(cw.byKey) != 0 {
				t.Errorf("CloudWatch saw requests %v; want none (nothing checked)", cw.byKey)
			}
		})
	}
}

// TestVerifyDeniedCallIsAPermissionError checks a check the member role
// may not run (AccessDenied on cloudwatch:DescribeAlarms) fails the job as
// a PermissionError naming the role, the IAM action and the fix.
func TestVerifyDeniedCallIsAPermissionError(t *testing.T) {
	cw := &memberCloudWatch{denied: true, byKey: map[string]int{}}
	e := acrossEnv(t, &fakests.STS{}, cw)
	if err := e.invoke(t, jobEvent(t, "job-denied", acrossSpec(), ""), time.Minute); err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(e.cp.failures) != 1 {
		t.Fatalf("failures = %d, successes = %d; want 1 failure", len(e.cp.failures), len(e.cp.successes))
	}
	fd := e.cp.failures[0].FailureDetails
	if fd.Type != cptypes.FailureTypePermissionError {
		t.Errorf("failure type = %s; want PermissionError", fd.Type)
	}
	msg := aws.ToString(fd.Message)
	for _, s := range []string{"cloudwatch:DescribeAlarms", memberRole, "account 222222222222", "grant"} {
		if !strings.Contains(msg, s) {
			t.Errorf("failure message = %q; want it to name %q", msg, s)
		}
	}
	if !strings.HasPrefix(msg, "Post-deploy verification was refused access by IAM (1 refusal(s))") {
		t.Errorf("failure message = %q; want it to start with the one refusal, recorded once for both checks", msg)
	}
}
