package expect_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check/expect"
)

// env is a check kind's expression environment: it embeds expect.Context.
type env struct {
	expect.Context
	Body string `expr:"body"`
}

func ExampleProgram_Run() {
	p, err := expect.Compile(`none(1..999999, body contains "x")`, env{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A million scans of a 1 MiB body take minutes; the check's timeout
	// (here 100ms) ends the evaluation, and the sample is an Error.
	_, err = p.Run(context.Background(), 100*time.Millisecond, env{Body: strings.Repeat("a", 1<<20)})
	fmt.Println(err)
	// Output:
	// expect expression did not finish within 100ms (the check's timeout); make it do less work, e.g. test json fields instead of scanning body in a loop
}
