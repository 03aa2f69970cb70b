package runbook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		_ = os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// TestRunbookIsCurrent synthesizes the stack once, as `make runbook`
// does, and fails when the committed document differs from what it
// writes: the runbook cannot drift from the stack, the runbook texts or
// the shipped policy.
func TestRunbookIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	got, err := Generate(root)
	if err != nil {
		t.Fatalf("Generate(%q): %v", root, err)
	}
	path := filepath.Join(root, Output)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v; run `make runbook` to write it", Output, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run `make runbook` and commit it.\n%s", Output, firstDifference(string(want), string(got)))
	}
}

// firstDifference names the first line where the committed document
// (want) and the generated one (got) differ.
func firstDifference(committed, generated string) string {
	a, b := strings.Split(committed, "\n"), strings.Split(generated, "\n")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at line %d:\n  committed: %.200s\n  generated: %.200s", i+1, x, y)
		}
	}
	return "they differ only in line endings"
}
