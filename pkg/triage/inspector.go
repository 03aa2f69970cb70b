package triage

import (
	"cmp"
	"strings"

	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
)

// InspectorFinding is the detail of an "Inspector2 Finding" event: the
// Inspector finding, with the field names of the Inspector2 API and the
// event's own timestamp format ("Mar 22, 2022, 10:43:11 PM").
type InspectorFinding struct {
	AWSAccountID          string  `json:"awsAccountId"`
	Description           string  `json:"description"`
	ExploitAvailable      string  `json:"exploitAvailable"`
	FindingArn            string  `json:"findingArn"`
	FirstObservedAt       string  `json:"firstObservedAt"`
	FixAvailable          string  `json:"fixAvailable"`
	InspectorScore        float64 `json:"inspectorScore"`
	LastObservedAt        string  `json:"lastObservedAt"`
	Severity              string  `json:"severity"`
	Status                string  `json:"status"`
	Title                 string  `json:"title"`
	Type                  string  `json:"type"`
	UpdatedAt             string  `json:"updatedAt"`
	ExploitabilityDetails struct {
		LastKnownExploitAt string `json:"lastKnownExploitAt"`
	} `json:"exploitabilityDetails"`
	Epss struct {
		Score float64 `json:"score"`
	} `json:"epss"`
	PackageVulnerabilityDetails struct {
		VulnerabilityID string `json:"vulnerabilityId"`
		Source          string `json:"source"`
		SourceURL       string `json:"sourceUrl"`
		Cvss            []struct {
			BaseScore float64 `json:"baseScore"`
			Version   string  `json:"version"`
		} `json:"cvss"`
		VulnerablePackages []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			FixedInVersion string `json:"fixedInVersion"`
			Remediation    string `json:"remediation"`
		} `json:"vulnerablePackages"`
	} `json:"packageVulnerabilityDetails"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"text"`
			URL  string `json:"Url"`
		} `json:"recommendation"`
	} `json:"remediation"`
	Resources []struct {
		ID      string            `json:"id"`
		Type    string            `json:"type"`
		Region  string            `json:"region"`
		Tags    map[string]string `json:"tags"`
		Details struct {
			AwsEcrContainerImage *struct {
				RepositoryName string   `json:"repositoryName"`
				ImageHash      string   `json:"imageHash"`
				ImageTags      []string `json:"imageTags"`
				Registry       string   `json:"registry"`
			} `json:"awsEcrContainerImage"`
			AwsEc2Instance *struct {
				ImageID string `json:"imageId"`
			} `json:"awsEc2Instance"`
		} `json:"details"`
	} `json:"resources"`
}

func (d InspectorFinding) finding(env envelope) (Finding, *fieldErr) {
	if d.FindingArn == "" {
		return Finding{}, missing("detail.findingArn")
	}
	sev, err := ParseSeverity(d.Severity)
	if err != nil {
		return Finding{}, &fieldErr{"detail.severity", err}
	}
	f := Finding{
		ID:               d.FindingArn,
		Source:           SourceInspector,
		Type:             d.Type,
		Title:            d.Title,
		Description:      d.Description,
		Severity:         sev,
		InspectorScore:   d.InspectorScore,
		EPSS:             d.Epss.Score,
		ExploitAvailable: yes(d.ExploitAvailable),
		KnownExploited:   d.ExploitabilityDetails.LastKnownExploitAt != "",
		FixAvailable:     yes(d.FixAvailable),
		FirstSeen:        parseTime(d.FirstObservedAt),
		LastSeen:         parseTime(d.LastObservedAt),
		Status:           d.Status,
		Remediation:      d.Remediation.Recommendation.Text,
		RemediationURL:   d.Remediation.Recommendation.URL,
	}
	p := d.PackageVulnerabilityDetails
	if p.VulnerabilityID != "" {
		f.Vulnerabilities = []string{p.VulnerabilityID}
	}
	if f.RemediationURL == "" {
		f.RemediationURL = p.SourceURL
	}
	for _, c := range p.Cvss {
		f.CVSS = max(f.CVSS, c.BaseScore)
	}
	for _, v := range p.VulnerablePackages {
		f.Packages = append(f.Packages, packageText(v.Name, v.Version, v.FixedInVersion))
	}
	if len(d.Resources) == 0 {
		return Finding{}, missing("detail.resources")
	}
	r := d.Resources[0]
	f.Resource = Resource{Type: r.Type, ID: r.ID, Region: cmp.Or(r.Region, env.Region), Account: cmp.Or(d.AWSAccountID, env.Account), Tags: r.Tags}
	if img := r.Details.AwsEcrContainerImage; img != nil {
		f.Resource.Repository = img.RepositoryName
		f.Resource.ImageDigest = img.ImageHash
		f.Resource.ImageTags = img.ImageTags
	}
	if r.Type == "AWS_EC2_INSTANCE" {
		f.Resource.InstanceID = r.ID
	}
	if f.Resource.Repository == "" {
		f.Resource.Repository, f.Resource.ImageDigest = parseECRImageARN(r.ID)
	}
	if f.Title == "" {
		f.Title = strings.Join(f.Vulnerabilities, ", ")
	}
	return f, nil
}

