package triage

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// guardDutyFinding is the detail of a "GuardDuty Finding" event: the
// GuardDuty finding with its numeric severity (0.0–10.0).
type guardDutyFinding struct {
	AccountID   string          `json:"accountId"`
	Region      string          `json:"region"`
	ID          string          `json:"id"`
	Arn         string          `json:"arn"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Severity    json.RawMessage `json:"severity"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
	Resource    struct {
		ResourceType    string `json:"resourceType"`
		InstanceDetails *struct {
			InstanceID string `json:"instanceId"`
			Tags       []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"tags"`
		} `json:"instanceDetails"`
		AccessKeyDetails *struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
		} `json:"accessKeyDetails"`
		EksClusterDetails *struct {
			Name string `json:"name"`
		} `json:"eksClusterDetails"`
	} `json:"resource"`
	Service struct {
		Archived       bool   `json:"archived"`
		Count          int    `json:"count"`
		EventFirstSeen string `json:"eventFirstSeen"`
		EventLastSeen  string `json:"eventLastSeen"`
	} `json:"service"`
}

func (d guardDutyFinding) finding(env envelope) (Finding, *fieldErr) {
	if d.ID == "" {
		return Finding{}, missing("detail.id")
	}
	if len(d.Severity) == 0 || string(d.Severity) == "null" {
		return Finding{}, missing("detail.severity")
	}
	var v float64
	if err := json.Unmarshal(d.Severity, &v); err != nil || math.IsNaN(v) || v < 0 || v > 10 {
		return Finding{}, &fieldErr{"detail.severity", fmt.Errorf("%s is not a GuardDuty severity (a number from 0.0 to 10.0)", truncate(string(d.Severity), 40))}
	}
	f := Finding{
		ID:           cmp.Or(d.Arn, d.ID),
		Source:       SourceGuardDuty,
		Type:         d.Type,
		Title:        cmp.Or(d.Title, d.Type),
		Description:  d.Description,
		Severity:     GuardDutySeverity(v),
		SourceScore:  v,
		ActiveThreat: true,
		FirstSeen:    parseTime(cmp.Or(d.Service.EventFirstSeen, d.CreatedAt)),
		LastSeen:     parseTime(cmp.Or(d.Service.EventLastSeen, d.UpdatedAt)),
		Resource: Resource{
			Type:    d.Resource.ResourceType,
			Account: cmp.Or(d.AccountID, env.Account),
			Region:  cmp.Or(d.Region, env.Region),
		},
		RemediationURL: "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-active.html",
	}
	if d.Service.Archived {
		f.Status = "ARCHIVED"
	}
	if f.Title == "" {
		return Finding{}, &fieldErr{"detail.type", errors.New("missing (and no title)")}
	}
	switch r := d.Resource; {
	case r.InstanceDetails != nil:
		f.Resource.InstanceID = r.InstanceDetails.InstanceID
		f.Resource.ID = r.InstanceDetails.InstanceID
		if len(r.InstanceDetails.Tags) > 0 {
			f.Resource.Tags = make(map[string]string, len(r.InstanceDetails.Tags))
			for _, t := range r.InstanceDetails.Tags {
				f.Resource.Tags[t.Key] = t.Value
			}
		}
	case r.AccessKeyDetails != nil:
		f.Resource.ID = cmp.Or(r.AccessKeyDetails.UserName, r.AccessKeyDetails.AccessKeyID)
	case r.EksClusterDetails != nil:
		f.Resource.ID = r.EksClusterDetails.Name
	}
	return f, nil
}
