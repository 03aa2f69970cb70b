package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runDrillCommand is `go run ./pkg/devtools/demo drill` (`make drill`
// without STACK): the alert drill against the local demo stack, with
// the real respond and remediate binaries under the Lambda harness.
func runDrillCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "stream the functions' logs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var logs io.Writer
	if *verbose {
		logs = stderr
	}
	fmt.Fprintln(stderr, "postdeploy drill on the local demo stack: building the functions…")
	r, err := newRig(ctx, logs)
	if err != nil {
		fmt.Fprintf(stderr, "drill: %v\n", err)
		return 1
	}
	defer r.Close()
	rep, d, err := r.runDrill(ctx, stderr)
	if d != nil {
		defer d.Close()
	}
	if rep != nil {
		if werr := rep.Write(stdout); werr != nil {
			fmt.Fprintf(stderr, "drill: %v\n", werr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "drill: %v\n", err)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}
