package cli

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

func (a *App) schema(args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(a.Stderr, "postdeploy schema takes no arguments, got %q\n", args)
		return ExitUsage
	}
	if _, err := a.Stdout.Write(spec.JSONSchema); err != nil {
		fmt.Fprintf(a.Stderr, "postdeploy schema: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}
