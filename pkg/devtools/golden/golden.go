package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag: when set, Check writes what the test
// produced to the golden file instead of comparing with it.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata/ with what the tests produce")

// Check compares got with the golden file at path, which is relative to
// the test's package directory (where go test runs it), e.g.
// "testdata/alert.txt". It reports a difference with Errorf, so the test
// goes on, and a missing or unreadable file with Fatalf. Under -update it
// writes got to path, creating its directory, and passes.
func Check(tb testing.TB, path, got string) {
	tb.Helper()
	if *Update {
		if err := write(path, got); err != nil {
			tb.Fatalf("golden: update %s: %v", path, err)
			return
		}
		tb.Logf("golden: wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("golden: %v\nRun `%s` to create it.", err, updateCommand())
		return
	}
	if got != string(want) {
		tb.Errorf("golden: output differs from %s (-want +got):\n%s\nIf the change is intended, run `%s` and review the diff.",
			path, lineDiff(string(want), got), updateCommand())
	}
}

func write(path, got string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(got), 0o600)
}

// updateCommand is the command that rewrites the golden files of the
// package under test, e.g. "go test ./pkg/notify -update": the working
// directory (the package's, under go test) relative to the module root.
func updateCommand() string {
	const fallback = "go test . -update"
	dir, err := os.Getwd()
	if err != nil {
		return fallback
	}
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil || rel == "." {
				return fallback
			}
			return "go test ./" + filepath.ToSlash(rel) + " -update"
		}
		parent := filepath.Dir(root)
		if parent == root {
			return fallback
		}
		root = parent
	}
}
