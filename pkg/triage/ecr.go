package triage

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// fromECRScan summarises an ECR basic-scan event, which carries only the
// number of findings per severity, as one finding about the image.
func fromECRScan(d events.ECRScanEventDetailType, env envelope) (Finding, *fieldErr) {
	if d.RepositoryName == "" {
		return Finding{}, missing("detail.repository-name")
	}
	if d.ImageDigest == "" {
		return Finding{}, missing("detail.image-digest")
	}
	c := d.FindingSeverityCounts
	counts := map[Severity]int{}
	for s, n := range map[Severity]int64{Critical: c.Critical, High: c.High, Medium: c.Medium, Low: c.Low, Informational: c.Informational, SeverityUnknown: c.Undefined} {
		if n < 0 {
			return Finding{}, &fieldErr{"detail.finding-severity-counts." + s.String(), fmt.Errorf("negative count %d", n)}
		}
		if n > 0 {
			counts[s] = int(n)
		}
	}
	return scanSummary(SourceECR, "ECR basic scan", d.ScanStatus, d.RepositoryName, d.ImageDigest, d.ImageTags, counts, env), nil
}

// inspectorScanDetail is the detail of an "Inspector2 Scan" event: the
// first scan of an image under enhanced scanning. repository-name is the
// repository's ARN and severities with no findings are left out.
type inspectorScanDetail struct {
	ScanStatus     string         `json:"scan-status"`
	RepositoryName string         `json:"repository-name"`
	Counts         map[string]int `json:"finding-severity-counts"`
	ImageDigest    string         `json:"image-digest"`
	ImageTags      []string       `json:"image-tags"`
}

func fromInspectorScan(d inspectorScanDetail, env envelope) (Finding, *fieldErr) {
	if d.RepositoryName == "" {
		return Finding{}, missing("detail.repository-name")
	}
	if d.ImageDigest == "" {
		return Finding{}, missing("detail.image-digest")
	}
	counts := map[Severity]int{}
	for label, n := range d.Counts {
		if strings.EqualFold(label, "TOTAL") {
			continue
		}
		s, err := ParseSeverity(label)
		if err != nil {
			return Finding{}, &fieldErr{"detail.finding-severity-counts." + label, err}
		}
		if n < 0 {
			return Finding{}, &fieldErr{"detail.finding-severity-counts." + label, fmt.Errorf("negative count %d", n)}
		}
		if n > 0 {
			counts[s] += n
		}
	}
	f := scanSummary(SourceInspector, "Inspector scan", d.ScanStatus, repositoryName(d.RepositoryName), d.ImageDigest, d.ImageTags, counts, env)
	if strings.HasPrefix(d.RepositoryName, "arn:") {
		f.Resource.ID = d.RepositoryName + "/" + d.ImageDigest
	}
	return f, nil
}

func scanSummary(source, scanner, status, repo, digest string, tags []string, counts map[Severity]int, env envelope) Finding {
	f := Finding{
		ID:     source + "-scan:" + repo + "@" + digest,
		Source: source,
		Type:   "IMAGE_SCAN_SUMMARY",
		Status: status,
		Resource: Resource{
			Type: "AWS_ECR_CONTAINER_IMAGE", Repository: repo, ImageDigest: digest, ImageTags: tags,
			Account: env.Account, Region: env.Region,
			ID: fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/%s", env.Region, env.Account, repo, digest),
		},
		Counts:    counts,
		FirstSeen: env.Time,
		LastSeen:  env.Time,
	}
	f.Severity = highestCounted(counts)
	total := 0
	for _, n := range counts {
		total += n
	}
	f.Title = fmt.Sprintf("%s of %s found %s (%s)", scanner, repo, notify.Count(total, "vulnerability", "vulnerabilities"), f.CountsText())
	return f
}

// FromECRFinding normalises one finding of ECR basic scanning as
// DescribeImageScanFindings returns it.
func FromECRFinding(x ecrtypes.ImageScanFinding, repo, digest string) Finding {
	f := Finding{
		ID:          deref(x.Name),
		Source:      SourceECR,
		Type:        "PACKAGE_VULNERABILITY",
		Title:       deref(x.Name),
		Description: deref(x.Description),
		Resource:    Resource{Type: "AWS_ECR_CONTAINER_IMAGE", Repository: repo, ImageDigest: digest},
	}
	f.Severity, _ = ParseSeverity(string(x.Severity))
	if f.ID != "" {
		f.Vulnerabilities = []string{f.ID}
	}
	f.RemediationURL = deref(x.Uri)
	var pkg, ver string
	for _, a := range x.Attributes {
		switch deref(a.Key) {
		case "CVSS3_SCORE", "CVSS2_SCORE":
			var v float64
			if _, err := fmt.Sscanf(deref(a.Value), "%g", &v); err == nil && v > f.CVSS {
				f.CVSS = v
			}
		case "package_name":
			pkg = deref(a.Value)
		case "package_version":
			ver = deref(a.Value)
		}
	}
	if pkg != "" {
		f.Packages = []string{strings.TrimSpace(pkg + " " + ver)}
		f.Title = strings.TrimSpace(f.Title + " - " + pkg)
	}
	return f
}

// FromECREnhancedFinding normalises one Inspector finding as ECR's
// DescribeImageScanFindings returns it when enhanced scanning is on.
func FromECREnhancedFinding(x ecrtypes.EnhancedImageScanFinding, repo, digest string) Finding {
	f := Finding{
		ID:               deref(x.FindingArn),
		Source:           SourceInspector,
		Type:             deref(x.Type),
		Title:            deref(x.Title),
		Description:      deref(x.Description),
		InspectorScore:   x.Score,
		ExploitAvailable: yes(deref(x.ExploitAvailable)),
		FixAvailable:     yes(deref(x.FixAvailable)),
		Status:           deref(x.Status),
		Resource:         Resource{Type: "AWS_ECR_CONTAINER_IMAGE", Repository: repo, ImageDigest: digest, Account: deref(x.AwsAccountId)},
	}
	f.Severity, _ = ParseSeverity(deref(x.Severity))
	if x.FirstObservedAt != nil {
		f.FirstSeen = x.FirstObservedAt.UTC()
	}
	if x.LastObservedAt != nil {
		f.LastSeen = x.LastObservedAt.UTC()
	}
	if d := x.PackageVulnerabilityDetails; d != nil {
		if id := deref(d.VulnerabilityId); id != "" {
			f.Vulnerabilities = []string{id}
		}
		for _, c := range d.Cvss {
			if c.BaseScore > f.CVSS {
				f.CVSS = c.BaseScore
			}
		}
		for _, p := range d.VulnerablePackages {
			f.Packages = append(f.Packages, packageText(deref(p.Name), deref(p.Version), deref(p.FixedInVersion)))
		}
	}
	if r := x.Remediation; r != nil && r.Recommendation != nil {
		f.Remediation = deref(r.Recommendation.Text)
		f.RemediationURL = deref(r.Recommendation.Url)
	}
	if x.Score == 0 && x.ScoreDetails != nil && x.ScoreDetails.Cvss != nil {
		f.InspectorScore = x.ScoreDetails.Cvss.Score
	}
	return f
}

func packageText(name, version, fixed string) string {
	s := strings.TrimSpace(name + " " + version)
	if fixed != "" && !strings.EqualFold(fixed, "NotAvailable") {
		s += " (fixed in " + fixed + ")"
	}
	return s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
