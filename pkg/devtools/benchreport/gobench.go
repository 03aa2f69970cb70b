package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	Package string
	// Name is the benchmark's name without the -GOMAXPROCS suffix.
	Name string
	N    int64
	// Metrics maps unit to value: "ns/op", "B/op", "allocs/op" and every
	// b.ReportMetric unit ("calls/op", "ms/sample", "findings/s").
	Metrics map[string]float64
}

// parseBench reads go test -bench output (several packages'), keeping
// the last result of each benchmark.
func parseBench(r io.Reader) ([]benchResult, error) {
	var out []benchResult
	index := map[string]int{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's own log line, or a failure
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		b := benchResult{Package: pkg, Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			b.Metrics[f[i+1]] = v
		}
		key := pkg + "." + name
		if i, ok := index[key]; ok {
			out[i] = b
			continue
		}
		index[key] = len(out)
		out = append(out, b)
	}
	return out, sc.Err()
}

// find returns the benchmark of that name (in any package ending with
// pkgSuffix).
func find(bs []benchResult, pkgSuffix, name string) (benchResult, bool) {
	for _, b := range bs {
		if b.Name == name && strings.HasSuffix(b.Package, pkgSuffix) {
			return b, true
		}
	}
	return benchResult{}, false
}
