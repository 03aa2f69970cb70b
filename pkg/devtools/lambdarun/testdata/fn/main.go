// Command fn is a tiny Lambda function for lambdarun's tests: one
// aws-lambda-go binary whose event says what to do (echo, fail, panic,
// sleep past its deadline, exit, log, answer too much), and whose
// LAMBDARUN_TEST_INIT variable makes its init phase fail.
package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string `json:"action"`
	Sleep  string `json:"sleep,omitempty"`
	Size   int    `json:"size,omitempty"`
	Text   string `json:"text,omitempty"`
}

type reply struct {
	Action       string `json:"action"`
	Text         string `json:"text,omitempty"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	FunctionName string `json:"functionName"`
	DeadlineMS   int64  `json:"deadlineMs"`
	TraceEnv     string `json:"traceEnv"`
	Region       string `json:"region"`
	Extra        string `json:"extra"`
	Home         string `json:"home"`
	Count        int    `json:"count"`
}

type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

var count int

func handle(ctx context.Context, ev event) (any, error) {
	count++
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	switch ev.Action {
	case "echo", "log":
		if ev.Action == "log" {
			fmt.Fprintln(os.Stdout, "stdout:", ev.Text)
			fmt.Fprintln(os.Stderr, "stderr:", ev.Text)
		}
		return reply{
			Action:       ev.Action,
			Text:         ev.Text,
			RequestID:    lc.AwsRequestID,
			FunctionARN:  lc.InvokedFunctionArn,
			FunctionName: lambdacontext.FunctionName,
			DeadlineMS:   dl.UnixMilli(),
			TraceEnv:     os.Getenv("_X_AMZN_TRACE_ID"),
			Region:       os.Getenv("AWS_REGION"),
			Extra:        os.Getenv("LAMBDARUN_TEST_EXTRA"),
			Home:         os.Getenv("HOME"),
			Count:        count,
		}, nil
	case "error":
		return nil, &testError{msg: "asked to fail: " + ev.Text}
	case "panic":
		panic("asked to panic: " + ev.Text)
	case "sleep":
		d, err := time.ParseDuration(ev.Sleep)
		if err != nil {
			return nil, fmt.Errorf("sleep %q: %w", ev.Sleep, err)
		}
		time.Sleep(d) // deliberately ignores ctx: runs past the deadline
		return reply{Action: ev.Action, Count: count}, nil
	case "exit":
		os.Exit(3)
	case "big":
		return strings.Repeat("x", ev.Size), nil
	}
	return nil, fmt.Errorf("unknown action %q", ev.Action)
}

func main() {
	switch os.Getenv("LAMBDARUN_TEST_INIT") {
	case "error":
		body := `{"errorType":"Runtime.ConfigError","errorMessage":"TEST_SETTING is missing"}`
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
		if err == nil {
			_ = resp.Body.Close()
		}
		os.Exit(1)
	case "exit":
		fmt.Fprintln(os.Stderr, "init: cannot start")
		os.Exit(4)
	case "hang":
		time.Sleep(time.Hour)
	case "linger":
		// A raw runtime that answers, then never asks for the next event.
		api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
		resp, err := http.Get(api + "next")
		if err != nil {
			os.Exit(5)
		}
		_ = resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		if resp, err := http.Post(api+id+"/response", "application/json", bytes.NewBufferString(`"answered"`)); err == nil {
			_ = resp.Body.Close()
		}
		time.Sleep(time.Hour)
	}
	lambda.Start(handle)
}
