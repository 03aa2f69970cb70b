package runbook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// root is the module root.
var root = filepath.Join("..", "..")

// synth is the stack synthesized once for every test here (a synthesis
// costs seconds of jsii).
var synth struct {
	once  sync.Once
	tmpl  []byte
	notes []string
	err   error
}

// synthesized returns the stack's template as `make runbook` builds it.
func synthesized(t *testing.T) ([]byte, []string) {
	t.Helper()
	synth.once.Do(func() { synth.tmpl, synth.notes, synth.err = Synthesize(root) })
	if synth.err != nil {
		t.Fatalf("Synthesize(%q): %v", root, synth.err)
	}
	return synth.tmpl, synth.notes
}

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
	tmpl, notes := synthesized(t)
	got, err := Document(root, tmpl, notes)
	if err != nil {
		t.Fatalf("Document: %v", err)
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
