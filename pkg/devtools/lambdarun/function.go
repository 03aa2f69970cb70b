package lambdarun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Defaults, as Lambda's own where Lambda has one.
const (
	// DefaultTimeout is Lambda's default function timeout.
	DefaultTimeout = 3 * time.Second
	// DefaultInitTimeout is how long the init phase (process start to the
	// first GET /next) may take, as in Lambda.
	DefaultInitTimeout = 10 * time.Second
	// DefaultMemoryMB is Lambda's default memory size.
	DefaultMemoryMB = 128
	// DefaultRegion and DefaultAccountID make up the function ARN and
	// AWS_REGION when Config leaves them empty.
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	// MaxResponseBytes is Lambda's limit on a synchronous response (6 MB).
	MaxResponseBytes = 6 * 1024 * 1024
)

// Error types the harness reports itself, spelled as Lambda spells them.
const (
	ErrorTypeTimeout      = "Sandbox.Timedout"
	ErrorTypeExit         = "Runtime.ExitError"
	ErrorTypeNoResponse   = "Runtime.NoResponse"
	ErrorTypeResponseSize = "Function.ResponseSizeTooLarge"
	ErrorTypeUnknown      = "Runtime.Unknown"
)

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambdarun: function closed")

// Config describes one function.
type Config struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME and the ARN's
	// last part). Required.
	Name string
	// Bootstrap is the path of the executable to run. Required.
	Bootstrap string
	// Env is added to the function's environment, after the variables
	// Lambda sets, so it can override them (e.g. the stand-in's
	// AWS_ENDPOINT_URL and credentials, or the function's own settings).
	// Entries are KEY=VALUE. Nothing is inherited from this process.
	Env []string
	// Timeout is the function timeout: each invocation's deadline is the
	// time it is handed to the runtime plus Timeout (default
	// DefaultTimeout).
	Timeout time.Duration
	// InitTimeout bounds a cold start's init phase (default
	// DefaultInitTimeout).
	InitTimeout time.Duration
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128).
	MemoryMB int
	// Region and AccountID make the ARN and AWS_REGION (defaults
	// DefaultRegion, DefaultAccountID).
	Region    string
	AccountID string
	// LogFormat is AWS_LAMBDA_LOG_FORMAT: "JSON" (default) or "Text".
	LogFormat string
	// Logs receives everything the function writes to stdout and stderr,
	// and the START/END/REPORT lines, as they happen. Nil discards them
	// (each Result still has its own).
	Logs io.Writer
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("lambdarun: Config.Name is empty: name the function, e.g. \"verify\""))
	}
	if c.Bootstrap == "" {
		errs = append(errs, errors.New("lambdarun: Config.Bootstrap is empty: give the path of the function's executable (see Build)"))
	}
	if c.Timeout < 0 || c.InitTimeout < 0 || c.MemoryMB < 0 {
		errs = append(errs, fmt.Errorf("lambdarun: Config.Timeout (%s), InitTimeout (%s) and MemoryMB (%d) may not be negative", c.Timeout, c.InitTimeout, c.MemoryMB))
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.LogFormat == "" {
		c.LogFormat = "JSON"
	}
	if c.Logs == nil {
		c.Logs = io.Discard
	}
	return c, errors.Join(errs...)
}

