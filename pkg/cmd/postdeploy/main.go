// Command postdeploy is the postdeploy command line tool: lint a
// verification spec, run a verification with your AWS credentials, print
// the spec's JSON Schema. Install it with
//
//	go install github.com/postdeploy/postdeploy/pkg/cmd/postdeploy@latest
//
// It only wires; pkg/cli holds the tool.
package main

import (
	"os"

	"github.com/postdeploy/postdeploy/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
