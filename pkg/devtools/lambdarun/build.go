package lambdarun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildConfig says what to build and where.
type BuildConfig struct {
	// Dir is the directory the go command runs in (inside the module);
	// "" is the current directory.
	Dir string
	// Out is where the binaries go: Out/<name>/bootstrap. Required.
	Out string
	// Packages are main packages, as the go command names them
	// ("./functions/verify", "github.com/…/functions/verify"). Each
	// package's last path element names its function, so they must
	// differ.
	Packages []string
}

// Build compiles the packages, in one go command, as Lambda bootstraps
// for this host: CGO off, -tags lambda.norpc, -trimpath, GOOS and GOARCH
// of this machine whatever the caller's environment says. It returns each
// function's bootstrap path by name. The go command's build cache makes
// a repeat build cost little more than linking.
func Build(ctx context.Context, c BuildConfig) (map[string]string, error) {
	if c.Out == "" {
		return nil, errors.New("lambdarun: BuildConfig.Out is empty: give a directory for the bootstraps (e.g. from os.MkdirTemp)")
	}
	if len(c.Packages) == 0 {
		return nil, errors.New("lambdarun: BuildConfig.Packages is empty: name at least one main package, e.g. ./functions/verify")
	}
	names := make(map[string]string, len(c.Packages))
	for _, p := range c.Packages {
		n := path.Base(filepath.ToSlash(p))
		if prev, ok := names[n]; ok {
			return nil, fmt.Errorf("lambdarun: packages %q and %q would both build %q; build them separately", prev, p, n)
		}
		names[n] = p
	}
	out, err := filepath.Abs(c.Out)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: output dir %q: %w", c.Out, err)
	}
	staging := filepath.Join(out, ".build")
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return nil, fmt.Errorf("lambdarun: create %s: %w", staging, err)
	}
	defer func() { _ = os.RemoveAll(staging) }()

	args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", staging + string(filepath.Separator)}, c.Packages...)
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("lambdarun: go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}

	paths := make(map[string]string, len(names))
	for n := range names {
		dir := filepath.Join(out, n)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("lambdarun: create %s: %w", dir, err)
		}
		dst := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(staging, n+exeSuffix()), dst); err != nil {
			return nil, fmt.Errorf("lambdarun: move %s's binary into place: %w", n, err)
		}
		paths[n] = dst
	}
	return paths, nil
}

// goCommand is the go command on PATH: under `go test` and `go run` that
// is the one running this program (it puts its GOROOT/bin first).
func goCommand() string { return "go" }

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}
