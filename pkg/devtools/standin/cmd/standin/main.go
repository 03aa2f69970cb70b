// Command standin runs the local AWS stand-in on its own: it loads a
// scenario, listens, prints the environment a client needs, and logs
// every call until interrupted.
//
//	go run ./pkg/devtools/standin/cmd/standin -scenario pkg/devtools/standin/testdata/scenario.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

func main() {
	scenario := flag.String("scenario", "", "scenario file (JSON or YAML); empty for an empty world")
	addr := flag.String("addr", "127.0.0.1:4566", "listen address")
	flag.Parse()
	if err := run(*scenario, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
}

func run(path, addr string) error {
	var sc standin.Scenario
	if path != "" {
		var err error
		if sc, err = standin.LoadScenario(path); err != nil {
			return err
		}
	}
	s, err := standin.New(sc, standin.WithAddr(addr), standin.WithObserver(func(c standin.Call) { fmt.Println(c) }))
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintln(os.Stderr, "standin listening; export these to point the AWS SDK at it:")
	for _, kv := range s.Env() {
		fmt.Fprintln(os.Stderr, "  export "+kv)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(os.Stderr, "calls by operation:")
	for _, l := range standin.Summary(s.Calls()) {
		fmt.Fprintln(os.Stderr, "  "+l)
	}
	return nil
}
