package verify

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// The README's "CodeDeploy lifecycle hooks" examples work as written: the
// hook spec document parses for each of its hooks, and the AppSpec names
// only lifecycle events an ECS deployment hooks.
func TestReadmeHookExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## CodeDeploy lifecycle hooks\n"
	_, section, ok := strings.Cut(string(b), heading)
	if !ok {
		t.Fatalf("README has no %q section", strings.TrimSpace(heading))
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var blocks []string
	for _, part := range strings.Split(section, "```yaml\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, body)
	}
	if len(blocks) != 2 {
		t.Fatalf("found %d yaml blocks; want the AppSpec and the hook spec", len(blocks))
	}
	var appspec struct {
		Hooks []map[string]string `json:"Hooks"`
	}
	if err := yaml.Unmarshal([]byte(blocks[0]), &appspec); err != nil || len(appspec.Hooks) == 0 {
		t.Fatalf("AppSpec example: %v, %d hooks", err, len(appspec.Hooks))
	}
	vars := map[string]string{VarDeploymentID: "d-ABCDEFGH1", VarApplication: "orders", VarDeploymentGroup: "orders-bg",
		VarTestListenerARN: testListener, VarProdListenerARN: prodListener}
	for _, h := range appspec.Hooks {
		for name := range h {
			if !slices.Contains(contract.ECSHooks, name) {
				t.Errorf("AppSpec example hooks %q; ECS hooks are %v", name, contract.ECSHooks)
				continue
			}
			sec, err := hookSection([]byte(blocks[1]), contract.ECSHooks, name)
			if err != nil {
				t.Errorf("hook spec example, hooks.%s: %v", name, err)
				continue
			}
			vars[VarHook] = name
			// The listener URLs as verify resolves them (hooklisteners.go).
			all, err := listenerVars(context.Background(), newFakeELB(), vars, sec)
			if err != nil {
				t.Errorf("hook spec example, hooks.%s: %v", name, err)
				continue
			}
			if _, err := spec.Parse(sec, all); err != nil {
				t.Errorf("hook spec example, hooks.%s: %v", name, inSection(err, name))
			}
		}
	}
}
