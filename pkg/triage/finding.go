package triage

import (
	"fmt"
	"strings"
	"time"
)

// Severity is a finding's severity class, as the source service rated it,
// mapped onto one scale.
type Severity int

// The severity classes, least to most severe. Untriaged is Inspector's
// class for a vulnerability its vendor has not rated yet; it scores like
// Medium until it is rated.
const (
	SeverityUnknown Severity = iota
	Informational
	Low
	Medium
	Untriaged
	High
	Critical
)

var severityNames = map[Severity]string{
	SeverityUnknown: "UNKNOWN",
	Informational:   "INFORMATIONAL",
	Low:             "LOW",
	Medium:          "MEDIUM",
	Untriaged:       "UNTRIAGED",
	High:            "HIGH",
	Critical:        "CRITICAL",
}

// String returns the class as the AWS services spell it, e.g. "HIGH".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText encodes the class by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads a severity label as ECR, Inspector, Security Hub
// (ASFF) and OCSF spell them, case-insensitively: INFORMATIONAL (or INFO),
// LOW, MEDIUM, HIGH, CRITICAL, UNTRIAGED, UNDEFINED.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "INFORMATIONAL", "INFO":
		return Informational, nil
	case "LOW":
		return Low, nil
	case "MEDIUM", "MODERATE":
		return Medium, nil
	case "HIGH":
		return High, nil
	case "CRITICAL", "FATAL":
		return Critical, nil
	case "UNTRIAGED":
		return Untriaged, nil
	case "UNDEFINED", "UNKNOWN", "OTHER":
		return SeverityUnknown, nil
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL or UNTRIAGED)", s)
}

// GuardDutySeverity maps GuardDuty's numeric severity onto a class, using
// the ranges GuardDuty documents: 1.0–3.9 Low, 4.0–6.9 Medium, 7.0–8.9
// High, 9.0–10.0 Critical. Below 1 is Informational.
func GuardDutySeverity(v float64) Severity {
	switch {
	case v >= 9:
		return Critical
	case v >= 7:
		return High
	case v >= 4:
		return Medium
	case v >= 1:
		return Low
	}
	return Informational
}

// NormalizedSeverity maps ASFF's deprecated Normalized score (0–100) onto
// a class as Security Hub does: 0 Informational, 1–39 Low, 40–69 Medium,
// 70–89 High, 90–100 Critical.
func NormalizedSeverity(v float64) Severity {
	switch {
	case v >= 90:
		return Critical
	case v >= 70:
		return High
	case v >= 40:
		return Medium
	case v >= 1:
		return Low
	}
	return Informational
}

// OCSFSeverity maps OCSF's severity_id onto a class: 1 Informational,
// 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal (as Critical); 0 Unknown
// and 99 Other are Unknown.
func OCSFSeverity(id int) Severity {
	switch id {
	case 1:
		return Informational
	case 2:
		return Low
	case 3:
		return Medium
	case 4:
		return High
	case 5, 6:
		return Critical
	}
	return SeverityUnknown
}

// The sources a Finding can come from.
const (
	SourceECR         = "ecr"
	SourceInspector   = "inspector2"
	SourceGuardDuty   = "guardduty"
	SourceSecurityHub = "securityhub"
)

// Resource is what a finding is about.
type Resource struct {
	// Type is the resource type as the source names it, e.g.
	// AWS_ECR_CONTAINER_IMAGE, AwsEc2Instance, Instance.
	Type string `json:"type,omitempty"`
	// ID is the resource's ARN or id.
	ID          string   `json:"id,omitempty"`
	Repository  string   `json:"repository,omitempty"`
	ImageDigest string   `json:"imageDigest,omitempty"`
	ImageTags   []string `json:"imageTags,omitempty"`
	InstanceID  string   `json:"instanceId,omitempty"`
	Account     string   `json:"account,omitempty"`
	Region      string   `json:"region,omitempty"`
	// Tags are the resource's tags where the source reports them; the
	// asset-criticality tag is read from here.
	Tags map[string]string `json:"tags,omitempty"`
}

