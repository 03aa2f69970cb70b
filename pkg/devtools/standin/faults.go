package standin

import (
	"fmt"
	"net/http"
	"time"
)

// FaultKind is what an injected fault does to a call.
type FaultKind int

// The faults the stand-in can inject.
const (
	// FaultThrottle answers with the throttling error code the SDK's
	// retryer recognises for the protocol: ThrottlingException (JSON),
	// Throttling (Query, CloudWatch), RequestLimitExceeded (EC2),
	// TooManyRequestsException (Lambda), SlowDown (S3).
	FaultThrottle FaultKind = iota + 1
	// FaultServerError answers 500 InternalFailure (or Fault.Status, e.g.
	// 503 ServiceUnavailable).
	FaultServerError
	// FaultLatency delays the call by Fault.Delay, then answers normally.
	FaultLatency
	// FaultReset closes the connection without answering.
	FaultReset
	// FaultServerErrorAfterApply runs the operation — it takes effect
	// and the call is recorded — and then answers 500 InternalFailure
	// (or Fault.Status/Code) instead of its output: the service acted,
	// the client cannot know it. InternalFailure is documented as "The
	// request processing has failed because of an unknown error,
	// exception or failure" (Common Errors of every AWS API reference),
	// which says nothing of whether the change was made.
	FaultServerErrorAfterApply
)

func (k FaultKind) String() string {
	switch k {
	case FaultThrottle:
		return "throttle"
	case FaultServerError:
		return "server-error"
	case FaultLatency:
		return "latency"
	case FaultReset:
		return "reset"
	case FaultServerErrorAfterApply:
		return "applied-then-server-error"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is one injected fault.
type Fault struct {
	Kind FaultKind
	// Times is how many calls the fault hits; 0 means every call until
	// ClearFaults.
	Times int
	// Delay is added before answering (any kind; required for
	// FaultLatency).
	Delay time.Duration
	// Code overrides the error code answered (FaultThrottle,
	// FaultServerError).
	Code string
	// Status overrides the HTTP status (FaultServerError: 500 by default).
	Status int
}

type faultKey struct{ service, op string }

// Inject arms a fault for service's operation ("" = every operation of
// the service). A later Inject for the same pair replaces it.
func (s *Server) Inject(service, operation string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fc := f
	s.faults[faultKey{service, operation}] = &fc
}

// ClearFaults disarms every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[faultKey]*Fault{}
}

// takeFault returns the fault that hits this call, counting it down.
func (s *Server) takeFault(service, op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range []faultKey{{service, op}, {service, ""}} {
		f, ok := s.faults[k]
		if !ok {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				delete(s.faults, k)
			}
		}
		return &hit
	}
	return nil
}

// failsAfterApply reports whether the fault answers with an error after
// the operation took effect (f may be nil: no fault).
func (f *Fault) failsAfterApply() bool { return f != nil && f.Kind == FaultServerErrorAfterApply }

// apiError is the error a throttle or server-error fault answers with.
func (f *Fault) apiError(req *request) *APIError {
	if f.Kind == FaultServerError || f.Kind == FaultServerErrorAfterApply {
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		code := f.Code
		if code == "" {
			code = "InternalFailure"
			if status == http.StatusServiceUnavailable {
				code = "ServiceUnavailable"
			}
		}
		return apiErr(status, code, "injected fault: %s %s failed on the server side", req.service, req.op)
	}
	status, code := http.StatusBadRequest, "ThrottlingException"
	switch {
	case req.service == CloudWatch || req.proto == ProtoQuery:
		code = "Throttling"
	case req.proto == ProtoEC2Query:
		code = "RequestLimitExceeded"
	case req.service == Lambda:
		status, code = http.StatusTooManyRequests, "TooManyRequestsException"
	case req.service == Inspector2:
		status = http.StatusTooManyRequests
	case req.service == S3:
		status, code = http.StatusServiceUnavailable, "SlowDown"
	}
	if f.Code != "" {
		code = f.Code
	}
	if f.Status != 0 {
		status = f.Status
	}
	return apiErr(status, code, "injected fault: %s %s rate exceeded", req.service, req.op)
}
