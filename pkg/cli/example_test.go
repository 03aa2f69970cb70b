package cli_test

import (
	"fmt"
	"os"

	"github.com/postdeploy/postdeploy/pkg/cli"
)

// LintFile reports every problem of a spec with its line, column and
// field path, as `postdeploy lint` prints them.
func ExampleLintFile() {
	spec := []byte(`bake: 10m
interval: 15m
checks:
  - name: health
    http: {url: "https://api.example.com/health", retries: 20}
    expect: 'status == 200 &&'
`)
	res := cli.LintFile("verify.yaml", spec, nil)
	for _, p := range res.Problems {
		fmt.Println(p.File, p.Line, p.Column, p.Path)
	}
	fmt.Println("valid:", res.Valid)
	// Output:
	// verify.yaml 2 1 interval
	// verify.yaml 5 51 checks[0].http.retries
	// verify.yaml 6 5 checks[0].expect
	// valid: false
}

// Main is the whole tool: arguments in, exit status out.
func ExampleMain() {
	code := cli.Main([]string{"lint", "testdata/bad.json"}, os.Stdout, os.Stderr)
	fmt.Println("exit status", code)
	// Output:
	// testdata/bad.json:3:65: checks[0].http.retries: must be between 0 and 10, got 11
	// testdata/bad.json:4:56: checks[1].imageScan.digest: must look like sha256:<64 hex digits>, got "sha256:nope"
	// testdata/bad.json: 2 problems
	// exit status 1
}
