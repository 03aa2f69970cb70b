package awsclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// fakeSTS answers AssumeRole with canned credentials or an error, and
// records each call with the region its options chose.
type fakeSTS struct {
	mu    sync.Mutex
	calls []assumeCall
	err   error
}

type assumeCall struct {
	role, session, externalID, region string
}

var _ AssumeRoleAPI = (*fakeSTS)(nil)

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	o := sts.Options{Region: "us-east-1"}
	for _, fn := range optFns {
		fn(&o)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, assumeCall{aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName), aws.ToString(in.ExternalId), o.Region})
	if f.err != nil {
		return nil, f.err
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIA" + o.Region), SecretAccessKey: aws.String("secret-key-never-logged"), SessionToken: aws.String("token"),
		Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

const roleA = "arn:aws:iam::222222222222:role/postdeploy-verify"

// TestAssumerCachesPerRoleAndRegion checks one AssumeRole per (role,
// external id, region) for all the calls of one invocation, sent to STS in
// the target's region, with the session name and external id.
func TestAssumerCachesPerRoleAndRegion(t *testing.T) {
	f := &fakeSTS{}
	a := NewAssumer(f, "postdeploy-verify-job-1")
	ctx := context.Background()
	west := Target{RoleARN: roleA, ExternalID: "ext-1", Region: "eu-west-1"}
	east := Target{RoleARN: roleA, ExternalID: "ext-1", Region: "us-east-2"}
	for range 3 {
		for _, tg := range []Target{west, east} {
			c, err := a.Credentials(tg).Retrieve(ctx)
			if err != nil {
				t.Fatalf("Retrieve(%v) error: %v", tg, err)
			}
			if want := "ASIA" + tg.Region; c.AccessKeyID != want {
				t.Errorf("Retrieve(%v) key = %q; want %q (signed in the target's region)", tg, c.AccessKeyID, want)
			}
		}
	}
	want := []assumeCall{
		{roleA, "postdeploy-verify-job-1", "ext-1", "eu-west-1"},
		{roleA, "postdeploy-verify-job-1", "ext-1", "us-east-2"},
	}
	if len(f.calls) != len(want) {
		t.Fatalf("AssumeRole calls = %+v; want %+v (one per role and region)", f.calls, want)
	}
	for i := range want {
		if f.calls[i] != want[i] {
			t.Errorf("AssumeRole call %d = %+v; want %+v", i, f.calls[i], want[i])
		}
	}
	if p := a.Credentials(Target{Region: "eu-west-1"}); p != nil {
		t.Errorf("Credentials(region only) = %v; want nil (the function's own credentials)", p)
	}
}

// TestSessionName checks AssumeRole's documented RoleSessionName shape:
// 2–64 characters of [\w+=,.@-]
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
func TestSessionName(t *testing.T) {
	for _, tc := range []struct{ name, prefix, id, want string }{
		{"job id", "postdeploy-verify", "11111111-2222-3333-4444-555555555555", "postdeploy-verify-11111111-2222-3333-4444-555555555555"},
		{"characters outside the set", "postdeploy-remediate", "111122223333/high cpu:α", "postdeploy-remediate-111122223333-high-cpu--"},
		{"cut to 64", "p", strings.Repeat("x", 100), "p-" + strings.Repeat("x", 62)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SessionName(tc.prefix, tc.id)
			if got != tc.want {
				t.Errorf("SessionName(%q, %q) = %q; want %q", tc.prefix, tc.id, got, tc.want)
			}
			if len(got) < 2 || len(got) > MaxSessionName {
				t.Errorf("SessionName(%q, %q) has %d characters; want 2–64", tc.prefix, tc.id, len(got))
			}
		})
	}
}

// TestAssumeRefusals checks each AssumeRole failure STS documents in
// API_AssumeRole's Errors (AccessDenied, RegionDisabledException) becomes
// an *AssumeError naming the role, the account and the fix, recorded once,
// and never carrying a credential.
func TestAssumeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		kind Refusal
		says []string
	}{
		{"trust policy or permission", &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:sts::111111111111:assumed-role/verify/x is not authorized to perform: sts:AssumeRole on resource: " + roleA},
			RefusedPermission, []string{roleA, "account 222222222222", "trust policy", "sts:AssumeRole", "externalId"}},
		{"region not activated", &ststypes.RegionDisabledException{Message: aws.String("STS is not activated in this region for account:222222222222")},
			RefusedRegion, []string{roleA, "region eu-south-2", "not enabled", "Enable the region for account 222222222222"}},
		{"region that does not exist", &net.DNSError{Err: "no such host", Name: "sts.eu-south-9.amazonaws.com", IsNotFound: true},
			RefusedRegion, []string{"not enabled", "name a region the account uses"}},
		{"throttled", &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"},
			RefusedTransient, []string{"transient"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAssumer(&fakeSTS{err: tc.err}, "s")
			tg := Target{RoleARN: roleA, Region: "eu-south-2"}
			err := a.Check(context.Background(), tg)
			var ae *AssumeError
			if !errors.As(err, &ae) {
				t.Fatalf("Check(%v) = %v (%T); want *AssumeError", tg, err, err)
			}
			if ae.Kind != tc.kind {
				t.Errorf("Check(%v) kind = %v; want %v", tg, ae.Kind, tc.kind)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Check(%v) = %q; want it to say %q", tg, err, s)
				}
			}
			if strings.Contains(err.Error(), "secret-key") {
				t.Errorf("Check(%v) error carries a credential: %q", tg, err)
			}
			_ = a.Check(context.Background(), tg)
			wantRecorded := 1
			if tc.kind == RefusedTransient {
				wantRecorded = 0
			}
			if got := len(a.Refusals()); got != wantRecorded {
				t.Errorf("Refusals() after two checks = %d; want %d", got, wantRecorded)
			}
		})
	}
}

func TestIAMAction(t *testing.T) {
	for _, tc := range []struct{ svc, op, want string }{
		{"CloudWatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"},
		{"Auto Scaling", "SetDesiredCapacity", "autoscaling:SetDesiredCapacity"},
		{"ECR", "DescribeImageScanFindings", "ecr:DescribeImageScanFindings"},
		{"Inspector2", "ListFindings", "inspector2:ListFindings"},
	} {
		if got := IAMAction(tc.svc, tc.op); got != tc.want {
			t.Errorf("IAMAction(%q, %q) = %q; want %q", tc.svc, tc.op, got, tc.want)
		}
	}
}
