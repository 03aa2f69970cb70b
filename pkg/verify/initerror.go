package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// InitErrorType is the error type verify gives Lambda when it cannot
// start. Lambda accepts any string and recommends <category>.<reason>;
// the Runtime Interface Emulator keeps only types of the form
// Runtime.Xxx or Function.Xxx (anything else becomes Runtime.Unknown).
const InitErrorType = "Runtime.ConfigError"

// ReportInitError tells Lambda, through the Runtime API at runtimeAPI
// (the AWS_LAMBDA_RUNTIME_API host:port), that the function failed to
// initialise and why: POST /2018-06-01/runtime/init/error with the
// Lambda-Runtime-Function-Error-Type header and a JSON body of
// errorMessage, errorType and stackTrace ("Using the Lambda runtime API
// for custom runtimes", Initialization error,
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror).
// Lambda then fails the invocation with this type and message instead of
// a bare Runtime.ExitError. The runtime must exit afterwards: it will
// not be given an event. aws-lambda-go has no call for this, so verify
// makes it itself. client nil means a client with a 5 s timeout that,
// like aws-lambda-go's, never goes through a proxy.
func ReportInitError(ctx context.Context, client *http.Client, runtimeAPI string, cause error) error {
	if runtimeAPI == "" {
		return errors.New("report init error: AWS_LAMBDA_RUNTIME_API is not set (not running under Lambda)")
	}
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	}
	body, err := json.Marshal(struct {
		Message    string   `json:"errorMessage"`
		Type       string   `json:"errorType"`
		StackTrace []string `json:"stackTrace"`
	}{cause.Error(), InitErrorType, []string{}})
	if err != nil {
		return fmt.Errorf("report init error: %w", err)
	}
	url := "http://" + runtimeAPI + "/2018-06-01/runtime/init/error"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("report init error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", InitErrorType)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("report init error to %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("report init error to %s: status %d: %s", url, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
