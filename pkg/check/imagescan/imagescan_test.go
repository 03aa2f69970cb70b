package imagescan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

const digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd"

type fakeECR struct {
	out   *ecr.DescribeImageScanFindingsOutput
	err   error
	calls []*ecr.DescribeImageScanFindingsInput
}

var _ ECRAPI = (*fakeECR)(nil)

func (f *fakeECR) DescribeImageScanFindings(_ context.Context, in *ecr.DescribeImageScanFindingsInput, _ ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return f.out, nil
}

type fakeInspector struct {
	findings []i2types.Finding
	err      error
	calls    []*inspector2.ListFindingsInput
}

var _ InspectorAPI = (*fakeInspector)(nil)

func (f *fakeInspector) ListFindings(_ context.Context, in *inspector2.ListFindingsInput, _ ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &inspector2.ListFindingsOutput{Findings: f.findings}, nil
}

func ecrComplete(findings ...ecrtypes.ImageScanFinding) *ecr.DescribeImageScanFindingsOutput {
	return &ecr.DescribeImageScanFindingsOutput{
		ImageId:           &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
		ImageScanStatus:   &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusComplete},
		ImageScanFindings: &ecrtypes.ImageScanFindings{Findings: findings},
	}
}

func basic(cve string, sev ecrtypes.FindingSeverity) ecrtypes.ImageScanFinding {
	return ecrtypes.ImageScanFinding{Name: aws.String(cve), Severity: sev, Attributes: []ecrtypes.Attribute{
		{Key: aws.String("package_name"), Value: aws.String("openssl")}, {Key: aws.String("package_version"), Value: aws.String("3.0.1")},
	}}
}

func inspectorFinding(cve string, sev i2types.Severity, score float64, exploit bool) i2types.Finding {
	f := i2types.Finding{
		FindingArn: aws.String("arn:aws:inspector2:us-east-1:123456789012:finding/" + cve), Severity: sev, InspectorScore: aws.Float64(score),
		Title: aws.String(cve + " - openssl"), FixAvailable: i2types.FixAvailableYes, Status: i2types.FindingStatusActive,
		PackageVulnerabilityDetails: &i2types.PackageVulnerabilityDetails{VulnerabilityId: aws.String(cve), VulnerablePackages: []i2types.VulnerablePackage{{Name: aws.String("openssl"), Version: aws.String("3.0.1")}}},
	}
	if exploit {
		f.ExploitAvailable = i2types.ExploitAvailableYes
	}
	return f
}

func items(scans ...spec.ImageScan) []check.Item {
	out := make([]check.Item, len(scans))
	for i := range scans {
		out[i] = check.Item{Index: i, Check: spec.Check{Name: "image", ImageScan: &scans[i]}}
	}
	return out
}

func sample(t *testing.T, o Options, s spec.ImageScan) verdict.Result {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC) }
	}
	sm, errs := New(o, items(s))
	if len(errs) > 0 {
		t.Fatalf("New(%+v) errors: %v", s, errs)
	}
	rs := sm.Sample(context.Background(), check.Sample{})
	if len(rs) != 1 {
		t.Fatalf("Sample returned %d results; want 1", len(rs))
	}
	return rs[0]
}