// FromInspector2 normalises a finding as Inspector2's ListFindings
// returns it.
func FromInspector2(x i2types.Finding) Finding {
	f := Finding{
		ID:               deref(x.FindingArn),
		Source:           SourceInspector,
		Type:             string(x.Type),
		Title:            deref(x.Title),
		Description:      deref(x.Description),
		ExploitAvailable: x.ExploitAvailable == i2types.ExploitAvailableYes,
		FixAvailable:     x.FixAvailable == i2types.FixAvailableYes || x.FixAvailable == i2types.FixAvailablePartial,
		Status:           string(x.Status),
	}
	f.Severity, _ = ParseSeverity(string(x.Severity))
	if x.InspectorScore != nil {
		f.InspectorScore = *x.InspectorScore
	}
	if x.Epss != nil {
		f.EPSS = x.Epss.Score
	}
	if x.ExploitabilityDetails != nil && x.ExploitabilityDetails.LastKnownExploitAt != nil {
		f.KnownExploited = true
	}
	if x.FirstObservedAt != nil {
		f.FirstSeen = x.FirstObservedAt.UTC()
	}
	if x.LastObservedAt != nil {
		f.LastSeen = x.LastObservedAt.UTC()
	}
	if p := x.PackageVulnerabilityDetails; p != nil {
		if id := deref(p.VulnerabilityId); id != "" {
			f.Vulnerabilities = []string{id}
		}
		for _, c := range p.Cvss {
			if c.BaseScore != nil {
				f.CVSS = max(f.CVSS, *c.BaseScore)
			}
		}
		for _, v := range p.VulnerablePackages {
			f.Packages = append(f.Packages, packageText(deref(v.Name), deref(v.Version), deref(v.FixedInVersion)))
		}
		f.RemediationURL = deref(p.SourceUrl)
	}
	if r := x.Remediation; r != nil && r.Recommendation != nil {
		f.Remediation = deref(r.Recommendation.Text)
		if u := deref(r.Recommendation.Url); u != "" {
			f.RemediationURL = u
		}
	}
	if len(x.Resources) > 0 {
		r := x.Resources[0]
		f.Resource = Resource{Type: string(r.Type), ID: deref(r.Id), Region: deref(r.Region), Account: deref(x.AwsAccountId), Tags: r.Tags}
		if r.Details != nil && r.Details.AwsEcrContainerImage != nil {
			img := r.Details.AwsEcrContainerImage
			f.Resource.Repository = deref(img.RepositoryName)
			f.Resource.ImageDigest = deref(img.ImageHash)
			f.Resource.ImageTags = img.ImageTags
		}
		if r.Type == i2types.ResourceTypeAwsEc2Instance {
			f.Resource.InstanceID = deref(r.Id)
		}
	}
	return f
}
