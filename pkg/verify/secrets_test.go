package verify

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// fakeEvents records what verify publishes.
type fakeEvents struct {
	mu     sync.Mutex
	detail []string
}

var _ telemetry.EventPutter = (*fakeEvents)(nil)

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range in.Entries {
		f.detail = append(f.detail, aws.ToString(e.Detail))
	}
	return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
}

// everything is every text a test's invocations let out of the function:
// reports (messages, summaries, tokens, output variables), the published
// events and the logs.
func (e *env) everything(ev *fakeEvents) string {
	var b strings.Builder
	for _, s := range e.cp.successes {
		b.WriteString(aws.ToString(s.ExecutionDetails.Summary) + "\n" + aws.ToString(s.ContinuationToken) + "\n")
		for k, v := range s.OutputVariables {
			b.WriteString(k + "=" + v + "\n")
		}
	}
	for _, f := range e.cp.failures {
		b.WriteString(aws.ToString(f.FailureDetails.Message) + "\n")
	}
	if ev != nil {
		b.WriteString(strings.Join(ev.detail, "\n"))
	}
	b.WriteString(e.logs.String())
	return b.String()
}

const (
	bearer = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig-0123456789"
	apiKey = "ak_live_7f3a9c2e1b4d"
	qToken = "qs-credential-55aa66bb77cc"
)

// Secrets a spec carries (header values, a credential in the URL's
// query) never leave the function, even when the probed server reflects
// them — raw or URL-encoded — in what a check observed: not in the
// failure message, the progress summary, the continuation token's
// evidence, the published event or the logs.
func TestSpecSecretsNeverLeave(t *testing.T) {
	reflect := func(sample, item int) verdict.Result {
		return verdict.Result{Verdict: verdict.Failed,
			Target:   "https://api.example.com/health?token=" + qToken,
			Observed: "status 401; server said: bad header Authorization: Bearer " + bearer + " (key " + url.QueryEscape(apiKey) + ", token " + qToken + ")",
			Expected: "status == 200"}
	}
	spec := map[string]any{"spec": map[string]any{
		"bake": "10s", "interval": "1s",
		"limits": map[string]any{"failFast": false, "failureLimit": 100},
		"checks": []any{map[string]any{"name": "api", "http": map[string]any{
			"url":     "https://api.example.com/health?token=" + qToken,
			"headers": map[string]string{"Authorization": "Bearer " + bearer, "X-Api-Key": apiKey},
		}}},
	}}
	e := newEnv(&scripted{result: reflect})
	events := &fakeEvents{}
	e.v.Events = telemetry.Events{API: events, Bus: "default", Source: "postdeploy.verify"}
	ev := jobEvent(t, "job-secret", spec, "")
	for range 20 {
		if err := e.invoke(t, ev, 4*time.Second); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) > 0 {
			break
		}
		ev = jobEvent(t, "job-secret", spec, aws.ToString(e.cp.successes[len(e.cp.successes)-1].ContinuationToken))
	}
	if len(e.cp.failures) != 1 || len(e.cp.successes) == 0 || len(events.detail) != 1 {
		t.Fatalf("got %d continuations, %d failures, %d events; want a bake that continued, failed once and published", len(e.cp.successes), len(e.cp.failures), len(events.detail))
	}
	out := e.everything(events)
	for _, secret := range []string{bearer, apiKey, url.QueryEscape(apiKey), qToken} {
		if strings.Contains(out, secret) {
			t.Errorf("%q left the function:\n%s", secret, out)
		}
	}
	if !strings.Contains(aws.ToString(e.cp.failures[0].FailureDetails.Message), "[redacted]") {
		t.Errorf("failure message shows no redaction; the test proves nothing:\n%s", aws.ToString(e.cp.failures[0].FailureDetails.Message))
	}
}

// A spec read from a SecureString parameter is secret as a whole: a
// validation error does not quote its values, and its http bodies (where
// credentials travel outside headers) are redacted from what a server
// reflects.
func TestSecureStringSpecIsSecret(t *testing.T) {
	const password = "hunter2-correct-horse-battery"
	t.Run("validation errors quote none of its values", func(t *testing.T) {
		e := newEnv(&scripted{result: pass})
		e.ssm.params["/postdeploy/prod-api/verify"] = "bake: " + password + "\nchecks: [{name: a, http: {url: \"https://x/\"}}]"
		e.ssm.secure = map[string]bool{"/postdeploy/prod-api/verify": true}
		if err := e.invoke(t, readEvent(t, "verify-ssm.json"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) != 1 || e.cp.failures[0].FailureDetails.Type != cptypes.FailureTypeConfigurationError {
			t.Fatalf("reports = %+v; want one ConfigurationError", e.cp.failures)
		}
		msg := aws.ToString(e.cp.failures[0].FailureDetails.Message)
		if !strings.Contains(msg, "bake") || strings.Contains(e.everything(nil), password) {
			t.Errorf("ConfigurationError %q should name bake without quoting the SecureString's value", msg)
		}
	})
	t.Run("a reflected body is redacted", func(t *testing.T) {
		echo := func(int, int) verdict.Result {
			return verdict.Result{Verdict: verdict.Failed, Observed: "status 400: invalid login " + password, Expected: "status == 200"}
		}
		e := newEnv(&scripted{result: echo})
		e.ssm.params["/postdeploy/prod-api/verify"] = "checks: [{name: login, http: {url: \"https://x/login\", method: POST, body: \"" + password + "\"}}]"
		e.ssm.secure = map[string]bool{"/postdeploy/prod-api/verify": true}
		if err := e.invoke(t, readEvent(t, "verify-ssm.json"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) != 1 {
			t.Fatalf("reports = %d failures; want 1", len(e.cp.failures))
		}
		if strings.Contains(e.everything(nil), password) {
			t.Errorf("the SecureString spec's body left the function:\n%s", e.everything(nil))
		}
	})
	t.Run("a String parameter's body is not secret by itself", func(t *testing.T) {
		e := newEnv(&scripted{result: pass})
		e.ssm.params["/postdeploy/prod-api/verify"] = "checks: [{name: login, http: {url: \"https://x/login\", method: POST, body: \"" + password + "\"}}]"
		if err := e.invoke(t, readEvent(t, "verify-ssm.json"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.successes) != 1 {
			t.Fatalf("reports = %d successes; want 1", len(e.cp.successes))
		}
	})
}

// The log handler redacts messages and string, error and grouped
// attributes, including those added with With.
func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	sec := &secrets{}
	log := slog.New(redactingHandler{next: slog.NewJSONHandler(&buf, nil), s: sec}).With("early", "before "+apiKey)
	sec.set(forSpec(specWithHeader(t, apiKey), nil, false))
	log.Info("saw "+apiKey, "err", errString("failed with "+apiKey), "g", slog.Group("x", "v", apiKey), "n", 3)
	if strings.Contains(buf.String(), apiKey) {
		t.Errorf("log line leaks the key: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"n":3`) {
		t.Errorf("log line lost a number: %s", buf.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func specWithHeader(t *testing.T, value string) spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(`{"checks":[{"name":"a","http":{"url":"https://x/","headers":{"X-Api-Key":"`+value+`"}}}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
