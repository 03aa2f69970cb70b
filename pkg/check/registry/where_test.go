package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/devtools/fakests"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// signed is what a CloudWatch stand-in saw of one request's SigV4
// Authorization header: the access key id and the credential scope's
// region (Credential=<key>/<date>/<region>/<service>/aws4_request; AWS
// General Reference, "Signature Version 4 signing process").
type signed struct{ key, region string }

func signedBy(r *http.Request) signed {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return signed{}
	}
	parts := strings.Split(strings.SplitN(h[i+len("Credential="):], ",", 2)[0], "/")
	if len(parts) < 3 {
		return signed{}
	}
	return signed{parts[0], parts[2]}
}

// TestChecksLookWhereTheSpecSays runs alarm checks of one spec against a
// CloudWatch endpoint: the check naming no account is signed with the
// function's own key in its own region, the others with the assumed role's
// key in the region they name; an AccessDenied answer to the member role
// becomes an Error result naming the role, the IAM action and the fix.
func TestChecksLookWhereTheSpecSays(t *testing.T) {
	var mu sync.Mutex
	var seen []signed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := signedBy(r)
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		if s.region == "eu-south-2" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: cloudwatch:DescribeAlarms</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
			return
		}
		_, _ = w.Write([]byte(`<DescribeAlarmsResponse><DescribeAlarmsResult><MetricAlarms/><CompositeAlarms/></DescribeAlarmsResult></DescribeAlarmsResponse>`))
	}))
	defer srv.Close()
	proto, err := awsclient.CloudWatchProtocol("query")
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAHOME", "home-secret", ""),
	}, proto)
	s, err := spec.Parse([]byte(`
checks:
  - {name: home, alarms: {prefix: p-}}
  - {name: member, alarms: {prefix: p-}, roleArn: "arn:aws:iam::222222222222:role/postdeploy-verify", region: eu-west-1}
  - {name: denied, alarms: {prefix: p-}, roleArn: "arn:aws:iam::222222222222:role/postdeploy-verify", region: eu-south-2}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := awsclient.NewAssumer(&fakests.STS{}, "postdeploy-verify-job-1")
	suite, err := Build(s, Clients{CloudWatch: cw, Assumer: a})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	if len(suite.Groups) != 3 {
		t.Fatalf("Build made %d groups; want 3 (one per kind and account/region)", len(suite.Groups))
	}
	rs := suite.Run(context.Background(), check.Sample{BakeStart: time.Now(), Now: time.Now()})
	want := map[signed]bool{{"AKIAHOME", "us-east-1"}: true, {"ASIAMEMBER", "eu-west-1"}: true, {"ASIAMEMBER", "eu-south-2"}: true}
	for _, s := range seen {
		if !want[s] {
			t.Errorf("a request was signed by %+v; want only %v", s, want)
		}
		delete(want, s)
	}
	if len(want) > 0 {
		t.Errorf("no request was signed by %v", want)
	}
	if rs[0].Verdict == verdict.Error || rs[1].Verdict == verdict.Error {
		t.Errorf("home, member verdicts = %v (%s), %v (%s); want no Error", rs[0].Verdict, rs[0].Observed, rs[1].Verdict, rs[1].Observed)
	}
	if rs[2].Verdict != verdict.Error {
		t.Errorf("denied verdict = %v; want Error", rs[2].Verdict)
	}
	refusals := a.Refusals()
	var de *awsclient.DeniedError
	if len(refusals) != 1 || !errors.As(refusals[0], &de) {
		t.Fatalf("Refusals() = %v; want one *awsclient.DeniedError", refusals)
	}
	for _, part := range []string{"cloudwatch:DescribeAlarms", "arn:aws:iam::222222222222:role/postdeploy-verify", "account 222222222222", "region eu-south-2", "grant"} {
		if !strings.Contains(de.Error(), part) {
			t.Errorf("DeniedError = %q; want it to name %q", de, part)
		}
	}
}

func TestBuildRefusesAnotherAccountWithoutAssumer(t *testing.T) {
	s, err := spec.Parse([]byte(`{region: eu-west-1, checks: [{name: a, alarms: {prefix: p}}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(s, Clients{CloudWatch: noCloudWatch{}})
	if err == nil || !strings.Contains(err.Error(), "checks[0]: this build of verify cannot look at other accounts or regions") {
		t.Errorf("Build(region without an Assumer) = %v; want a refusal at checks[0]", err)
	}
}

// TestMetricAccountIDIsSent checks a metric's accountId reaches
// GetMetricData as MetricDataQuery.AccountId (CloudWatch cross-account
// observability, API_MetricDataQuery), and a metric without one sends none.
func TestMetricAccountIDIsSent(t *testing.T) {
	var mu sync.Mutex
	var forms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm.Encode())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetMetricDataResponse><GetMetricDataResult><MetricDataResults/></GetMetricDataResult></GetMetricDataResponse>`))
	}))
	defer srv.Close()
	proto, err := awsclient.CloudWatchProtocol("query")
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAHOME", "home-secret", "")}, proto)
	s, err := spec.Parse([]byte(`
checks:
  - {name: linked, metric: {namespace: NS, name: M, stat: Sum, accountId: "444444444444"}, expect: "value < 1"}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	suite, err := Build(s, Clients{CloudWatch: cw})
	if err != nil {
		t.Fatalf("Build error: %v", err)
	}
	suite.Run(context.Background(), check.Sample{BakeStart: time.Now(), Now: time.Now()})
	if len(forms) != 1 || !strings.Contains(forms[0], "AccountId=444444444444") {
		t.Errorf("GetMetricData forms = %q; want one carrying AccountId=444444444444", forms)
	}
}
