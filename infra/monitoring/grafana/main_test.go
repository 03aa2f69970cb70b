package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// The committed dashboards are what the widget definitions render now:
// run `make dashboards` after changing a widget.
func TestCommittedDashboardsAreCurrent(t *testing.T) {
	files, err := Render(config.DefaultMetricNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("Render wrote %d files; want 3", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(".", name))
		if err != nil {
			t.Errorf("%s: %v (run make dashboards)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make dashboards and commit it", name)
		}
	}
	stray, _ := filepath.Glob("*.json")
	if len(stray) != len(files) {
		t.Errorf("JSON files here: %v; want only %d rendered ones (delete the others)", stray, len(files))
	}
}
