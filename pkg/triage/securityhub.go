package triage

import (
	"cmp"
	"errors"
	"strconv"
	"strings"
)

// asffFinding is one finding of a "Security Hub Findings - Imported"
// event, in the AWS Security Finding Format (the fields triage reads).
type asffFinding struct {
	ID              string   `json:"Id"`
	ProductName     string   `json:"ProductName"`
	ProductArn      string   `json:"ProductArn"`
	AwsAccountID    string   `json:"AwsAccountId"`
	Region          string   `json:"Region"`
	Types           []string `json:"Types"`
	Title           string   `json:"Title"`
	Description     string   `json:"Description"`
	FirstObservedAt string   `json:"FirstObservedAt"`
	LastObservedAt  string   `json:"LastObservedAt"`
	CreatedAt       string   `json:"CreatedAt"`
	UpdatedAt       string   `json:"UpdatedAt"`
	RecordState     string   `json:"RecordState"`
	Severity        struct {
		Label      string   `json:"Label"`
		Normalized *float64 `json:"Normalized"`
		Original   string   `json:"Original"`
	} `json:"Severity"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"Text"`
			URL  string `json:"Url"`
		} `json:"Recommendation"`
	} `json:"Remediation"`
	Resources []struct {
		Type   string            `json:"Type"`
		ID     string            `json:"Id"`
		Region string            `json:"Region"`
		Tags   map[string]string `json:"Tags"`
	} `json:"Resources"`
	Compliance struct {
		Status              string   `json:"Status"`
		SecurityControlID   string   `json:"SecurityControlId"`
		RelatedRequirements []string `json:"RelatedRequirements"`
	} `json:"Compliance"`
	Vulnerabilities []struct {
		ID   string `json:"Id"`
		Cvss []struct {
			BaseScore float64 `json:"BaseScore"`
		} `json:"Cvss"`
		ExploitAvailable   string  `json:"ExploitAvailable"`
		FixAvailable       string  `json:"FixAvailable"`
		EpssScore          float64 `json:"EpssScore"`
		LastKnownExploitAt string  `json:"LastKnownExploitAt"`
		VulnerablePackages []struct {
			Name           string `json:"Name"`
			Version        string `json:"Version"`
			FixedInVersion string `json:"FixedInVersion"`
		} `json:"VulnerablePackages"`
	} `json:"Vulnerabilities"`
	Workflow struct {
		Status string `json:"Status"`
	} `json:"Workflow"`
}

func (d asffFinding) finding(env envelope) (Finding, *fieldErr) {
	if d.ID == "" {
		return Finding{}, missing("Id")
	}
	f := Finding{
		ID:             d.ID,
		Source:         SourceSecurityHub,
		Product:        d.ProductName,
		Title:          d.Title,
		Description:    d.Description,
		FirstSeen:      parseTime(cmp.Or(d.FirstObservedAt, d.CreatedAt)),
		LastSeen:       parseTime(cmp.Or(d.LastObservedAt, d.UpdatedAt)),
		Remediation:    d.Remediation.Recommendation.Text,
		RemediationURL: d.Remediation.Recommendation.URL,
		Status:         d.Workflow.Status,
	}
	if len(d.Types) > 0 {
		f.Type = d.Types[0]
	}
	if strings.EqualFold(d.RecordState, "ARCHIVED") {
		f.Status = "ARCHIVED"
	}
	switch {
	case d.Severity.Label != "":
		s, err := ParseSeverity(d.Severity.Label)
		if err != nil {
			return Finding{}, &fieldErr{"Severity.Label", err}
		}
		f.Severity = s
	case d.Severity.Normalized != nil:
		if n := *d.Severity.Normalized; n < 0 || n > 100 {
			return Finding{}, &fieldErr{"Severity.Normalized", errors.New("must be 0–100")}
		}
		f.Severity = NormalizedSeverity(*d.Severity.Normalized)
	default:
		return Finding{}, missing("Severity.Label")
	}
	if d.Compliance.Status == "FAILED" {
		if d.Compliance.SecurityControlID != "" {
			f.Compliance = append(f.Compliance, d.Compliance.SecurityControlID)
		}
		f.Compliance = append(f.Compliance, d.Compliance.RelatedRequirements...)
		if len(f.Compliance) == 0 {
			f.Compliance = []string{"compliance check FAILED"}
		}
	}
	for _, v := range d.Vulnerabilities {
		if v.ID != "" {
			f.Vulnerabilities = append(f.Vulnerabilities, v.ID)
		}
		for _, c := range v.Cvss {
			f.CVSS = max(f.CVSS, c.BaseScore)
		}
		f.EPSS = max(f.EPSS, v.EpssScore)
		f.ExploitAvailable = f.ExploitAvailable || yes(v.ExploitAvailable)
		f.KnownExploited = f.KnownExploited || v.LastKnownExploitAt != ""
		f.FixAvailable = f.FixAvailable || yes(v.FixAvailable)
		for _, p := range v.VulnerablePackages {
			f.Packages = append(f.Packages, packageText(p.Name, p.Version, p.FixedInVersion))
		}
	}
	if len(d.Resources) == 0 {
		return Finding{}, missing("Resources")
	}
	r := d.Resources[0]
	f.Resource = Resource{Type: r.Type, ID: r.ID, Region: cmp.Or(r.Region, d.Region, env.Region), Account: cmp.Or(d.AwsAccountID, env.Account), Tags: r.Tags}
	fillResource(&f.Resource)
	if f.Title == "" {
		return Finding{}, missing("Title")
	}
	return f, nil
}

