package vuln

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Jira files tickets as Jira Cloud issues through the REST API v3
// (https://developer.atlassian.com/cloud/jira/platform/rest/v3/): a
// small typed client of the five calls it needs — search by JQL, create,
// edit, comment, transition — tested against the documented request and
// response shapes (jira_test.go). No maintained Go client is served to
// this project, and one would bring far more than five calls into
// respond's package.
//
// The credentials are a Secrets Manager secret holding
// {"email": "...", "apiToken": "..."} (Jira Cloud's basic auth is the
// account's email and an API token), read on first use and never logged.
// Opening is idempotent: each issue carries the label
// postdeploy-<finding key>, and Open first searches for an unresolved
// issue with it.
type Jira struct {
	// BaseURL is the site, e.g. https://example.atlassian.net.
	BaseURL string
	// Project is the project key; IssueType the issue type's name
	// (e.g. "Bug").
	Project, IssueType string
	// Priorities maps P1–P4 to Jira priority names; a priority it does
	// not map is left to the project's default.
	Priorities map[string]string
	// Fields maps "riskScore" and "slaDue" to custom field ids
	// (customfield_NNNNN); unmapped, they are in the description only.
	// The SLA due date is always the standard duedate field too.
	Fields map[string]string
	// DoneTransition is the name of the transition that resolves an
	// issue (default "Done").
	DoneTransition string
	// Secret is the Secrets Manager secret id of the credentials.
	Secret  string
	Secrets SecretReader
	HTTP    *http.Client

	mu    sync.Mutex
	email string
	token string
}

// SecretReader is the part of *secretsmanager.Client Jira uses.
type SecretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var (
	_ SecretReader = (*secretsmanager.Client)(nil)
	_ Ticketer     = (*Jira)(nil)
)

// maxJiraSummary is the summary field's limit (255 characters).
const maxJiraSummary = 255

// JiraError is an error answer of the Jira REST API: its status and the
// documented body {"errorMessages": [...], "errors": {field: message}}.
type JiraError struct {
	Status        int
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func (e *JiraError) Error() string {
	parts := append([]string{}, e.ErrorMessages...)
	for f, m := range e.Errors {
		parts = append(parts, f+": "+m)
	}
	return fmt.Sprintf("Jira answered %d %s: %s", e.Status, http.StatusText(e.Status), strings.Join(parts, "; "))
}

// credentials reads the secret once.
func (j *Jira) credentials(ctx context.Context) (string, string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.token != "" {
		return j.email, j.token, nil
	}
	out, err := j.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(j.Secret)})
	if err != nil {
		return "", "", fmt.Errorf("read the Jira credentials secret %s: %w", j.Secret, err)
	}
	var c struct {
		Email    string `json:"email"`
		APIToken string `json:"apiToken"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c); err != nil || c.Email == "" || c.APIToken == "" {
		return "", "", fmt.Errorf(`the Jira credentials secret %s must be JSON {"email": "...", "apiToken": "..."} with both set`, j.Secret)
	}
	j.email, j.token = c.Email, c.APIToken
	return j.email, j.token, nil
}

// call makes one request and decodes a 2xx answer into out (nil: none).
func (j *Jira) call(ctx context.Context, method, path string, in, out any) error {
	email, token, err := j.credentials(ctx)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode Jira %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(j.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("Jira %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(email, token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := j.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("Jira %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("Jira %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		je := &JiraError{Status: resp.StatusCode}
		_ = json.Unmarshal(b, je) // an answer without the documented body still reports its status
		return fmt.Errorf("Jira %s %s: %w", method, path, je)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("Jira %s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// adf is a plain-text Atlassian Document Format document: one paragraph
// per line (the v3 API takes descriptions and comments in ADF).
func adf(text string) map[string]any {
	var content []any
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": line}}})
	}
	if content == nil {
		content = []any{map[string]any{"type": "paragraph", "content": []any{}}}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

// Label is the label that identifies a finding's issue.
func Label(key string) string {
	return "postdeploy-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, key)
}

func (j *Jira) fields(t Ticket) map[string]any {
	f := map[string]any{
		"summary": clipRunes(t.Title, maxJiraSummary),
		"duedate": t.Due.UTC().Format("2006-01-02"),
	}
	if name := j.Priorities[t.Priority]; name != "" {
		f["priority"] = map[string]any{"name": name}
	}
	if id := j.Fields["riskScore"]; id != "" {
		f[id] = t.Score
	}
	if id := j.Fields["slaDue"]; id != "" {
		f[id] = t.Due.UTC().Format(time.RFC3339)
	}
	return f
}

// Open finds the finding's unresolved issue by its label, or creates it.
func (j *Jira) Open(ctx context.Context, t Ticket) (string, error) {
	label := Label(t.Key)
	var found struct {
		Issues []struct {
			Key string `json:"key"`
		} `json:"issues"`
	}
	jql := fmt.Sprintf(`project = "%s" AND labels = "%s" AND statusCategory != Done`, j.Project, label)
	if err := j.call(ctx, http.MethodPost, "/rest/api/3/search/jql", map[string]any{"jql": jql, "fields": []string{"key"}, "maxResults": 1}, &found); err != nil {
		return "", err
	}
	if len(found.Issues) > 0 {
		return found.Issues[0].Key, nil
	}
	f := j.fields(t)
	f["project"] = map[string]any{"key": j.Project}
	f["issuetype"] = map[string]any{"name": j.IssueType}
	f["labels"] = []string{"postdeploy", label}
	f["description"] = adf(t.Description)
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := j.call(ctx, http.MethodPost, "/rest/api/3/issue", map[string]any{"fields": f}, &created); err != nil {
		return "", err
	}
	if created.Key == "" {
		return "", errors.New("Jira created the issue but answered no key")
	}
	return created.Key, nil
}

// Update sets the issue's summary, priority, due date and mapped fields.
func (j *Jira) Update(ctx context.Context, id string, t Ticket) error {
	return j.call(ctx, http.MethodPut, "/rest/api/3/issue/"+url.PathEscape(id), map[string]any{"fields": j.fields(t)}, nil)
}

// Comment adds a comment.
func (j *Jira) Comment(ctx context.Context, id, _ string, note string) error {
	return j.call(ctx, http.MethodPost, "/rest/api/3/issue/"+url.PathEscape(id)+"/comment", map[string]any{"body": adf(note)}, nil)
}

// Close comments the resolution and moves the issue through the done
// transition. A workflow without that transition leaves the issue
// commented and returns an error naming the transitions it has.
func (j *Jira) Close(ctx context.Context, id, note string) error {
	if err := j.Comment(ctx, id, "resolution", note); err != nil {
		return err
	}
	var ts struct {
		Transitions []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"transitions"`
	}
	path := "/rest/api/3/issue/" + url.PathEscape(id) + "/transitions"
	if err := j.call(ctx, http.MethodGet, path, nil, &ts); err != nil {
		return err
	}
	done := j.DoneTransition
	if done == "" {
		done = "Done"
	}
	var names []string
	for _, tr := range ts.Transitions {
		if strings.EqualFold(tr.Name, done) {
			return j.call(ctx, http.MethodPost, path, map[string]any{"transition": map[string]any{"id": tr.ID}}, nil)
		}
		names = append(names, tr.Name)
	}
	return fmt.Errorf("Jira issue %s has no %q transition (it has %s): commented, not closed; set POSTDEPLOY_JIRA_DONE_TRANSITION", id, done, strings.Join(names, ", "))
}
