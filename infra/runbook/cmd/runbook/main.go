// Command runbook writes the Monitoring Runbook from the stack's own
// definitions (`make runbook`, run from the module root):
//
//	go run ./infra/runbook/cmd/runbook [-root .] [-out infra/monitoring/MONITORING.md]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/runbook"
)

func main() {
	root := flag.String("root", ".", "the module root")
	out := flag.String("out", runbook.Output, "the document to write, relative to -root")
	flag.Parse()
	err := run(*root, *out)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runbook:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	doc, err := runbook.Generate(root)
	if err != nil {
		return err
	}
	path := filepath.Join(root, out)
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Println("runbook: wrote", path)
	return nil
}
