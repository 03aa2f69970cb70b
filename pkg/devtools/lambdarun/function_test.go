package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testFn is the path of testdata/fn built as a bootstrap, once per run.
var testFn string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdarun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	paths, err := Build(context.Background(), BuildConfig{Out: dir, Packages: []string{"./testdata/fn"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the test function:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	testFn = paths["fn"]
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func startFn(t *testing.T, c Config) *Function {
	t.Helper()
	if c.Name == "" {
		c.Name = "fn"
	}
	c.Bootstrap = testFn
	f, err := Start(c)
	if err != nil {
		t.Fatalf("Start(%+v) = %v", c, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func invoke(t *testing.T, f *Function, event string) *Result {
	t.Helper()
	res, err := f.Invoke(context.Background(), []byte(event))
	if err != nil {
		t.Fatalf("Invoke(%s) error = %v; want a result", event, err)
	}
	return res
}

type echoReply struct {
	Action       string `json:"action"`
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

func decodeEcho(t *testing.T, res *Result) echoReply {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("invocation error = %v; want a response", res.Err)
	}
	var r echoReply
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("decode response %q: %v", res.Payload, err)
	}
	return r
}

func TestInvokeGivesTheFunctionLambdasContext(t *testing.T) {
	t.Setenv("HOME", "/home/should-not-leak")
	f := startFn(t, Config{
		Name:    "echo-fn",
		Timeout: 2 * time.Second,
		Region:  "eu-west-1",
		Env:     []string{"LAMBDARUN_TEST_EXTRA=from-config"},
	})
	before := time.Now()
	res := invoke(t, f, `{"action":"echo"}`)
	got := decodeEcho(t, res)

	if got.RequestID != res.RequestID {
		t.Errorf("request id seen by the function = %q; want %q", got.RequestID, res.RequestID)
	}
	if want := "arn:aws:lambda:eu-west-1:123456789012:function:echo-fn"; got.FunctionARN != want || f.ARN() != want {
		t.Errorf("function ARN = %q (ARN() %q); want %q", got.FunctionARN, f.ARN(), want)
	}
	if got.FunctionName != "echo-fn" || got.Region != "eu-west-1" || got.Extra != "from-config" {
		t.Errorf("function env: name %q, region %q, extra %q; want echo-fn, eu-west-1, from-config", got.FunctionName, got.Region, got.Extra)
	}
	if got.Home != "" {
		t.Errorf("HOME in the function = %q; want it unset (nothing is inherited from the caller)", got.Home)
	}
	if got.TraceEnv != res.TraceID || !strings.HasPrefix(res.TraceID, "Root=1-") {
		t.Errorf("_X_AMZN_TRACE_ID = %q, result trace id %q; want the same Root=1-… header", got.TraceEnv, res.TraceID)
	}
	deadline := time.UnixMilli(got.DeadlineMS)
	if !deadline.Equal(res.Deadline.Truncate(time.Millisecond)) {
		t.Errorf("function's deadline = %v; want the result's %v", deadline, res.Deadline)
	}
	if d := deadline.Sub(before); d < 2*time.Second-50*time.Millisecond || d > 2*time.Second+f.cfg.InitTimeout {
		t.Errorf("deadline is %v after Invoke began; want about the 2s timeout after hand-out", d)
	}
	if !res.ColdStart || got.Count != 1 {
		t.Errorf("first invocation: ColdStart %v, count %d; want true, 1", res.ColdStart, got.Count)
	}

	res2 := invoke(t, f, `{"action":"echo"}`)
	got2 := decodeEcho(t, res2)
	if res2.ColdStart || got2.Count != 2 {
		t.Errorf("second invocation: ColdStart %v, count %d; want a warm process (false, 2)", res2.ColdStart, got2.Count)
	}
	if res2.RequestID == res.RequestID {
		t.Errorf("two invocations share request id %q", res.RequestID)
	}
}

func TestInvokeFailures(t *testing.T) {
	tests := []struct {
		name      string
		event     string
		timeout   time.Duration
		wantType  string
		wantInMsg string
		// wantCold: the next invocation starts a new process.
		wantCold bool
		// handlerSkipped: the event never reached the handler.
		handlerSkipped bool
	}{
		{name: "returned error", event: `{"action":"error","text":"on purpose"}`, wantType: "testError", wantInMsg: "asked to fail: on purpose"},
		{name: "panic", event: `{"action":"panic","text":"on purpose"}`, wantInMsg: "asked to panic: on purpose", wantCold: true},
		{name: "timeout", event: `{"action":"sleep","sleep":"1m"}`, timeout: time.Second, wantType: ErrorTypeTimeout, wantInMsg: "Task timed out after 1.00 seconds", wantCold: true},
		{name: "exit", event: `{"action":"exit"}`, wantType: ErrorTypeExit, wantInMsg: "exit status 3", wantCold: true},
		{name: "response too large", event: fmt.Sprintf(`{"action":"big","size":%d}`, MaxResponseBytes+10), wantType: ErrorTypeResponseSize, wantInMsg: "maximum allowed payload size", wantCold: true}, // aws-lambda-go exits when its response is refused
		{name: "bad event", event: `not json`, wantInMsg: "invalid character", handlerSkipped: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFn(t, Config{Timeout: tc.timeout})
			res := invoke(t, f, tc.event)
			if res.Err == nil {
				t.Fatalf("Invoke(%s) = response %.80q; want an error", tc.event, res.Payload)
			}
			if tc.wantType != "" && res.Err.Type != tc.wantType {
				t.Errorf("Invoke(%s) error type = %q; want %q (error %v)", tc.event, res.Err.Type, tc.wantType, res.Err)
			}
			if res.Err.Type == "" || !strings.Contains(res.Err.Message, tc.wantInMsg) {
				t.Errorf("Invoke(%s) error = %v; want a typed error containing %q", tc.event, res.Err, tc.wantInMsg)
			}
			if res.Payload != nil {
				t.Errorf("Invoke(%s) payload = %.80q alongside an error; want nil", tc.event, res.Payload)
			}
			after := invoke(t, f, `{"action":"echo"}`)
			got := decodeEcho(t, after)
			if after.ColdStart != tc.wantCold {
				t.Errorf("after %s, next invocation ColdStart = %v; want %v", tc.name, after.ColdStart, tc.wantCold)
			}
			wantCount := 2
			if tc.wantCold || tc.handlerSkipped {
				wantCount = 1
			}
			if got.Count != wantCount {
				t.Errorf("after %s, the process had handled %d invocations; want %d", tc.name, got.Count, wantCount)
			}
		})
	}
}

func TestInitFailures(t *testing.T) {
	tests := []struct {
		name        string
		init        string
		initTimeout time.Duration
		wantType    string
		wantInMsg   string
	}{
		{name: "init error reported", init: "error", wantType: "Runtime.ConfigError", wantInMsg: "TEST_SETTING is missing"},
		{name: "exit during init", init: "exit", wantType: ErrorTypeExit, wantInMsg: "exit status 4"},
		{name: "init hangs", init: "hang", initTimeout: 300 * time.Millisecond, wantType: ErrorTypeTimeout, wantInMsg: "init phase did not finish within 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFn(t, Config{InitTimeout: tc.initTimeout, Env: []string{"LAMBDARUN_TEST_INIT=" + tc.init}})
			res := invoke(t, f, `{"action":"echo"}`)
			if res.Err == nil || res.Err.Type != tc.wantType || !strings.Contains(res.Err.Message, tc.wantInMsg) {
				t.Fatalf("Invoke with LAMBDARUN_TEST_INIT=%s: error %v; want type %q containing %q", tc.init, res.Err, tc.wantType, tc.wantInMsg)
			}
			if !res.ColdStart {
				t.Errorf("ColdStart = false; want true")
			}
		})
	}
}

func TestAnsweredButBusyPastDeadlineIsReset(t *testing.T) {
	f := startFn(t, Config{Timeout: time.Second, Env: []string{"LAMBDARUN_TEST_INIT=linger"}})
	res := invoke(t, f, `{}`)
	if res.Err != nil || string(res.Payload) != `"answered"` {
		t.Fatalf("Invoke = %q, %v; want the answer \"answered\"", res.Payload, res.Err)
	}
	p := f.proc
	if !p.hasExited() {
		t.Errorf("process still running after it sat past its deadline without asking for the next event; want it reset")
	}
	if again := invoke(t, f, `{}`); !again.ColdStart {
		t.Errorf("next invocation ColdStart = false; want a fresh process")
	}
}

func TestInvokeLogs(t *testing.T) {
	var all strings.Builder
	f := startFn(t, Config{Logs: &syncWriter{w: &all}})
	res := invoke(t, f, `{"action":"log","text":"hello"}`)
	logs := string(res.Logs)
	for _, want := range []string{
		"START RequestId: " + res.RequestID,
		"stdout: hello",
		"stderr: hello",
		"END RequestId: " + res.RequestID,
		"REPORT RequestId: " + res.RequestID,
		"Init Duration:",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("Result.Logs = %q; want it to contain %q", logs, want)
		}
	}
	res2 := invoke(t, f, `{"action":"echo"}`)
	if strings.Contains(string(res2.Logs), "hello") || strings.Contains(string(res2.Logs), "Init Duration") {
		t.Errorf("second invocation's logs = %q; want only its own lines", res2.Logs)
	}
	if !strings.Contains(all.String(), "stdout: hello") || !strings.Contains(all.String(), "END RequestId: "+res2.RequestID) {
		t.Errorf("Config.Logs got %q; want every line of both invocations", all.String())
	}
}

func TestInvokeContextEnds(t *testing.T) {
	f := startFn(t, Config{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := f.Invoke(ctx, []byte(`{"action":"sleep","sleep":"1m"}`))
	if !errors.Is(err, context.DeadlineExceeded) || res != nil {
		t.Fatalf("Invoke with a 200ms ctx = %v, %v; want nil, context.DeadlineExceeded", res, err)
	}
	after := invoke(t, f, `{"action":"echo"}`)
	if !after.ColdStart {
		t.Errorf("after an abandoned invocation, ColdStart = false; want a new process")
	}
}

func TestClose(t *testing.T) {
	f := startFn(t, Config{})
	invoke(t, f, `{"action":"echo"}`)
	p := f.proc
	if err := f.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if !p.hasExited() {
		t.Errorf("process still running after Close")
	}
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close = %v; want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"no name", Config{Bootstrap: testFn}, "Config.Name is empty"},
		{"no bootstrap", Config{Name: "x"}, "Config.Bootstrap is empty"},
		{"missing bootstrap", Config{Name: "x", Bootstrap: "/nonexistent/bootstrap"}, "not an executable file"},
		{"negative timeout", Config{Name: "x", Bootstrap: testFn, Timeout: -time.Second}, "may not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Start(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start(%+v) = %v, %v; want an error containing %q", tc.c, f, err, tc.want)
			}
		})
	}
}

// BenchmarkInvokeWarm measures one invocation of a running process
// (about 12 ms here, 10 of them the log drain's quiet period).
func BenchmarkInvokeWarm(b *testing.B) {
	f, err := Start(Config{Name: "fn", Bootstrap: testFn})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ctx := context.Background()
	if _, err := f.Invoke(ctx, []byte(`{"action":"echo"}`)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := f.Invoke(ctx, []byte(`{"action":"echo"}`))
		if err != nil || res.Err != nil {
			b.Fatalf("Invoke = %v, %v", res, err)
		}
	}
}

// BenchmarkInvokeCold measures a cold start: process start, init, one
// invocation, and Close.
func BenchmarkInvokeCold(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		f, err := Start(Config{Name: "fn", Bootstrap: testFn})
		if err != nil {
			b.Fatal(err)
		}
		res, err := f.Invoke(ctx, []byte(`{"action":"echo"}`))
		if err != nil || res.Err != nil || !res.ColdStart {
			b.Fatalf("Invoke = %+v, %v; want a cold-start response", res, err)
		}
		_ = f.Close()
	}
}
