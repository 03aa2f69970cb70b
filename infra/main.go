// Command infra is the postdeploy CDK app: cdk.json runs it with `go run
// ./infra`. It reads the stack's props from the CDK context, builds the
// stack and runs the cdk-nag AwsSolutions checks on it.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/member"
	"github.com/postdeploy/postdeploy/infra/stack"
)

// StackName is the stack's name (and the prefix of its alarm and
// dashboard names).
const StackName = "Postdeploy"

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	props, err := stack.PropsFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return err
	}
	// No Env: the stack is environment-agnostic, so synth needs no AWS
	// credentials and `cdk deploy` targets the caller's account and region.
	central, err := stack.New(app, StackName, props)
	if err != nil {
		return err
	}
	// Member accounts ("Running across accounts" in the README): the
	// member stack's template goes to the central stack's StackSet, and
	// the member stack is in the app too, for accounts deployed by hand.
	members, err := stack.MembersFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return err
	}
	if members != nil {
		mp := member.Props{OptInTag: central.Props.OptInTag}
		tmpl, err := member.Template(mp)
		if err != nil {
			return err
		}
		stack.AddMembers(central, members, tmpl)
		if _, err := member.New(app, StackName+"Member", mp); err != nil {
			return err
		}
	}
	stack.Check(app)
	app.Synth(nil)
	return nil
}
