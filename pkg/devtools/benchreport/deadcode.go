package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// dceBreaker is a function that switches off the linker's dead-code
// elimination of methods: it calls reflect's Method or MethodByName with
// a name the linker cannot see, so every exported method of every
// reachable type is kept (for an AWS SDK client, every operation and its
// serialisers). From is the chain from the module's own code that made
// it reachable, nearest first.
type dceBreaker struct {
	Func string
	From []string
}

// findDCEBreakers links pkg (a main package) for linux/arm64 with
// -ldflags=-dumpdep and names the ReflectMethod functions outside
// package reflect, with how the module reaches each.
func findDCEBreakers(ctx context.Context, root, pkg string) ([]dceBreaker, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-dumpdep", "-o", os.DevNull, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build -ldflags=-dumpdep %s: %w\n%s", pkg, err, tail(out.Bytes(), 20))
	}
	return parseDumpdep(&out, "github.com/postdeploy/postdeploy/"), nil
}

// parseDumpdep reads the linker's "caller -> callee" lines.
func parseDumpdep(r io.Reader, module string) []dceBreaker {
	const mark = " <ReflectMethod>"
	firstCaller := map[string]string{}
	breakers := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		from, to = strings.TrimSuffix(from, mark), strings.TrimSuffix(to, mark)
		if strings.HasSuffix(sc.Text(), mark) && !strings.HasPrefix(to, "reflect.") {
			breakers[to] = true
		}
		if _, seen := firstCaller[to]; !seen && from != to {
			firstCaller[to] = from
		}
	}
	var out []dceBreaker
	for b := range breakers {
		d := dceBreaker{Func: b}
		seen := map[string]bool{b: true}
		for at := b; len(d.From) < 40; {
			c, ok := firstCaller[at]
			if !ok || seen[c] {
				break
			}
			seen[c] = true
			d.From = append(d.From, c)
			if strings.HasPrefix(c, module) {
				break
			}
			at = c
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Func < out[j].Func })
	return out
}

// origin is where the module's own code reaches the breaker, or "".
func (d dceBreaker) origin(module string) string {
	if len(d.From) > 0 && strings.HasPrefix(d.From[len(d.From)-1], module) {
		return strings.TrimPrefix(d.From[len(d.From)-1], module)
	}
	return ""
}
