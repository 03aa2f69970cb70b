package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fencedBlocks returns the fenced code blocks of one language in text.
func fencedBlocks(text, lang string) []string {
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// contextFromArgs reads the -c key=value pairs of a cdk command line the
// way the CDK CLI does (split at the first "=").
func contextFromArgs(t *testing.T, args []string) map[string]any {
	t.Helper()
	ctx := map[string]any{}
	for i := 0; i < len(args); i++ {
		if args[i] != "-c" && args[i] != "--context" {
			continue
		}
		if i+1 >= len(args) {
			t.Fatalf("cdk args %q end with %s and no key=value", args, args[i])
		}
		k, v, ok := strings.Cut(args[i+1], "=")
		if !ok {
			t.Fatalf("cdk arg %q after -c is not key=value", args[i+1])
		}
		ctx[k] = v
		i++
	}
	return ctx
}

func checkContext(t *testing.T, where string, ctx map[string]any) Props {
	t.Helper()
	for k := range ctx {
		if !slices.Contains(ContextKeys, k) {
			t.Errorf("%s: context key %q is not one PropsFromContext reads (%v)", where, k, ContextKeys)
		}
	}
	p, err := PropsFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatalf("%s: PropsFromContext: %v", where, err)
	}
	p, err = p.withDefaults()
	if err != nil {
		t.Fatalf("%s: props: %v", where, err)
	}
	return p
}

// The README's `make deploy CDK_ARGS=…` example works when pasted: run
// through bash and the Makefile's own deploy recipe (with a stand-in for
// the CDK CLI that records its arguments), every -c reaches the CDK as
// one key=value, and the stack accepts them all.
func TestReadmeDeployExampleWorksWhenPasted(t *testing.T) {
	for _, tool := range []string{"bash", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	section := readmeSection(t, "## Deploy it")
	var cmd string
	for _, b := range fencedBlocks(section, "sh") {
		if strings.HasPrefix(b, "make deploy CDK_ARGS=") {
			cmd = strings.TrimSpace(b)
		}
	}
	if cmd == "" {
		t.Fatal("README's Deploy it section has no ```sh block starting with make deploy CDK_ARGS=")
	}
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var shell, recipe []string
	lines := strings.Split(string(mk), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "SHELL :=") || strings.HasPrefix(l, ".SHELLFLAGS :="):
			shell = append(shell, l)
		case strings.HasPrefix(l, "deploy:"):
			for _, r := range lines[i+1:] {
				if !strings.HasPrefix(r, "\t") {
					break
				}
				recipe = append(recipe, r)
			}
		}
	}
	if len(recipe) == 0 || !strings.Contains(strings.Join(recipe, "\n"), "node_modules/.bin/cdk") {
		t.Fatalf("Makefile deploy recipe %q does not run node_modules/.bin/cdk", recipe)
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "cdk")
	if err := os.WriteFile(fake, []byte("#!/usr/bin/env bash\nprintf '%s\\0' \"$@\" > \"$CDK_ARGS_OUT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	makefile := strings.Join(shell, "\n") + "\ndeploy:\n" + strings.ReplaceAll(strings.Join(recipe, "\n"), "node_modules/.bin/cdk", fake) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(makefile), 0o600); err != nil { //nolint:gosec // G703: the test's own temp dir
		t.Fatal(err)
	}
	out := filepath.Join(dir, "args")
	// Running the README's command is the point of the test.
	run := exec.CommandContext(t.Context(), "bash", "-c", "make -s -f "+filepath.Join(dir, "Makefile")+strings.TrimPrefix(cmd, "make")) //nolint:gosec // G204: see above
	run.Env = append(os.Environ(), "CDK_ARGS_OUT="+out)
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("README command through the deploy recipe: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	if len(args) < 3 || args[0] != "deploy" {
		t.Fatalf("cdk got %q; want deploy and the README's context", args)
	}
	p := checkContext(t, "README make deploy example", contextFromArgs(t, args))
	if p.Application == nil || len(p.AlertEmails) == 0 {
		t.Errorf("README example props = %+v; want its application and alertEmails JSON to arrive whole", p)
	}
}

// The README's cdk.json example holds context the stack reads.
func TestReadmeCdkJSONExample(t *testing.T) {
	section := readmeSection(t, "## Deploy it")
	var found bool
	for _, b := range fencedBlocks(section, "json") {
		var doc struct {
			Context map[string]any `json:"context"`
		}
		if err := json.Unmarshal([]byte(b), &doc); err != nil || doc.Context == nil {
			continue
		}
		found = true
		p := checkContext(t, "README cdk.json example", doc.Context)
		if p.Application == nil || len(p.AlertEmails) == 0 {
			t.Errorf("README cdk.json example props = %+v; want its application and alertEmails", p)
		}
	}
	if !found {
		t.Error("README's Deploy it section has no cdk.json example with a context object")
	}
}
