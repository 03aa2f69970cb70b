package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// packageSize is one function's deployment package.
type packageSize struct {
	Function string
	// Binary and Zipped are the linux/arm64 bootstrap (make build) and
	// its deflated zip, in bytes.
	Binary, Zipped int64
	// Top are the modules whose symbols take the most of the host
	// build's text and data, largest first.
	Top []moduleSize
	// SymbolTotal is the sum of every sized symbol.
	SymbolTotal int64
	// Breakers switch off method dead-code elimination.
	Breakers []dceBreaker
}

type moduleSize struct {
	Module string
	Bytes  int64
}

// measureSize zips dist (the deployment bootstrap) as Lambda's zip
// upload would and sums hostBin's symbol sizes per module (the deployed
// binary is stripped, so its own symbols are gone; the host build has
// the same packages).
func measurePackage(ctx context.Context, dist, hostBin string) (packageSize, error) {
	var sz packageSize
	b, err := os.ReadFile(dist)
	if err != nil {
		return sz, fmt.Errorf("read the deployment bootstrap: %w (run make build first: it writes dist/<fn>/bootstrap for linux/arm64)", err)
	}
	sz.Binary = int64(len(b))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return sz, fmt.Errorf("zip %s: %w", dist, err)
	}
	if _, err := w.Write(b); err != nil {
		return sz, fmt.Errorf("zip %s: %w", dist, err)
	}
	if err := zw.Close(); err != nil {
		return sz, fmt.Errorf("zip %s: %w", dist, err)
	}
	sz.Zipped = int64(buf.Len())

	cmd := exec.CommandContext(ctx, "go", "tool", "nm", "-size", "-sort", "size", hostBin)
	out, err := cmd.Output()
	if err != nil {
		return sz, fmt.Errorf("go tool nm -size %s: %w", hostBin, err)
	}
	sz.Top, sz.SymbolTotal = symbolsByModule(bytes.NewReader(out))
	return sz, nil
}

// symbolsByModule sums the text and read-only data symbols of `go tool
// nm -size` output per module: the AWS SDK
// per service client, the Go standard library as one, everything else by
// its module path (the first three elements of a github.com path).
func symbolsByModule(r io.Reader) ([]moduleSize, int64) {
	sums := map[string]int64{}
	var total int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		// address size type name
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n == 0 || !strings.ContainsAny(f[2], "TtRr") {
			continue // data and bss take little or nothing of the file
		}
		total += n
		sums[moduleOf(strings.Join(f[3:], " "))] += n
	}
	out := make([]moduleSize, 0, len(sums))
	for m, n := range sums {
		out = append(out, moduleSize{m, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out, total
}

// moduleOf names the module a symbol belongs to.
func moduleOf(sym string) string {
	if strings.HasPrefix(sym, "go:func.") || strings.HasPrefix(sym, "runtime.findfunctab") || strings.HasPrefix(sym, "runtime.pclntab") {
		return "Go function metadata (pclntab)"
	}
	for _, p := range []string{"type:.eq.", "type:", "go:itab.", "go:", "*"} {
		sym = strings.TrimPrefix(sym, p)
	}
	// The package path ends at the first "." after the last "/".
	pkg := sym
	slash := strings.LastIndex(pkg, "/")
	if dot := strings.Index(pkg[slash+1:], "."); dot >= 0 {
		pkg = pkg[:slash+1+dot]
	}
	parts := strings.Split(pkg, "/")
	switch {
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") && len(parts) >= 5:
		return "aws-sdk-go-v2/service/" + parts[4]
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2"):
		return "aws-sdk-go-v2 (core)"
	case strings.HasPrefix(pkg, "github.com/postdeploy/postdeploy/"):
		return "postdeploy/" + strings.Join(parts[3:min(len(parts), 5)], "/")
	case strings.Contains(parts[0], "."):
		return strings.Join(parts[:min(len(parts), 3)], "/")
	case pkg == "main":
		return "main (functions/<fn>)"
	case pkg == "runtime" || strings.HasPrefix(pkg, "runtime/") || strings.HasPrefix(pkg, "internal/"):
		return "Go runtime"
	case !strings.ContainsAny(pkg, " ()[]{}"):
		return "Go standard library"
	}
	return "other (type descriptors, closures)"
}
