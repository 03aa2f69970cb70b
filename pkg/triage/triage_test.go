package triage

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func loadEvent(t testing.TB, name string) events.EventBridgeEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatalf("read sample event: %v", err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return ev
}

// brief is the part of a Finding the table compares.
type brief struct {
	ID, Source, Title string
	Severity          Severity
	CVSS, EPSS        float64
	Exploit, Known    bool
	Fix, Active       bool
	Repo, Digest      string
	Instance          string
	Compliance        []string
	Counts            map[Severity]int
	Criticality       string
}

func briefOf(f Finding) brief {
	return brief{
		ID: f.ID, Source: f.Source, Title: f.Title, Severity: f.Severity,
		CVSS: f.CVSS, EPSS: f.EPSS, Exploit: f.ExploitAvailable, Known: f.KnownExploited,
		Fix: f.FixAvailable, Active: f.ActiveThreat,
		Repo: f.Resource.Repository, Digest: f.Resource.ImageDigest, Instance: f.Resource.InstanceID,
		Compliance: f.Compliance, Counts: f.Counts, Criticality: f.Resource.Tags["criticality"],
	}
}

const digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd"

func TestFromEvent(t *testing.T) {
	tests := []struct {
		name string
		file string
		want brief
	}{
		{
			name: "ECR basic scan is one summary finding at its highest class",
			file: "respond-ecr-scan.json",
			want: brief{
				ID: "ecr-scan:prod-api@" + digest, Source: SourceECR,
				Title:    "ECR basic scan of prod-api found 22 vulnerabilities (2 CRITICAL, 5 HIGH, 11 MEDIUM, 3 LOW, 1 INFORMATIONAL)",
				Severity: Critical, Repo: "prod-api", Digest: digest,
				Counts: map[Severity]int{Critical: 2, High: 5, Medium: 11, Low: 3, Informational: 1},
			},
		},
		{
			name: "Inspector2 Scan reads the repository ARN and skips TOTAL",
			file: "respond-inspector-scan.json",
			want: brief{
				ID: "inspector2-scan:prod-api@" + digest, Source: SourceInspector,
				Title:    "Inspector scan of prod-api found 14 vulnerabilities (1 CRITICAL, 4 HIGH, 9 MEDIUM)",
				Severity: Critical, Repo: "prod-api", Digest: digest,
				Counts: map[Severity]int{Critical: 1, High: 4, Medium: 9},
			},
		},
		{
			name: "Inspector2 Finding keeps CVSS, EPSS, exploit, fix and tags",
			file: "respond-inspector-finding.json",
			want: brief{
				ID: "arn:aws:inspector2:us-east-1:123456789012:finding/0e436649379db5b0d6b1c5a3a7f6c5d2", Source: SourceInspector,
				Title: "CVE-2022-3602 - openssl", Severity: Critical, CVSS: 9.8, EPSS: 0.91834,
				Exploit: true, Known: true, Fix: true, Repo: "prod-api", Digest: digest, Criticality: "critical",
			},
		},
		{
			name: "GuardDuty numeric severity 8 is HIGH and an active threat",
			file: "respond-guardduty-finding.json",
			want: brief{
				ID: "arn:aws:guardduty:us-east-1:123456789012:detector/123456789012abcd/finding/16afba5c5c43e07c9e3e5e2e544e95df", Source: SourceGuardDuty,
				Title: "Bitcoin-related domain name queried by EC2 instance i-0a1b2c3d4e5f67890.", Severity: High,
				Active: true, Instance: "i-0a1b2c3d4e5f67890", Criticality: "high",
			},
		},
		{
			name: "Security Hub ASFF carries the failed controls",
			file: "respond-securityhub-asff.json",
			want: brief{
				ID: "arn:aws:securityhub:us-east-1:123456789012:security-control/S3.8/finding/4e2d7b6a-EXAMPLE", Source: SourceSecurityHub,
				Title: "S3 general purpose buckets should block public access", Severity: High,
				Compliance: []string{"S3.8", "NIST.800-53.r5 AC-21", "PCI DSS v4.0.1/1.4.4"}, Criticality: "high",
			},
		},
		{
			name: "Security Hub OCSF maps severity_id and vulnerabilities",
			file: "respond-securityhub-ocsf.json",
			want: brief{
				ID: "arn:aws:inspector2:us-east-1:123456789012:finding/5b1d0c44", Source: SourceSecurityHub,
				Title: "CVE-2024-6387 - openssh", Severity: High, CVSS: 8.1, EPSS: 0.42, Exploit: true, Fix: true,
				Instance: "i-0fedcba9876543210", Criticality: "critical",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _, err := FromEvent(loadEvent(t, tt.file))
			if err != nil {
				t.Fatalf("FromEvent(%s) error: %v", tt.file, err)
			}
			if len(fs) != 1 {
				t.Fatalf("FromEvent(%s) = %d findings; want 1", tt.file, len(fs))
			}
			if diff := cmp.Diff(tt.want, briefOf(fs[0])); diff != "" {
				t.Errorf("FromEvent(%s) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestFromEventRejects(t *testing.T) {
	mk := func(source, dt, detail string) events.EventBridgeEvent {
		return events.EventBridgeEvent{Source: source, DetailType: dt, Detail: json.RawMessage(detail)}
	}
	tests := []struct {
		name      string
		ev        events.EventBridgeEvent
		wantField string
	}{
		{"GuardDuty severity as a word", loadEvent(t, "respond-malformed.json"), "detail.severity"},
		{"GuardDuty severity above 10", mk(SourceEventGuardDuty, DetailGuardDutyFinding, `{"id":"x","type":"T","severity":11}`), "detail.severity"},
		{"Inspector finding without ARN", mk(SourceEventInspector, DetailInspectorFinding, `{"severity":"HIGH"}`), "detail.findingArn"},
		{"Inspector finding with an unknown severity", mk(SourceEventInspector, DetailInspectorFinding, `{"findingArn":"a","severity":"SEVERE","resources":[{}]}`), "detail.severity"},
		{"ECR scan without digest", mk(SourceEventECR, DetailECRScan, `{"repository-name":"r"}`), "detail.image-digest"},
		{"ECR scan with a negative count", mk(SourceEventECR, DetailECRScan, `{"repository-name":"r","image-digest":"sha256:1","finding-severity-counts":{"HIGH":-1}}`), "detail.finding-severity-counts.HIGH"},
		{"Inspector scan with an unknown label", mk(SourceEventInspector, DetailInspectorScan, `{"repository-name":"r","image-digest":"sha256:1","finding-severity-counts":{"SEVERE":1}}`), "detail.finding-severity-counts.SEVERE"},
		{"ASFF with no findings", mk(SourceEventSecurityHub, DetailSecurityHubASFF, `{"findings":[]}`), "detail.findings"},
		{"ASFF findings not an array", mk(SourceEventSecurityHub, DetailSecurityHubASFF, `{"findings":{"Id":"x"}}`), "detail.findings"},
		{"OCSF with 101 findings", mk(SourceEventSecurityHub, DetailSecurityHubOCSF, `{"findings":[`+strings.Repeat(`{},`, 100)+`{}]}`), "detail.findings"},
		{"detail not an object", mk(SourceEventGuardDuty, DetailGuardDutyFinding, `[1,2]`), "detail"},
		{"detail missing", mk(SourceEventGuardDuty, DetailGuardDutyFinding, ``), "detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, refused, err := FromEvent(tt.ev)
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("FromEvent(%s) = %v, %v, %v; want a *MalformedError", tt.ev.Detail, fs, refused, err)
			}
			if me.Field != tt.wantField {
				t.Errorf("FromEvent(%s) error field = %q; want %q (error: %v)", tt.ev.Detail, me.Field, tt.wantField, err)
			}
		})
	}
}

// TestFromEventBatchRefusesFindingsOneByOne: a Security Hub event is a
// batch (detail.findings[]); each finding is accepted or refused on its
// own, the refusal naming its index and field, so a finding with a
// numeric Title or an unknown severity label does not drop the CRITICAL
// beside it.
func TestFromEventBatchRefusesFindingsOneByOne(t *testing.T) {
	good := `{"Id":"arn:good","Title":"Critical CVE","Severity":{"Label":"CRITICAL"},"Resources":[{"Type":"AwsEc2Instance","Id":"i-0123456789abcdef0"}]}`
	tests := []struct {
		name        string
		detailType  string
		findings    []string
		wantIDs     []string
		wantRefused []string // fields
	}{
		{"ASFF numeric Title beside a CRITICAL", DetailSecurityHubASFF,
			[]string{good, `{"Id":"arn:bad","Title":42,"Severity":{"Label":"HIGH"},"Resources":[{"Id":"r"}]}`},
			[]string{"arn:good"}, []string{"detail.findings[1].Title"}},
		{"ASFF unknown severity label beside a CRITICAL", DetailSecurityHubASFF,
			[]string{`{"Id":"arn:bad","Title":"t","Severity":{"Label":"SEVERE"},"Resources":[{"Id":"r"}]}`, good},
			[]string{"arn:good"}, []string{"detail.findings[0].Severity.Label"}},
		{"ASFF null, a string and a finding without Id beside a CRITICAL", DetailSecurityHubASFF,
			[]string{`null`, `"x"`, good, `{"Title":"t","Severity":{"Label":"LOW"},"Resources":[{"Id":"r"}]}`},
			[]string{"arn:good"}, []string{"detail.findings[0].Id", "detail.findings[1]", "detail.findings[3].Id"}},
		{"ASFF without severity", DetailSecurityHubASFF,
			[]string{`{"Id":"x","Title":"t","Resources":[{"Id":"r"}]}`}, nil, []string{"detail.findings[0].Severity.Label"}},
		{"OCSF without uid beside a good one", DetailSecurityHubOCSF,
			[]string{`{"finding_info":{"title":"t"}}`, `{"finding_info":{"uid":"u-1","title":"t"},"severity_id":5,"resources":[{"uid":"i-0123456789abcdef0"}]}`},
			[]string{"u-1"}, []string{"detail.findings[0].finding_info.uid"}},
		{"OCSF severity_id as a string", DetailSecurityHubOCSF,
			[]string{`{"finding_info":{"uid":"u-2","title":"t"},"severity_id":"5","resources":[{"uid":"r"}]}`}, nil, []string{"detail.findings[0].severity_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.EventBridgeEvent{Source: SourceEventSecurityHub, DetailType: tt.detailType,
				Detail: json.RawMessage(`{"findings":[` + strings.Join(tt.findings, ",") + `]}`)}
			fs, refused, err := FromEvent(ev)
			if err != nil {
				t.Fatalf("FromEvent = %v; want the batch read finding by finding", err)
			}
			var ids, fields []string
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			for _, r := range refused {
				fields = append(fields, r.Field)
				if !strings.Contains(r.Error(), r.Field) {
					t.Errorf("refusal %q does not name its field %s", r.Error(), r.Field)
				}
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("accepted findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRefused, fields); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScanTitleCountsItsNoun: a scan summary says "1 vulnerability" and
// "2 vulnerabilities".
func TestScanTitleCountsItsNoun(t *testing.T) {
	tests := []struct{ counts, want string }{
		{`{"HIGH":1}`, "ECR basic scan of r found 1 vulnerability (1 HIGH)"},
		{`{"HIGH":1,"LOW":1}`, "ECR basic scan of r found 2 vulnerabilities (1 HIGH, 1 LOW)"},
	}
	for _, tt := range tests {
		ev := events.EventBridgeEvent{Source: SourceEventECR, DetailType: DetailECRScan,
			Detail: json.RawMessage(`{"scan-status":"COMPLETE","repository-name":"r","image-digest":"sha256:1","finding-severity-counts":` + tt.counts + `}`)}
		fs, _, err := FromEvent(ev)
		if err != nil || len(fs) != 1 || fs[0].Title != tt.want {
			t.Errorf("FromEvent(ECR scan %s) = %v, %v; want one finding titled %q", tt.counts, fs, err, tt.want)
		}
	}
}

func TestFromEventNotSecurity(t *testing.T) {
	for _, file := range []string{"respond-unknown.json", "respond-alarm-cpu.json", "respond-codebuild-failed.json"} {
		if fs, _, err := FromEvent(loadEvent(t, file)); !errors.Is(err, ErrNotSecurity) {
			t.Errorf("FromEvent(%s) = %v, %v; want ErrNotSecurity", file, fs, err)
		}
	}
}

func TestFromEventCleanScan(t *testing.T) {
	ev := events.EventBridgeEvent{Source: SourceEventECR, DetailType: DetailECRScan,
		Detail: json.RawMessage(`{"scan-status":"COMPLETE","repository-name":"r","image-digest":"sha256:1","finding-severity-counts":{}}`)}
	fs, _, err := FromEvent(ev)
	if err != nil || len(fs) != 0 {
		t.Errorf("FromEvent(clean scan) = %v, %v; want no findings, nil", fs, err)
	}
}

func TestSeverityMappings(t *testing.T) {
	gd := []struct {
		in   float64
		want Severity
	}{{0.5, Informational}, {1, Low}, {3.9, Low}, {4, Medium}, {6.9, Medium}, {7, High}, {8.9, High}, {9, Critical}, {10, Critical}}
	for _, tt := range gd {
		if got := GuardDutySeverity(tt.in); got != tt.want {
			t.Errorf("GuardDutySeverity(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
	norm := []struct {
		in   float64
		want Severity
	}{{0, Informational}, {1, Low}, {39, Low}, {40, Medium}, {69, Medium}, {70, High}, {89, High}, {90, Critical}, {100, Critical}}
	for _, tt := range norm {
		if got := NormalizedSeverity(tt.in); got != tt.want {
			t.Errorf("NormalizedSeverity(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
	ocsf := []struct {
		in   int
		want Severity
	}{{0, SeverityUnknown}, {1, Informational}, {2, Low}, {3, Medium}, {4, High}, {5, Critical}, {6, Critical}, {99, SeverityUnknown}}
	for _, tt := range ocsf {
		if got := OCSFSeverity(tt.in); got != tt.want {
			t.Errorf("OCSFSeverity(%d) = %v; want %v", tt.in, got, tt.want)
		}
	}
	labels := []struct {
		in   string
		want Severity
	}{{"UNTRIAGED", Untriaged}, {"critical", Critical}, {"Informational", Informational}, {"UNDEFINED", SeverityUnknown}}
	for _, tt := range labels {
		if got, err := ParseSeverity(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
	if got, err := ParseSeverity("SEVERE"); err == nil {
		t.Errorf("ParseSeverity(%q) = %v, nil; want an error", "SEVERE", got)
	}
}

func TestScorePriorities(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	var s Scorer
	tests := []struct {
		name string
		file string
		want Priority
	}{
		{"critical, exploited, fixable, on a critical asset", "respond-inspector-finding.json", P1},
		{"low, no exploit, on an untagged asset", "respond-inspector-finding-low.json", P4},
		{"GuardDuty high on a high asset (active threat)", "respond-guardduty-finding.json", P2},
		{"ASFF high with failed controls on a high asset", "respond-securityhub-asff.json", P2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _, err := FromEvent(loadEvent(t, tt.file))
			if err != nil || len(fs) != 1 {
				t.Fatalf("FromEvent(%s) = %d findings, %v", tt.file, len(fs), err)
			}
			a := s.Score(fs[0], now)
			if a.Priority != tt.want {
				t.Errorf("Score(%s) = %v (score %.1f, factors %+v); want %v", tt.file, a.Priority, a.Score, a.Factors, tt.want)
			}
			if a.SLA != DefaultSLAs[tt.want] {
				t.Errorf("Score(%s).SLA = %v; want %v", tt.file, a.SLA, DefaultSLAs[tt.want])
			}
		})
	}
}

func TestScoreFactors(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	base := Finding{Severity: Critical, ExploitAvailable: true, FixAvailable: true,
		Resource: Resource{Tags: map[string]string{"criticality": "critical"}}}
	tests := []struct {
		name   string
		scorer Scorer
		f      Finding
		want   Assessment
	}{
		{
			name: "default weights: critical, exploit available, critical asset",
			f:    base,
			want: Assessment{Score: 84, Priority: P1, SLA: 24 * time.Hour, Due: now.Add(24 * time.Hour),
				Factors: Factors{Severity: 1, Likelihood: 0.8, Impact: 1, Criticality: CriticalityCritical}},
		},
		{
			name:   "severity only",
			scorer: Scorer{Weights: Weights{Severity: 1}},
			f:      Finding{Severity: Medium, FirstSeen: now.Add(-time.Hour)},
			want: Assessment{Score: 50, Priority: P3, SLA: 30 * 24 * time.Hour, Due: now.Add(-time.Hour + 30*24*time.Hour),
				Factors: Factors{Severity: 0.5, Likelihood: 0.2, Impact: 0.5, Criticality: CriticalityMedium}},
		},
		{
			name:   "CVSS raises a MEDIUM label; asset map sets criticality",
			scorer: Scorer{Assets: map[string]Criticality{"prod-api": CriticalityHigh}},
			f:      Finding{Severity: Medium, CVSS: 8.8, EPSS: 0.5, Resource: Resource{Repository: "prod-api"}},
			want: Assessment{Score: 65.2, Priority: P2, SLA: 7 * 24 * time.Hour, Due: now.Add(7 * 24 * time.Hour),
				Factors: Factors{Severity: 0.88, Likelihood: 0.5, Impact: 0.75, Criticality: CriticalityHigh}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.scorer.Score(tt.f, now)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Score mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWeights(t *testing.T) {
	got, err := ParseWeights("severity=0.5, impact=0.5,likelihood=0,compliance=0")
	if want := (Weights{Severity: 0.5, Impact: 0.5}); err != nil || got != want {
		t.Errorf("ParseWeights = %+v, %v; want %+v, nil", got, err, want)
	}
	if got, err := ParseWeights(""); err != nil || got != DefaultWeights {
		t.Errorf("ParseWeights(\"\") = %+v, %v; want defaults", got, err)
	}
	for _, bad := range []string{"severity", "severity=-1", "risk=1", "severity=0,likelihood=0,impact=0,compliance=0", "severity=NaN"} {
		if got, err := ParseWeights(bad); err == nil {
			t.Errorf("ParseWeights(%q) = %+v, nil; want an error", bad, got)
		}
	}
}

func TestParseSLAs(t *testing.T) {
	got, err := ParseSLAs("P1=4h, P4=720h")
	want := map[Priority]time.Duration{P1: 4 * time.Hour, P2: DefaultSLAs[P2], P3: DefaultSLAs[P3], P4: 720 * time.Hour}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("ParseSLAs = %v, %v; want %v, nil", got, err, want)
	}
	for _, bad := range []string{"P1", "P5=1h", "P1=soon", "P2=-1h"} {
		if got, err := ParseSLAs(bad); err == nil {
			t.Errorf("ParseSLAs(%q) = %v, nil; want an error", bad, got)
		}
	}
}

// fakeClaimer is the state table in memory.
type fakeClaimer struct {
	claimed map[string]map[string]string
	err     error
}

var _ Claimer = (*fakeClaimer)(nil)

func (f *fakeClaimer) Claim(_ context.Context, key string, _ time.Duration, attrs map[string]string) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	if _, ok := f.claimed[key]; ok {
		return false, nil
	}
	if f.claimed == nil {
		f.claimed = map[string]map[string]string{}
	}
	f.claimed[key] = attrs
	return true, nil
}

func TestDeduper(t *testing.T) {
	ctx := context.Background()
	fs, _, err := FromEvent(loadEvent(t, "respond-inspector-finding.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := fs[0]
	a := Scorer{}.Score(f, time.Now())
	store := &fakeClaimer{}
	d := Deduper{Store: store}
	if first, err := d.First(ctx, f, a); !first || err != nil {
		t.Fatalf("First(new finding) = %v, %v; want true, nil", first, err)
	}
	if first, err := d.First(ctx, f, a); first || err != nil {
		t.Errorf("First(same finding again) = %v, %v; want false, nil", first, err)
	}
	escalated := f
	escalated.Severity = High // a different class is a new notification
	if first, _ := d.First(ctx, escalated, a); !first {
		t.Errorf("First(finding with a new severity) = false; want true")
	}
	if attrs := store.claimed[Key(f)]; attrs["priority"] != "P1" || attrs["source"] != SourceInspector {
		t.Errorf("claimed attrs = %v; want priority P1 and source %s", attrs, SourceInspector)
	}
	broken := Deduper{Store: &fakeClaimer{err: errors.New("throttled")}}
	if first, err := broken.First(ctx, f, a); !first || err == nil {
		t.Errorf("First(store failing) = %v, %v; want true (fail open) and the error", first, err)
	}
}

func FuzzFromEvent(f *testing.F) {
	for _, file := range []string{
		"respond-ecr-scan.json", "respond-inspector-finding.json", "respond-inspector-scan.json",
		"respond-guardduty-finding.json", "respond-securityhub-asff.json", "respond-securityhub-ocsf.json",
		"respond-malformed.json", "respond-securityhub-mixed-batch.json", "respond-securityhub-hostile.json",
	} {
		ev := loadEvent(f, file)
		f.Add(ev.Source, ev.DetailType, []byte(ev.Detail))
	}
	f.Fuzz(func(t *testing.T, source, detailType string, detail []byte) {
		ev := events.EventBridgeEvent{Source: source, DetailType: detailType, Detail: detail}
		fs, refused, err := FromEvent(ev)
		if err != nil {
			var me *MalformedError
			if !errors.Is(err, ErrNotSecurity) && !errors.As(err, &me) {
				t.Fatalf("FromEvent error %v is neither ErrNotSecurity nor *MalformedError", err)
			}
			return
		}
		for _, r := range refused {
			if !strings.HasPrefix(r.Field, "detail.findings[") {
				t.Fatalf("refused finding field %q does not name its index", r.Field)
			}
		}
		var s Scorer
		for _, fd := range fs {
			if fd.ID == "" {
				t.Fatalf("finding without an id: %+v", fd)
			}
			a := s.Score(fd, time.Time{})
			if a.Score < 0 || a.Score > 100 || a.Priority < P1 || a.Priority > P4 {
				t.Fatalf("Score = %+v out of range for %+v", a, fd)
			}
			_ = Key(fd)
		}
	})
}