// Name returns the most readable identifier of the resource.
func (r Resource) Name() string {
	switch {
	case r.Repository != "" && r.ImageDigest != "":
		return r.Repository + "@" + r.ImageDigest
	case r.Repository != "":
		return r.Repository
	case r.InstanceID != "":
		return r.InstanceID
	}
	return r.ID
}

// Finding is one security finding, normalised across ECR basic scanning,
// Inspector2, GuardDuty and Security Hub (ASFF and OCSF).
type Finding struct {
	// ID is the source's id for the finding (an ARN, a GuardDuty id, an
	// ASFF Id, a CVE for ECR basic findings).
	ID string `json:"id"`
	// Source is one of the Source constants.
	Source string `json:"source"`
	// Product is the product that produced it when the source is an
	// aggregator (Security Hub), e.g. "Inspector".
	Product     string   `json:"product,omitempty"`
	Type        string   `json:"type,omitempty"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    Severity `json:"severity"`
	// CVSS is the highest CVSS base score reported (0 when none).
	CVSS float64 `json:"cvss,omitempty"`
	// InspectorScore is Inspector's environment-adjusted score (0 when none).
	InspectorScore float64 `json:"inspectorScore,omitempty"`
	// SourceScore is a numeric severity the source gave, on its own scale
	// (GuardDuty 0–10), kept for the message.
	SourceScore float64 `json:"sourceScore,omitempty"`
	// EPSS is the probability of exploitation in the next 30 days (0–1).
	EPSS float64 `json:"epss,omitempty"`
	// ExploitAvailable: public exploit code exists.
	ExploitAvailable bool `json:"exploitAvailable,omitempty"`
	// KnownExploited: the vulnerability has been exploited in the wild.
	KnownExploited bool `json:"knownExploited,omitempty"`
	// ActiveThreat: the finding is observed malicious activity (GuardDuty),
	// not a weakness that might be exploited.
	ActiveThreat bool `json:"activeThreat,omitempty"`
	// FixAvailable: a fixed version or patch exists.
	FixAvailable bool `json:"fixAvailable,omitempty"`
	// Vulnerabilities are CVE (or other) ids.
	Vulnerabilities []string `json:"vulnerabilities,omitempty"`
	// Packages are the affected packages, "name version (fixed in X)".
	Packages  []string  `json:"packages,omitempty"`
	Resource  Resource  `json:"resource"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	// Compliance lists failed compliance controls or requirements
	// (e.g. "PCI DSS 6.2", "CIS AWS 4.1").
	Compliance []string `json:"compliance,omitempty"`
	// Remediation is the source's recommendation; RemediationURL its link.
	Remediation    string `json:"remediation,omitempty"`
	RemediationURL string `json:"remediationUrl,omitempty"`
	// Counts, for summary findings (ECR basic scan, Inspector2 Scan), is
	// the number of findings per class.
	Counts map[Severity]int `json:"counts,omitempty"`
	// Status is the source's workflow state (ACTIVE, CLOSED, ARCHIVED…).
	Status string `json:"status,omitempty"`
}

// Closed reports whether the source says the finding is no longer open
// (fixed, suppressed, archived, resolved).
func (f Finding) Closed() bool {
	switch strings.ToUpper(f.Status) {
	case "CLOSED", "SUPPRESSED", "ARCHIVED", "RESOLVED", "NOTIFIED_RESOLVED":
		return true
	}
	return false
}

// CountsText renders Counts most severe first, e.g. "2 CRITICAL, 5 HIGH".
func (f Finding) CountsText() string {
	var parts []string
	for _, s := range []Severity{Critical, High, Untriaged, Medium, Low, Informational, SeverityUnknown} {
		if n := f.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// highestCounted returns the most severe class with a non-zero count.
func highestCounted(c map[Severity]int) Severity {
	best := SeverityUnknown
	for s, n := range c {
		if n > 0 && s > best {
			best = s
		}
	}
	return best
}
