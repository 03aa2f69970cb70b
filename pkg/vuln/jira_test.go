package vuln_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// fakeJira answers the five Jira Cloud REST API v3 calls with the shapes
// the API reference documents
// (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/,
// api-group-issue-search, api-group-issue-comments): basic auth with the
// account email and API token or 401; POST /rest/api/3/issue needs
// fields.project.key, fields.issuetype.name, a summary of 1–255
// characters, an Atlassian Document Format description ({"type":"doc",
// "version":1,...}) and labels without spaces, and answers 201
// {"id","key","self"}; a field error is 400 {"errorMessages":[],
// "errors":{field: message}}; PUT /issue/{key} and POST
// /issue/{key}/transitions answer 204; POST /issue/{key}/comment 201;
// POST /rest/api/3/search/jql {"issues": [...]}.
type fakeJira struct {
	mu       sync.Mutex
	issues   map[string]map[string]any // key → fields
	status   map[string]string
	comments map[string][]string
	calls    []string
}

const jiraEmail, jiraToken = "bot@example.com", "ATATT-test-token"

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	fail := func(status int, field, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		body := map[string]any{"errorMessages": []string{}, "errors": map[string]string{}}
		if field == "" {
			body["errorMessages"] = []string{msg}
		} else {
			body["errors"] = map[string]string{field: msg}
		}
		_ = json.NewEncoder(w).Encode(body)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != jiraEmail || p != jiraToken {
		fail(http.StatusUnauthorized, "", "Client must be authenticated to access this resource.")
		return
	}
	var in map[string]any
	if r.Body != nil && r.Method != http.MethodGet {
		if r.Header.Get("Content-Type") != "application/json" {
			fail(http.StatusUnsupportedMediaType, "", "Content-Type must be application/json")
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(http.StatusBadRequest, "", "invalid JSON")
			return
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/rest/api/3/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/rest/api/3/search/jql":
		jql, _ := in["jql"].(string)
		var out []any
		for k, fs := range f.issues {
			for _, l := range fs["labels"].([]any) {
				if strings.Contains(jql, fmt.Sprintf(`labels = "%s"`, l)) && l != "postdeploy" && f.status[k] != "Done" {
					out = append(out, map[string]any{"id": "1", "key": k})
				}
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issues": out})
	case r.Method == http.MethodPost && r.URL.Path == "/rest/api/3/issue":
		fs, _ := in["fields"].(map[string]any)
		proj, _ := fs["project"].(map[string]any)
		it, _ := fs["issuetype"].(map[string]any)
		summary, _ := fs["summary"].(string)
		desc, _ := fs["description"].(map[string]any)
		switch {
		case proj["key"] != "SEC":
			fail(http.StatusBadRequest, "project", "valid project is required")
			return
		case it["name"] != "Bug":
			fail(http.StatusBadRequest, "issuetype", "valid issue type is required")
			return
		case summary == "" || len([]rune(summary)) > 255:
			fail(http.StatusBadRequest, "summary", "Summary must be less than 255 characters.")
			return
		case desc["type"] != "doc" || desc["version"] != float64(1):
			fail(http.StatusBadRequest, "description", "Operation value must be an Atlassian Document.")
			return
		}
		for _, l := range fs["labels"].([]any) {
			if strings.ContainsAny(l.(string), " \t") {
				fail(http.StatusBadRequest, "labels", "The label can't contain spaces.")
				return
			}
		}
		if f.issues == nil {
			f.issues, f.status, f.comments = map[string]map[string]any{}, map[string]string{}, map[string][]string{}
		}
		key := fmt.Sprintf("SEC-%d", len(f.issues)+1)
		f.issues[key] = fs
		f.status[key] = "To Do"
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "1000" + key[4:], "key": key, "self": "https://example.atlassian.net/rest/api/3/issue/" + key})
	case len(parts) >= 2 && parts[0] == "issue" && f.issues[parts[1]] == nil:
		fail(http.StatusNotFound, "", "Issue does not exist or you do not have permission to see it.")
	case r.Method == http.MethodPut && len(parts) == 2:
		for k, v := range in["fields"].(map[string]any) {
			f.issues[parts[1]][k] = v
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "comment":
		body, _ := in["body"].(map[string]any)
		if body["type"] != "doc" {
			fail(http.StatusBadRequest, "body", "Comment body must be an Atlassian Document.")
			return
		}
		b, _ := json.Marshal(body)
		f.comments[parts[1]] = append(f.comments[parts[1]], string(b))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"10000"}`))
	case r.Method == http.MethodGet && len(parts) == 3 && parts[2] == "transitions":
		_, _ = w.Write([]byte(`{"transitions":[{"id":"11","name":"To Do"},{"id":"21","name":"In Progress"},{"id":"31","name":"Done"}]}`))
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "transitions":
		tr, _ := in["transition"].(map[string]any)
		if tr["id"] != "31" {
			fail(http.StatusBadRequest, "transition", "Transition id is not valid for this issue.")
			return
		}
		f.status[parts[1]] = "Done"
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusNotFound, "", "no such resource")
	}
}

type fakeSecrets struct {
	value string
	reads int
}

func (f *fakeSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.reads++
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

func newJira(t *testing.T, secret string) (*vuln.Jira, *fakeJira, *fakeSecrets) {
	t.Helper()
	fj := &fakeJira{}
	srv := httptest.NewServer(fj)
	t.Cleanup(srv.Close)
	sec := &fakeSecrets{value: secret}
	return &vuln.Jira{
		BaseURL: srv.URL, Project: "SEC", IssueType: "Bug", Secret: "postdeploy/jira", Secrets: sec, HTTP: srv.Client(),
		Priorities: map[string]string{"P1": "Highest", "P2": "High"}, Fields: map[string]string{"riskScore": "customfield_10050"},
	}, fj, sec
}

func jiraTicket() vuln.Ticket {
	return vuln.Ticket{Key: "inspector2#abc123", Title: "[P2] " + strings.Repeat("CVE-2026-1 openssl ", 20), Description: "line one\nline two",
		Priority: "P2", Severity: "HIGH", Score: 61.5, Due: time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC)}
}

// TestJiraOpenUpdateCommentClose: an issue created with the documented
// shape (summary cut to 255, ADF description, labels, priority, due
// date, the mapped risk field), found again by its label instead of
// created twice, updated, commented, and closed through the "Done"
// transition; the secret is read once.
func TestJiraOpenUpdateCommentClose(t *testing.T) {
	j, fj, sec := newJira(t, `{"email":"`+jiraEmail+`","apiToken":"`+jiraToken+`"}`)
	ctx := context.Background()
	tk := jiraTicket()
	key, err := j.Open(ctx, tk)
	if err != nil || key != "SEC-1" {
		t.Fatalf("Open = %q, %v; want SEC-1", key, err)
	}
	again, err := j.Open(ctx, tk)
	if err != nil || again != "SEC-1" || len(fj.issues) != 1 {
		t.Fatalf("second Open = %q, %v (%d issues); want SEC-1, found by its label", again, err, len(fj.issues))
	}
	fs := fj.issues["SEC-1"]
	if fs["duedate"] != "2026-12-12" || fs["customfield_10050"] != 61.5 || fmt.Sprint(fs["priority"]) != "map[name:High]" || len([]rune(fs["summary"].(string))) != 255 {
		t.Errorf("created fields = %v; want due 2026-12-12, risk 61.5, priority High, a summary of 255 characters", fs)
	}
	tk.Priority, tk.Score = "P1", 88
	if err := j.Update(ctx, "SEC-1", tk); err != nil {
		t.Fatalf("Update = %v", err)
	}
	if fmt.Sprint(fj.issues["SEC-1"]["priority"]) != "map[name:Highest]" {
		t.Errorf("priority after Update = %v; want Highest", fj.issues["SEC-1"]["priority"])
	}
	if err := j.Comment(ctx, "SEC-1", "slaBreach", "SLA breached"); err != nil {
		t.Fatalf("Comment = %v", err)
	}
	if err := j.Close(ctx, "SEC-1", "Resolved: Inspector2 reports it CLOSED"); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if fj.status["SEC-1"] != "Done" || len(fj.comments["SEC-1"]) != 2 {
		t.Errorf("status %q, %d comments; want Done and 2 (breach, resolution)", fj.status["SEC-1"], len(fj.comments["SEC-1"]))
	}
	if sec.reads != 1 {
		t.Errorf("secret read %d times; want once", sec.reads)
	}
	if _, err := j.Open(ctx, tk); err != nil || len(fj.issues) != 2 {
		t.Errorf("Open after Done: %v, %d issues; want a new issue", err, len(fj.issues))
	}
}

// TestJiraErrors: a wrong token is Jira's 401, an unknown project its
// 400 naming the field, a malformed secret names the fix; no error
// carries the token.
func TestJiraErrors(t *testing.T) {
	tests := []struct {
		name, secret, project string
		want                  string
		status                int
	}{
		{"wrong token", `{"email":"` + jiraEmail + `","apiToken":"wrong-token"}`, "SEC", "401", http.StatusUnauthorized},
		{"unknown project", `{"email":"` + jiraEmail + `","apiToken":"` + jiraToken + `"}`, "NOPE", "project: valid project is required", http.StatusBadRequest},
		{"secret without apiToken", `{"email":"` + jiraEmail + `"}`, "SEC", `{"email": "...", "apiToken": "..."}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _, _ := newJira(t, tt.secret)
			j.Project = tt.project
			_, err := j.Open(context.Background(), jiraTicket())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v; want an error saying %q", err, tt.want)
			}
			var je *vuln.JiraError
			if tt.status != 0 && (!errors.As(err, &je) || je.Status != tt.status) {
				t.Errorf("Open = %v; want a *JiraError with status %d", err, tt.status)
			}
			if strings.Contains(err.Error(), jiraToken) || strings.Contains(err.Error(), "wrong-token") {
				t.Errorf("error %q carries the token", err)
			}
		})
	}
}

// TestJiraTicketsOnceThroughTheManager: the Manager with Jira tickets
// opens one issue for a finding delivered 50 times, 8 at a time.
func TestJiraTicketsOnceThroughTheManager(t *testing.T) {
	r := newRig(t)
	j, fj, _ := newJira(t, `{"email":"`+jiraEmail+`","apiToken":"`+jiraToken+`"}`)
	r.m.Tickets = j
	f := finding("jira", "prod-api", "CVE-2026-0099")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 / 8 {
				if _, err := r.m.Observe(context.Background(), f, assess(triage.P1, 90)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(fj.issues) != 1 {
		t.Errorf("Jira issues = %d; want 1", len(fj.issues))
	}
}