func TestNewReportsEveryProblem(t *testing.T) {
	o := Options{ECR: &fakeECR{}, Inspector: &fakeInspector{}}
	tests := []struct {
		name string
		scan spec.ImageScan
		path string
	}{
		{"no repository", spec.ImageScan{Digest: digest}, "checks[0].imageScan.repository"},
		{"repository URI instead of name", spec.ImageScan{Repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Digest: digest}, "checks[0].imageScan.repository"},
		{"neither digest nor tag", spec.ImageScan{Repository: "app"}, "checks[0].imageScan"},
		{"digest not sha256", spec.ImageScan{Repository: "app", Digest: "latest"}, "checks[0].imageScan.digest"},
		{"registry not an account", spec.ImageScan{Repository: "app", Digest: digest, RegistryID: "prod"}, "checks[0].imageScan.registryId"},
		{"unknown maxSeverity", spec.ImageScan{Repository: "app", Digest: digest, MaxSeverity: "SEVERE"}, "checks[0].imageScan.maxSeverity"},
		{"maxScore above 100", spec.ImageScan{Repository: "app", Digest: digest, MaxScore: 120}, "checks[0].imageScan.maxScore"},
		{"unknown source", spec.ImageScan{Repository: "app", Digest: digest, Sources: []string{"ecr", "trivy"}}, "checks[0].imageScan.sources[1]"},
		{"inspector only with a tag", spec.ImageScan{Repository: "app", Tag: "v1", Sources: []string{"inspector"}}, "checks[0].imageScan.digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := New(o, items(tt.scan))
			found := false
			for _, e := range errs {
				if e.Path == tt.path {
					found = true
				}
			}
			if !found {
				t.Errorf("New(%+v) errors = %v; want one at %s", tt.scan, errs, tt.path)
			}
		})
	}
	_, errs := New(Options{}, items(spec.ImageScan{Repository: "app", Digest: digest}))
	if len(errs) != 2 || !strings.Contains(errs.Error(), "ECR client") || !strings.Contains(errs.Error(), "Inspector2 client") {
		t.Errorf("New(no clients) = %v; want both missing clients reported", errs)
	}
	it := items(spec.ImageScan{Repository: "app", Digest: digest})
	it[0].Check.Expect = "true"
	if _, errs := New(o, it); len(errs) != 1 || errs[0].Path != "checks[0].expect" {
		t.Errorf("New(with expect) = %v; want one error at checks[0].expect", errs)
	}
}

func TestSampleVerdicts(t *testing.T) {
	tests := []struct {
		name         string
		ecr          *fakeECR
		inspector    *fakeInspector
		scan         spec.ImageScan
		want         verdict.Verdict
		wantObserved string
	}{
		{
			name:         "critical exploitable finding fails the default HIGH gate",
			ecr:          &fakeECR{out: ecrComplete(basic("CVE-2023-0001", ecrtypes.FindingSeverityMedium))},
			inspector:    &fakeInspector{findings: []i2types.Finding{inspectorFinding("CVE-2022-3602", i2types.SeverityCritical, 9.8, true)}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest},
			want:         verdict.Failed,
			wantObserved: "1 of 2 findings over the limit (1 CRITICAL, 1 MEDIUM): CVE-2022-3602 - openssl (CRITICAL, risk 74 P2, fix available)",
		},
		{
			name:         "HIGH is allowed by default",
			ecr:          &fakeECR{out: ecrComplete(basic("CVE-2023-0002", ecrtypes.FindingSeverityHigh))},
			inspector:    &fakeInspector{},
			scan:         spec.ImageScan{Repository: "app", Digest: digest},
			want:         verdict.Succeeded,
			wantObserved: "1 HIGH (highest risk score 46)",
		},
		{
			name:         "maxScore fails a HIGH finding whose risk is above it",
			ecr:          &fakeECR{out: ecrComplete()},
			inspector:    &fakeInspector{findings: []i2types.Finding{inspectorFinding("CVE-2024-6387", i2types.SeverityHigh, 8.1, true)}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest, MaxScore: 60},
			want:         verdict.Failed,
			wantObserved: "1 of 1 findings over the limit (1 HIGH): CVE-2024-6387 - openssl (HIGH, risk 66 P2, fix available)",
		},
		{
			name:         "maxSeverity MEDIUM fails on HIGH",
			ecr:          &fakeECR{out: ecrComplete(basic("CVE-2023-0002", ecrtypes.FindingSeverityHigh))},
			scan:         spec.ImageScan{Repository: "app", Digest: digest, MaxSeverity: "MEDIUM", Sources: []string{"ecr"}},
			want:         verdict.Failed,
			wantObserved: "1 of 1 findings over the limit (1 HIGH): CVE-2023-0002 - openssl (HIGH, risk 46 P3)",
		},
		{
			name:         "the same CVE from ECR enhanced and Inspector counts once",
			ecr:          &fakeECR{out: &ecr.DescribeImageScanFindingsOutput{ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusActive}, ImageScanFindings: &ecrtypes.ImageScanFindings{EnhancedFindings: []ecrtypes.EnhancedImageScanFinding{{FindingArn: aws.String("arn:x"), Severity: aws.String("HIGH"), Title: aws.String("CVE-2024-6387 - openssl"), PackageVulnerabilityDetails: &ecrtypes.PackageVulnerabilityDetails{VulnerabilityId: aws.String("CVE-2024-6387"), VulnerablePackages: []ecrtypes.VulnerablePackage{{Name: aws.String("openssl"), Version: aws.String("3.0.1")}}}}}}}},
			inspector:    &fakeInspector{findings: []i2types.Finding{inspectorFinding("CVE-2024-6387", i2types.SeverityHigh, 8.1, false)}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest},
			want:         verdict.Succeeded,
			wantObserved: "1 HIGH (highest risk score 48)",
		},
		{
			name:         "a scan in progress with nothing else is inconclusive",
			ecr:          &fakeECR{out: &ecr.DescribeImageScanFindingsOutput{ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusInProgress}}},
			inspector:    &fakeInspector{},
			scan:         spec.ImageScan{Repository: "app", Digest: digest},
			want:         verdict.Inconclusive,
			wantObserved: "ECR: scan of app@" + digest + " is IN_PROGRESS",
		},
		{
			name:         "no scan yet is inconclusive",
			ecr:          &fakeECR{err: &ecrtypes.ScanNotFoundException{Message: aws.String("no scan")}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest, Sources: []string{"ecr"}},
			want:         verdict.Inconclusive,
			wantObserved: "ECR: no scan of app@" + digest + " yet (turn on scan on push, or start a scan)",
		},
		{
			name:         "an unknown image is an error naming it",
			ecr:          &fakeECR{err: &ecrtypes.ImageNotFoundException{Message: aws.String("not found")}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest, Sources: []string{"ecr"}},
			want:         verdict.Error,
			wantObserved: "ECR: image app@" + digest + " not found: is the digest or tag the deployed image?",
		},
		{
			name:         "a failed scan is an error",
			ecr:          &fakeECR{out: &ecr.DescribeImageScanFindingsOutput{ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusUnsupportedImage, Description: aws.String("UnsupportedImageError: The operating system is not supported")}}},
			scan:         spec.ImageScan{Repository: "app", Digest: digest, Sources: []string{"ecr"}},
			want:         verdict.Error,
			wantObserved: "ECR: scan of app@" + digest + " is UNSUPPORTED_IMAGE: UnsupportedImageError: The operating system is not supported",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Inspector: tt.inspector}
			if tt.ecr != nil {
				o.ECR = tt.ecr
			}
			if tt.inspector == nil {
				o.Inspector = nil
			}
			r := sample(t, o, tt.scan)
			if r.Verdict != tt.want || r.Observed != tt.wantObserved {
				t.Errorf("Sample = %v, %q; want %v, %q", r.Verdict, r.Observed, tt.want, tt.wantObserved)
			}
		})
	}
}

