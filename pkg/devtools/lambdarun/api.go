package lambdarun

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runtime API paths and headers (API version 2018-06-01).
const (
	apiPrefix = "/2018-06-01/runtime"

	HeaderRequestID     = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS    = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID       = "Lambda-Runtime-Trace-Id"
	HeaderErrorType     = "Lambda-Runtime-Function-Error-Type"
	maxErrorBodyBytes   = 1 << 20
	maxInitErrorMessage = 64 << 10
)

// invocation is one event on its way through the Runtime API.
type invocation struct {
	id      string
	payload []byte
	traceID string
	// taken receives the deadline when the runtime takes the event.
	taken chan time.Time
	// result receives the response or error, once.
	result chan answer
	// finished is closed when the runtime asks for the next event after
	// answering this one.
	finished chan struct{}
	answered bool // guarded by process.mu
}

type answer struct {
	payload []byte
	err     *FunctionError
}

// process is one run of the bootstrap and the Runtime API it talks to.
type process struct {
	timeout time.Duration
	arn     string
	srv     *http.Server
	cmd     *exec.Cmd
	queue   chan *invocation
	exited  chan struct{}
	waitErr error // set before exited is closed

	mu      sync.Mutex
	cur     *invocation
	initErr *FunctionError
}

func (p *process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", p.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", p.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", p.invocationError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", p.initError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "UnknownOperation", fmt.Sprintf("%s %s is not part of the Lambda Runtime API this harness implements", r.Method, r.URL.Path))
	})
	return mux
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop kills the process and waits for it to be gone.
func (p *process) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// initFailure describes a process that exited before asking for an event.
func (p *process) initFailure(requestID string) *FunctionError {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.initErr != nil {
		return p.initErr
	}
	return &FunctionError{Type: ErrorTypeExit, Message: fmt.Sprintf("RequestId: %s Error: Runtime exited during init, before asking for an invocation: %s", requestID, exitText(p.waitErr))}
}

// next ends the current invocation, if any, and long-polls for the next.
func (p *process) next(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if c := p.cur; c != nil {
		if !c.answered {
			c.answered = true
			c.result <- answer{err: &FunctionError{Type: ErrorTypeNoResponse, Message: fmt.Sprintf("RequestId: %s Error: the runtime asked for the next event without answering this one", c.id)}}
		}
		close(c.finished)
		p.cur = nil
	}
	p.mu.Unlock()

	var inv *invocation
	select {
	case inv = <-p.queue:
	case <-r.Context().Done():
		return
	}
	deadline := time.Now().Add(p.timeout)
	p.mu.Lock()
	p.cur = inv
	p.mu.Unlock()
	inv.taken <- deadline

	h := w.Header()
	h.Set(HeaderRequestID, inv.id)
	h.Set(HeaderDeadlineMS, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(HeaderFunctionARN, p.arn)
	h.Set(HeaderTraceID, inv.traceID)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// current returns the invocation id names, answering the runtime's
// request with an error when it is not the one in flight.
func (p *process) current(w http.ResponseWriter, id string) *invocation {
	c := p.cur
	switch {
	case c == nil || c.id != id:
		apiError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("request id %q is not the invocation in progress", id))
		return nil
	case c.answered:
		apiError(w, http.StatusBadRequest, "InvalidStateTransition", fmt.Sprintf("invocation %q was already answered", id))
		return nil
	}
	return c
}

func (p *process) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "reading the response body: "+err.Error())
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.current(w, r.PathValue("id"))
	if c == nil {
		return
	}
	c.answered = true
	if len(body) > MaxResponseBytes {
		c.result <- answer{err: &FunctionError{Type: ErrorTypeResponseSize, Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes)}}
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("response is larger than %d bytes", MaxResponseBytes))
		return
	}
	c.result <- answer{payload: body}
	accepted(w)
}

func (p *process) invocationError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.current(w, r.PathValue("id"))
	if c == nil {
		return
	}
	c.answered = true
	c.result <- answer{err: fe}
	accepted(w)
}

func (p *process) initError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after the first invocation was handed out; use /invocation/{id}/error")
		return
	}
	p.initErr = fe
	accepted(w)
}

// readFunctionError decodes an error the runtime posted: the documented
// JSON body, with the type from the Lambda-Runtime-Function-Error-Type
// header when the body has none. A body that is not that JSON becomes the
// message.
func readFunctionError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBodyBytes))
	fe := &FunctionError{}
	if err := json.Unmarshal(body, fe); err != nil {
		fe = &FunctionError{Message: strings.TrimSpace(string(body))}
	}
	if fe.Type == "" {
		fe.Type = r.Header.Get(HeaderErrorType)
	}
	if fe.Type == "" {
		fe.Type = ErrorTypeUnknown
	}
	if len(fe.Message) > maxInitErrorMessage {
		fe.Message = fe.Message[:maxInitErrorMessage] + "…"
	}
	return fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(FunctionError{Type: typ, Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
