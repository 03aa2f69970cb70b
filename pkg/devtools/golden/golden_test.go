package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports instead of
// failing the test that runs it.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
	r.fatal = true
}

func setUpdate(t *testing.T, v bool) {
	old := *Update
	*Update = v
	t.Cleanup(func() { *Update = old })
}

const wantCommand = "go test ./pkg/devtools/golden -update"

// goldenFile writes content to a new file and returns its path.
func goldenFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "want.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckMatch(t *testing.T) {
	path := goldenFile(t, "line one\nline two\n")
	var r recorder
	Check(&r, path, "line one\nline two\n")
	if len(r.errors) > 0 {
		t.Errorf("Check of equal text reported %q", r.errors)
	}
}

func TestCheckMismatch(t *testing.T) {
	path := goldenFile(t, "line one\nline two\n")
	var r recorder
	Check(&r, path, "line one\nline 2\n")
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("Check of different text: errors %q, fatal %v; want one Errorf", r.errors, r.fatal)
	}
	msg := r.errors[0]
	for _, want := range []string{path, "-want +got", "\n  line one\n- line two\n+ line 2\n", wantCommand} {
		if !strings.Contains(msg, want) {
			t.Errorf("mismatch message lacks %q:\n%s", want, msg)
		}
	}
}

func TestLineDiff(t *testing.T) {
	many := func(from, to int) string {
		var sb strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&sb, "line %d\n", i)
		}
		return sb.String()
	}
	tests := []struct {
		name, want, got, diff string
	}{
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "  a\n- b\n+ B\n  c\n"},
		{"added line", "a\nc\n", "a\nb\nc\n", "  a\n+ b\n  c\n"},
		{"removed line", "a\nb\nc\n", "a\nc\n", "  a\n- b\n  c\n"},
		{"empty want", "", "a\n", "+ a\n"},
		{"final newline", "a\n", "a", "- a\n+ a  (no newline at end)\n"},
		{"trailing blank", "a\n", "a \n", "- a\n+ \"a \"\n"},
		{"far context folded", many(1, 20), strings.Replace(many(1, 20), "line 10\n", "line ten\n", 1),
			"  …\n  line 7\n  line 8\n  line 9\n- line 10\n+ line ten\n  line 11\n  line 12\n  line 13\n  …\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineDiff(tt.want, tt.got); got != tt.diff {
				t.Errorf("lineDiff(%q, %q) =\n%s\nwant\n%s", tt.want, tt.got, got, tt.diff)
			}
		})
	}
}

func TestCheckMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.txt")
	var r recorder
	Check(&r, path, "anything")
	if len(r.errors) != 1 || !r.fatal {
		t.Fatalf("Check of a missing file: errors %q, fatal %v; want one Fatalf", r.errors, r.fatal)
	}
	if msg := r.errors[0]; !strings.Contains(msg, path) || !strings.Contains(msg, wantCommand) {
		t.Errorf("missing-file message names neither the file nor %q:\n%s", wantCommand, msg)
	}
}

func TestCheckUpdate(t *testing.T) {
	setUpdate(t, true)
	path := filepath.Join(t.TempDir(), "new", "dir", "out.txt")
	var r recorder
	Check(&r, path, "fresh\n")
	if len(r.errors) > 0 {
		t.Fatalf("Check -update reported %q", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Fatalf("after Check -update the file holds %q (%v); want %q", b, err, "fresh\n")
	}

	// Rewritten, not appended to; and it then matches without -update.
	Check(&r, path, "newer\n")
	*Update = false
	Check(&r, path, "newer\n")
	if len(r.errors) > 0 {
		t.Errorf("Check after a rewrite reported %q", r.errors)
	}
}

func TestUpdateCommand(t *testing.T) {
	if got := updateCommand(); got != wantCommand {
		t.Errorf("updateCommand() = %q; want %q", got, wantCommand)
	}
}