func TestSampleResolvesTagThenAsksInspector(t *testing.T) {
	e := &fakeECR{out: ecrComplete()}
	in := &fakeInspector{}
	r := sample(t, Options{ECR: e, Inspector: in}, spec.ImageScan{Repository: "app", Tag: "v1.42.0", RegistryID: "123456789012"})
	if r.Verdict != verdict.Succeeded || r.Target != "app@"+digest {
		t.Errorf("Sample = %v on %q; want Succeeded on app@%s", r.Verdict, r.Target, digest)
	}
	if got := aws.ToString(e.calls[0].ImageId.ImageTag); got != "v1.42.0" {
		t.Errorf("ECR asked for tag %q; want v1.42.0", got)
	}
	fc := in.calls[0].FilterCriteria
	if got := aws.ToString(fc.EcrImageHash[0].Value); got != digest {
		t.Errorf("Inspector filtered on digest %q; want the one ECR resolved (%s)", got, digest)
	}
	if got := aws.ToString(fc.EcrImageRegistry[0].Value); got != "123456789012" {
		t.Errorf("Inspector filtered on registry %q; want 123456789012", got)
	}
	if r.Values["findings"] != 0 || r.Expected != "no finding above HIGH" {
		t.Errorf("Values = %v, Expected = %q; want 0 findings and the default gate", r.Values, r.Expected)
	}
}

func TestSampleAPIErrorIsError(t *testing.T) {
	r := sample(t, Options{ECR: &fakeECR{out: ecrComplete()}, Inspector: &fakeInspector{err: errors.New("AccessDeniedException: not authorized to perform inspector2:ListFindings")}},
		spec.ImageScan{Repository: "app", Digest: digest})
	if r.Verdict != verdict.Error || !strings.Contains(r.Observed, "inspector2:ListFindings") {
		t.Errorf("Sample = %v, %q; want Error naming the denied call", r.Verdict, r.Observed)
	}
}