// FunctionError is an invocation's error, as the Lambda Invoke API returns
// it: what the function reported to /error or /init/error, or what the
// harness saw (a timeout, the process exiting).
type FunctionError struct {
	Type       string `json:"errorType"`
	Message    string `json:"errorMessage"`
	StackTrace any    `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// Result is one invocation's outcome.
type Result struct {
	RequestID string
	TraceID   string
	// Payload is the function's response; nil when Err is set.
	Payload []byte
	// Err is the function's error; nil on success.
	Err *FunctionError
	// ColdStart says the process was started for this invocation;
	// InitDuration is then the time from start to its first GET /next.
	ColdStart    bool
	InitDuration time.Duration
	// Duration is from hand-out to the response (or the timeout).
	Duration time.Duration
	// Deadline is the deadline the function was given.
	Deadline time.Time
	// Logs is what the function wrote during this invocation (its init
	// too, on a cold start), framed by START, END and REPORT lines.
	Logs []byte
}

// Function is a function's Runtime API and, between its first Invoke and
// Close, its running bootstrap process. Invoke may be called from several
// goroutines; invocations run one at a time, as in one Lambda execution
// environment.
type Function struct {
	cfg  Config
	arn  string
	logs *logSink

	mu     sync.Mutex // serialises Invoke and Close
	proc   *process
	closed bool
}

// Start validates cfg and returns the function, ready to Invoke. The
// bootstrap starts on the first Invoke. Close it when done.
func Start(cfg Config) (*Function, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: bootstrap path %q: %w", cfg.Bootstrap, err)
	}
	if _, err := exec.LookPath(abs); err != nil {
		return nil, fmt.Errorf("lambdarun: bootstrap %q is not an executable file: %w; build it first (lambdarun.Build)", abs, err)
	}
	cfg.Bootstrap = abs
	return &Function{
		cfg:  cfg,
		arn:  fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.AccountID, cfg.Name),
		logs: &logSink{out: cfg.Logs},
	}, nil
}

// Name returns the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// ARN returns the function ARN sent in Lambda-Runtime-Invoked-Function-Arn.
func (f *Function) ARN() string { return f.arn }

// Timeout returns the function timeout.
func (f *Function) Timeout() time.Duration { return f.cfg.Timeout }

// Invoke hands payload to the function as one invocation and waits for its
// response, its error, its deadline or its process's exit. The function's
// failures are in Result.Err; Invoke's error means the harness could not
// run the invocation (the process could not start, ctx ended, Close was
// called) and the Result is nil.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	res := &Result{RequestID: newRequestID(), TraceID: newTraceID()}
	capture := f.logs.begin()
	defer f.logs.end()

	p := f.proc
	if p == nil || p.hasExited() {
		if p != nil {
			p.stop()
		}
		var err error
		if p, err = f.spawn(); err != nil {
			f.proc = nil
			return nil, err
		}
		f.proc = p
		res.ColdStart = true
	}
	f.logs.platform(fmt.Sprintf("START RequestId: %s Version: $LATEST\n", res.RequestID))

	inv := &invocation{
		id:       res.RequestID,
		payload:  payload,
		traceID:  res.TraceID,
		taken:    make(chan time.Time, 1),
		result:   make(chan answer, 1),
		finished: make(chan struct{}),
	}
	if err := f.handOut(ctx, p, inv, res); err != nil {
		return nil, err
	}
	if res.Err == nil {
		if err := f.await(ctx, p, inv, res); err != nil {
			return nil, err
		}
	}

	f.logs.drain()
	f.logs.platform(fmt.Sprintf("END RequestId: %s\n", res.RequestID))
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB",
		res.RequestID, ms(res.Duration), int64(ms(res.Duration)+0.999999), f.cfg.MemoryMB)
	if res.ColdStart {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", ms(res.InitDuration))
	}
	if res.Err != nil && (res.Err.Type == ErrorTypeTimeout || res.Err.Type == ErrorTypeExit) {
		report += "\tStatus: " + res.Err.Type
	}
	f.logs.platform(report + "\n")
	res.Logs = capture.Bytes()
	return res, nil
}

// handOut waits for the runtime to ask for the next event and gives it
// inv. On a cold start it also covers the init phase. It sets res.Err when
// the process dies or init times out first.
func (f *Function) handOut(ctx context.Context, p *process, inv *invocation, res *Result) error {
	start := time.Now()
	var initTimeout <-chan time.Time
	if res.ColdStart {
		t := time.NewTimer(f.cfg.InitTimeout)
		defer t.Stop()
		initTimeout = t.C
	}
	select {
	case p.queue <- inv:
	case <-p.exited:
		res.Err = p.initFailure(inv.id)
		res.InitDuration = time.Since(start)
		return nil
	case <-initTimeout:
		p.stop()
		res.Err = &FunctionError{Type: ErrorTypeTimeout, Message: fmt.Sprintf("RequestId: %s Error: init phase did not finish within %s (the runtime never asked for an invocation)", inv.id, f.cfg.InitTimeout)}
		res.InitDuration = time.Since(start)
		return nil
	case <-ctx.Done():
		if res.ColdStart {
			p.stop()
		}
		return fmt.Errorf("lambdarun: invoke %s: waiting for the runtime: %w", f.cfg.Name, ctx.Err())
	}
	res.Deadline = <-inv.taken
	if res.ColdStart {
		res.InitDuration = time.Since(start)
	}
	return nil
}

// await waits for the handed-out invocation's answer, then for the
// runtime to come back for the next event (the invocation's end, in
// Lambda's terms), so logs written after the response are attributed to
// it.
func (f *Function) await(ctx context.Context, p *process, inv *invocation, res *Result) error {
	start := time.Now()
	deadline := time.NewTimer(time.Until(res.Deadline))
	defer deadline.Stop()

	settle := func(a answer) {
		res.Duration = time.Since(start)
		res.Payload, res.Err = a.payload, a.err
	}
	select {
	case a := <-inv.result:
		settle(a)
		select {
		case <-inv.finished:
		case <-p.exited:
		case <-deadline.C:
			// Answered, but still busy at the deadline: Lambda resets
			// such an environment, so the next Invoke starts afresh.
			p.stop()
		case <-ctx.Done():
		}
	case <-deadline.C:
		res.Duration = time.Since(start)
		p.stop()
		res.Err = &FunctionError{Type: ErrorTypeTimeout, Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, f.cfg.Timeout.Seconds())}
	case <-p.exited:
		select {
		case a := <-inv.result: // answered, then exited (a panic)
			settle(a)
		default:
			res.Duration = time.Since(start)
			res.Err = &FunctionError{Type: ErrorTypeExit, Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", inv.id, exitText(p.waitErr))}
		}
	case <-ctx.Done():
		p.stop()
		return fmt.Errorf("lambdarun: invoke %s (request %s): %w", f.cfg.Name, inv.id, ctx.Err())
	}
	return nil
}

// Close kills the function's process, if any, and waits for it to exit.
// An invocation in flight is finished first (end it sooner by cancelling
// its ctx). Invoke returns ErrClosed afterwards. It is safe to call twice.
func (f *Function) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.proc != nil {
		f.proc.stop()
		f.proc = nil
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// env is the environment Lambda gives a function (plus fixed, obviously
// fake credentials, in place of the execution role's), then cfg.Env.
func (f *Function) env(api string) []string {
	c := f.cfg
	stream := time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + c.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + c.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + stream,
		"AWS_LAMBDA_LOG_FORMAT=" + c.LogFormat,
		"AWS_REGION=" + c.Region,
		"AWS_DEFAULT_REGION=" + c.Region,
		"AWS_ACCESS_KEY_ID=ASIALAMBDARUNLOCAL00",
		"AWS_SECRET_ACCESS_KEY=lambdarun-local-not-a-real-secret",
		"AWS_SESSION_TOKEN=lambdarun-local-not-a-real-token",
		// Not Lambda's, but keeps the SDK from ever probing the instance
		// metadata service from a developer's machine.
		"AWS_EC2_METADATA_DISABLED=true",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + filepath.Dir(c.Bootstrap),
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
	}
	return append(env, c.Env...)
}

// spawn starts a new process with its own Runtime API listener, so
// requests from a process that was killed can never touch the next one.
func (f *Function) spawn() (*process, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") //nolint:noctx // the listener lives until Close, not for one call
	if err != nil {
		return nil, fmt.Errorf("lambdarun: listen for %s's runtime API: %w", f.cfg.Name, err)
	}
	p := &process{
		timeout: f.cfg.Timeout,
		arn:     f.arn,
		queue:   make(chan *invocation),
		exited:  make(chan struct{}),
	}
	p.srv = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()

	cmd := exec.Command(f.cfg.Bootstrap) //nolint:noctx // the process outlives any one call; Close kills it
	cmd.Dir = filepath.Dir(f.cfg.Bootstrap)
	cmd.Env = f.env(ln.Addr().String())
	cmd.Stdout = f.logs
	cmd.Stderr = f.logs
	// A grandchild holding the output pipe must not keep Wait blocked.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		_ = p.srv.Close()
		return nil, fmt.Errorf("lambdarun: start %s (%s): %w", f.cfg.Name, f.cfg.Bootstrap, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		_ = p.srv.Close()
		close(p.exited)
	}()
	return p, nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header, as Lambda sends it.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
