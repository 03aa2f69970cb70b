package lambdarun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ModuleRoot finds the postdeploy checkout — the directory holding
// go.mod — from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the module root: no go.mod above the working directory; run from inside the postdeploy checkout")
		}
		dir = parent
	}
}

// FunctionNames lists the functions of the checkout at root: the
// functions/<name> directories that hold a main.go, sorted.
func FunctionNames(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("no functions/<name>/main.go found")
	}
	return names, nil
}