// ocsfFinding is one finding of a "Findings Imported V2" event: Security
// Hub's OCSF findings (vulnerability, compliance and detection classes;
// the fields triage reads).
type ocsfFinding struct {
	ClassUID    int    `json:"class_uid"`
	ClassName   string `json:"class_name"`
	Severity    string `json:"severity"`
	SeverityID  *int   `json:"severity_id"`
	Status      string `json:"status"`
	FindingInfo struct {
		UID            string   `json:"uid"`
		Title          string   `json:"title"`
		Desc           string   `json:"desc"`
		Types          []string `json:"types"`
		FirstSeenTime  string   `json:"first_seen_time_dt"`
		LastSeenTime   string   `json:"last_seen_time_dt"`
		CreatedTimeDT  string   `json:"created_time_dt"`
		ModifiedTimeDT string   `json:"modified_time_dt"`
	} `json:"finding_info"`
	Metadata struct {
		Product struct {
			Name string `json:"name"`
		} `json:"product"`
	} `json:"metadata"`
	Cloud struct {
		Region  string `json:"region"`
		Account struct {
			UID string `json:"uid"`
		} `json:"account"`
	} `json:"cloud"`
	Resources []struct {
		UID    string `json:"uid"`
		Type   string `json:"type"`
		Region string `json:"region"`
		Tags   []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"tags"`
	} `json:"resources"`
	Compliance *struct {
		Status       string   `json:"status"`
		Control      string   `json:"control"`
		Standards    []string `json:"standards"`
		Requirements []string `json:"requirements"`
	} `json:"compliance"`
	Remediation struct {
		Desc       string   `json:"desc"`
		References []string `json:"references"`
	} `json:"remediation"`
	Vulnerabilities []struct {
		IsExploitAvailable *bool  `json:"is_exploit_available"`
		IsFixAvailable     *bool  `json:"is_fix_available"`
		ExploitLastSeen    string `json:"exploit_last_seen_time_dt"`
		CVE                *struct {
			UID  string `json:"uid"`
			CVSS []struct {
				BaseScore float64 `json:"base_score"`
			} `json:"cvss"`
			EPSS *struct {
				Score any `json:"score"` // OCSF has it as a string; some producers send a number
			} `json:"epss"`
		} `json:"cve"`
		AffectedPackages []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			FixedInVersion string `json:"fixed_in_version"`
		} `json:"affected_packages"`
	} `json:"vulnerabilities"`
}

func (d ocsfFinding) finding(env envelope) (Finding, *fieldErr) {
	fi := d.FindingInfo
	if fi.UID == "" {
		return Finding{}, missing("finding_info.uid")
	}
	if fi.Title == "" {
		return Finding{}, missing("finding_info.title")
	}
	f := Finding{
		ID:          fi.UID,
		Source:      SourceSecurityHub,
		Product:     d.Metadata.Product.Name,
		Title:       fi.Title,
		Description: fi.Desc,
		FirstSeen:   parseTime(cmp.Or(fi.FirstSeenTime, fi.CreatedTimeDT)),
		LastSeen:    parseTime(cmp.Or(fi.LastSeenTime, fi.ModifiedTimeDT)),
		Status:      d.Status,
		Remediation: d.Remediation.Desc,
		Type:        d.ClassName,
	}
	if len(fi.Types) > 0 {
		f.Type = fi.Types[0]
	}
	if len(d.Remediation.References) > 0 {
		f.RemediationURL = d.Remediation.References[0]
	}
	switch {
	case d.SeverityID != nil:
		f.Severity = OCSFSeverity(*d.SeverityID)
	case d.Severity != "":
		s, err := ParseSeverity(d.Severity)
		if err != nil {
			return Finding{}, &fieldErr{"severity", err}
		}
		f.Severity = s
	default:
		return Finding{}, missing("severity_id")
	}
	if d.ClassUID == 2004 { // Detection Finding: observed activity
		f.ActiveThreat = true
	}
	if c := d.Compliance; c != nil && (strings.EqualFold(c.Status, "fail") || strings.EqualFold(c.Status, "failed")) {
		if c.Control != "" {
			f.Compliance = append(f.Compliance, c.Control)
		}
		f.Compliance = append(f.Compliance, c.Requirements...)
		if len(f.Compliance) == 0 {
			f.Compliance = append(f.Compliance, c.Standards...)
		}
		if len(f.Compliance) == 0 {
			f.Compliance = []string{"compliance check failed"}
		}
	}
	for _, v := range d.Vulnerabilities {
		if v.IsExploitAvailable != nil && *v.IsExploitAvailable {
			f.ExploitAvailable = true
		}
		if v.IsFixAvailable != nil && *v.IsFixAvailable {
			f.FixAvailable = true
		}
		if v.ExploitLastSeen != "" {
			f.KnownExploited = true
		}
		if c := v.CVE; c != nil {
			if c.UID != "" {
				f.Vulnerabilities = append(f.Vulnerabilities, c.UID)
			}
			for _, s := range c.CVSS {
				f.CVSS = max(f.CVSS, s.BaseScore)
			}
			if c.EPSS != nil {
				f.EPSS = max(f.EPSS, epssValue(c.EPSS.Score))
			}
		}
		for _, p := range v.AffectedPackages {
			f.Packages = append(f.Packages, packageText(p.Name, p.Version, p.FixedInVersion))
		}
	}
	if len(d.Resources) == 0 {
		return Finding{}, missing("resources")
	}
	r := d.Resources[0]
	f.Resource = Resource{Type: r.Type, ID: r.UID, Region: cmp.Or(r.Region, d.Cloud.Region, env.Region), Account: cmp.Or(d.Cloud.Account.UID, env.Account)}
	if len(r.Tags) > 0 {
		f.Resource.Tags = make(map[string]string, len(r.Tags))
		for _, t := range r.Tags {
			f.Resource.Tags[t.Name] = t.Value
		}
	}
	fillResource(&f.Resource)
	return f, nil
}

func epssValue(v any) float64 {
	var x float64
	switch t := v.(type) {
	case float64:
		x = t
	case string:
		var err error
		if x, err = strconv.ParseFloat(strings.TrimSpace(t), 64); err != nil {
			return 0
		}
	}
	if x < 0 || x > 1 {
		return 0
	}
	return x
}

// fillResource derives the image or instance from the resource id.
func fillResource(r *Resource) {
	if repo, digest := parseECRImageARN(r.ID); repo != "" {
		r.Repository, r.ImageDigest = repo, digest
		return
	}
	if i := strings.LastIndex(r.ID, ":instance/"); i >= 0 {
		r.InstanceID = r.ID[i+len(":instance/"):]
	} else if strings.HasPrefix(r.ID, "i-") {
		r.InstanceID = r.ID
	}
}
