package deptest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module   = "github.com/postdeploy/postdeploy"
	devtools = module + "/pkg/devtools"
)

// production is what ships: the Lambda functions, the CDK app and the
// postdeploy command line tool.
var production = []string{"./functions/...", "./infra/...", "./pkg/cmd/..."}

// builds are the configurations production is listed in: the host's, and
// the one `make build` ships (build tags and GOOS can change which files,
// and so which imports, a package has).
var builds = []struct {
	name  string
	env   []string
	flags []string
}{
	{name: "host"},
	{name: "lambda", env: []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, flags: []string{"-tags", "lambda.norpc"}},
}

func TestProductionDoesNotLinkDevtools(t *testing.T) {
	root := moduleRoot(t)
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			imports := listDeps(t, root, b.env, b.flags, production...)
			// Guard against passing vacuously (wrong directory, patterns
			// that match nothing, a changed module path).
			if len(imports) == 0 {
				t.Fatalf("go list -deps %s listed no packages", strings.Join(production, " "))
			}
			if _, ok := imports[module+"/pkg/verify"]; !ok {
				t.Fatalf("go list -deps %s does not list %s/pkg/verify: the check would prove nothing", strings.Join(production, " "), module)
			}
			if report := devtoolsReport(imports); report != "" {
				t.Errorf("production packages (%s) link the local dev tooling, which must never ship:\n%s",
					strings.Join(production, " "), report)
			}
		})
	}
}

// TestDetectsDevtools runs the same check on the demo, which is tooling
// and links the stand-in, so a check that can find nothing fails here.
func TestDetectsDevtools(t *testing.T) {
	imports := listDeps(t, moduleRoot(t), nil, nil, "./pkg/devtools/demo")
	report := devtoolsReport(imports)
	if !strings.Contains(report, devtools+"/standin") {
		t.Errorf("the check found no pkg/devtools/standin among the demo's dependencies; report:\n%s", report)
	}
}

// devtoolsReport lists each pkg/devtools package in imports with the
// packages outside pkg/devtools that import it; "" when there is none.
func devtoolsReport(imports map[string][]string) string {
	var lines []string
	for pkg := range imports {
		if !isDevtools(pkg) {
			continue
		}
		var by []string
		for importer, imps := range imports {
			if !isDevtools(importer) && slices.Contains(imps, pkg) {
				by = append(by, importer)
			}
		}
		slices.Sort(by)
		line := "\t" + pkg
		if len(by) > 0 {
			line += " (imported by " + strings.Join(by, ", ") + ")"
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func isDevtools(pkg string) bool {
	return pkg == devtools || strings.HasPrefix(pkg, devtools+"/")
}

// listDeps runs go list -deps (no -test: test files and their imports are
// not listed) on patterns in the module root and returns every listed
// package with its direct imports.
func listDeps(t *testing.T, root string, env, flags []string, patterns ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`}, flags...)
	args = append(args, patterns...)
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, stderr.String())
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			imports[fields[0]] = fields[1:]
		}
	}
	return imports
}

// moduleRoot is the directory of the go.mod the test runs under.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatalf("go env GOMOD = %q: not inside the module", gomod)
	}
	return filepath.Dir(gomod)
}
