package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

func TestDrillCommand(t *testing.T) {
	si := standin.StartT(t, standin.Scenario{})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no stack", []string{"drill"}, ExitUsage, "name the stack"},
		{"stray argument", []string{"drill", "--stack", "P", "extra"}, ExitUsage, "name the stack"},
		// CloudFormation has no such stack: nothing is touched, the
		// message names the stack and what to check.
		{"no such stack", []string{"drill", "--stack", "Nope"}, ExitUndecided, `stack "Nope": no such stack`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			a := &App{Stdout: &out, Stderr: &errOut, AWSConfig: func(context.Context) (aws.Config, error) { return si.Config(), nil }}
			code := a.Run(context.Background(), tc.args)
			if code != tc.wantCode || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("postdeploy %s = %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errOut.String(), tc.wantCode, tc.wantErr)
			}
		})
	}
	if n := len(si.CallsTo(standin.CloudWatch, "SetAlarmState")); n != 0 {
		t.Errorf("SetAlarmState called %d times; want none", n)
	}
}
