package lambdarun

import (
	"context"
	"fmt"
	"os"
)

// Build a function's bootstrap for this host, start it under the Runtime
// API and invoke it twice: a cold start, then the warm process.
func ExampleStart() {
	ctx := context.Background()
	out, _ := os.MkdirTemp("", "bootstraps-")
	defer func() { _ = os.RemoveAll(out) }()
	paths, err := Build(ctx, BuildConfig{Out: out, Packages: []string{"./testdata/fn"}})
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := Start(Config{Name: "fn", Bootstrap: paths["fn"], Env: []string{"LAMBDARUN_TEST_EXTRA=hello"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = f.Close() }()

	res, err := f.Invoke(ctx, []byte(`{"action":"error","text":"demo"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.ColdStart, res.Err)

	res, _ = f.Invoke(ctx, []byte(`{"action":"echo"}`))
	fmt.Println(res.ColdStart, res.Err == nil)
	// Output:
	// true testError: asked to fail: demo
	// false true
}
