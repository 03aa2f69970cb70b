package verify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// awsSampleEvents returns the sample events AWS ships with aws-lambda-go
// (events/testdata in the module, already in the module cache).
func awsSampleEvents(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/aws/aws-lambda-go: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	if len(files) < 50 || files["codepipeline-job-event.json"] == nil {
		t.Fatalf("%s holds %d files and no codepipeline-job-event.json; is this aws-lambda-go's testdata?", dir, len(files))
	}
	return files
}

// Every sample event AWS ships in aws-lambda-go goes through verify's
// handler, both as main starts it (the *Verifier, a lambda.Handler that
// decodes the payload itself) and as the typed Handle wrapped by
// lambda.NewHandler: the CodePipeline job sample gets exactly one report
// (a ConfigurationError: its UserParameters are the placeholder
// "some-input-such-as-a-URL"); every other sample is refused as not a
// CodePipeline job, with no report. (One sample,
// dynamodb-event-malformed.2.json, is not JSON: the typed handler never
// sees it, the runtime's decoder refuses it first — which is why main
// starts the *Verifier.)
func TestAWSSampleEvents(t *testing.T) {
	for name, payload := range awsSampleEvents(t) {
		t.Run(name, func(t *testing.T) {
			for _, via := range []string{"Verifier", "Handle"} {
				e := newEnv(&scripted{result: pass})
				h := lambda.NewHandler(e.v)
				if via == "Handle" {
					h = lambda.NewHandler(e.v.Handle)
				}
				ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(time.Minute))
				_, err := h.Invoke(ctx, payload)
				cancel()
				if name == "codepipeline-job-event.json" {
					if err != nil || e.cp.reports() != 1 {
						t.Fatalf("via %s: error %v, %d reports; want nil and exactly 1", via, err, e.cp.reports())
					}
					if fd := e.cp.failures[0].FailureDetails; fd.Type != cptypes.FailureTypeConfigurationError || !strings.Contains(aws.ToString(fd.Message), "UserParameters") {
						t.Errorf("via %s: report %s %q; want a ConfigurationError about UserParameters", via, fd.Type, aws.ToString(fd.Message))
					}
					continue
				}
				if e.cp.attempts != 0 {
					t.Errorf("via %s: %d report attempts for an event that is not a job; want none", via, e.cp.attempts)
				}
				if via == "Handle" && !json.Valid(payload) {
					if err == nil {
						t.Errorf("via %s: invalid JSON accepted", via)
					}
					continue
				}
				if !errors.Is(err, ErrNotAJob) || !strings.Contains(err.Error(), "not a CodePipeline job") {
					t.Errorf("via %s: error = %v (%T); want a NotAJobError saying it is not a CodePipeline job", via, err, err)
				}
				if !strings.Contains(e.logs.String(), "refused: not a CodePipeline job") && !strings.Contains(e.logs.String(), "refused: the payload is not JSON") {
					t.Errorf("via %s: no refusal logged:\n%s", via, e.logs.String())
				}
			}
		})
	}
}
