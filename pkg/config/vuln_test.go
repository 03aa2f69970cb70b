package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/triage"
)

func TestLoadRespondVuln(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Vuln
		wantErr string
	}{
		{"defaults", nil, Vuln{Enabled: true, Concurrency: 16, PublishBatch: true, Tickets: TicketsOff, TicketMin: triage.P2, DigestThreshold: 5}, ""},
		{"sequential, no batch, OpsCenter from P3", map[string]string{EnvTriageConcurrency: "1", EnvPublishBatch: "false", EnvTickets: "opscenter", EnvTicketMinPriority: "P3", EnvDigestThreshold: "0"},
			Vuln{Enabled: true, Concurrency: 1, PublishBatch: false, Tickets: TicketsOpsCenter, TicketMin: triage.P3, DigestThreshold: 0}, ""},
		{"Jira without its site, secret and project refused", map[string]string{EnvTickets: "jira"}, Vuln{}, EnvJiraSecret},
		{"Jira over http refused", map[string]string{EnvTickets: "jira", EnvJiraURL: "http://example.atlassian.net", EnvJiraSecret: "s", EnvJiraProject: "SEC"}, Vuln{}, EnvJiraURL},
		{"Jira field not a custom field refused", map[string]string{EnvTickets: "jira", EnvJiraURL: "https://example.atlassian.net", EnvJiraSecret: "s", EnvJiraProject: "SEC", EnvJiraFields: "riskScore=Risk"}, Vuln{}, EnvJiraFields},
		{"concurrency 0 refused", map[string]string{EnvTriageConcurrency: "0"}, Vuln{}, EnvTriageConcurrency},
		{"unknown ticket system refused", map[string]string{EnvTickets: "servicenow"}, Vuln{}, EnvTickets},
		{"report topic must be an ARN", map[string]string{EnvReportTopic: "weekly"}, Vuln{}, EnvReportTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadRespond(respondEnv(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadRespond(%v) = %v; want an error naming %s", tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadRespond(%v) = %v; want nil", tt.env, err)
			}
			if d := cmp.Diff(tt.want, c.Vuln); d != "" {
				t.Errorf("LoadRespond(%v).Vuln (-want +got):\n%s", tt.env, d)
			}
		})
	}
}

// TestReadmeDocumentsVulnSettings: every vulnerability-management
// variable is named in README's "Vulnerability management" section.
func TestReadmeDocumentsVulnSettings(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Vulnerability management\n")
	if i < 0 {
		t.Fatal(`README.md has no "## Vulnerability management" section`)
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	for _, env := range []string{EnvVulnManagement, EnvTriageConcurrency, EnvPublishBatch, EnvTickets, EnvTicketMinPriority, EnvTicketNotifyTopic, EnvDigestThreshold, EnvReportTopic,
		EnvJiraURL, EnvJiraSecret, EnvJiraProject, EnvJiraIssueType, EnvJiraPriorities, EnvJiraFields, EnvJiraDoneTransition} {
		if !strings.Contains(s, "`"+env) {
			t.Errorf("README's Vulnerability management section does not name %s", env)
		}
	}
}

func TestLoadRespondJira(t *testing.T) {
	c, err := LoadRespond(respondEnv(map[string]string{
		EnvTickets: "jira", EnvJiraURL: "https://example.atlassian.net", EnvJiraSecret: "postdeploy/jira", EnvJiraProject: "SEC",
		EnvJiraFields: "riskScore=customfield_10050", EnvJiraPriorities: "P1=Blocker,P2=Critical",
	}))
	if err != nil {
		t.Fatalf("LoadRespond(jira) = %v; want nil", err)
	}
	j := c.Vuln.Jira
	if j.IssueType != "Bug" || j.DoneTransition != "Done" || j.Priorities["P1"] != "Blocker" || j.Fields["riskScore"] != "customfield_10050" {
		t.Errorf("LoadRespond(jira).Vuln.Jira = %+v; want Bug, Done, P1=Blocker, riskScore=customfield_10050", j)
	}
}
