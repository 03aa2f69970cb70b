package standin

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ServeHTTP routes one request by its protocol markers, applies injected
// faults, runs the operation against the state, records the call and
// encodes the answer for the protocol it arrived on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var src io.Reader = r.Body
	if strings.Contains(r.Header.Get("Content-Encoding"), "gzip") {
		// The SDK gzips large bodies of operations with the
		// requestCompression trait (CloudWatch PutMetricData).
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		src = zr
	}
	body, err := io.ReadAll(io.LimitReader(src, maxBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req, rerr := route(r, body)
	idx := s.record(Call{Time: s.now(), Service: req.service, Operation: req.op, Protocol: req.proto, Input: req.input})
	// notify tells the observer before the answer is written, so a
	// client that has its answer knows the observer has seen the call.
	notify := func() {
		if s.opts.observe == nil {
			return
		}
		if c, ok := s.call(idx); ok {
			s.opts.observe(c)
		}
	}
	if rerr != nil {
		s.finish(idx, rerr.Code, "")
		notify()
		writeError(w, req, rerr)
		return
	}

	f := s.takeFault(req.service, req.op)
	if f != nil {
		s.finish(idx, "", f.Kind.String())
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				notify()
				return // the client gave up: apply nothing
			}
		}
		switch f.Kind {
		case FaultReset:
			notify()
			resetConn(w)
			return
		case FaultThrottle, FaultServerError:
			apiErr := f.apiError(req)
			s.finish(idx, apiErr.Code, "")
			notify()
			writeError(w, req, apiErr)
			return
		}
	}

	h := handlerFor(req.service, req.op)
	if h == nil {
		apiErr := &APIError{Code: "UnknownOperationException", Status: 400,
			Message: fmt.Sprintf("the stand-in does not implement %s %s; implemented: %s", req.service, req.op, implementedList(req.service))}
		if req.proto == ProtoQuery || req.proto == ProtoEC2Query {
			apiErr.Code = "InvalidAction"
		}
		s.finish(idx, apiErr.Code, "")
		notify()
		writeError(w, req, apiErr)
		return
	}
	s.mu.Lock()
	out, herr := h(s, req)
	s.mu.Unlock()
	if herr != nil {
		var apiErr *APIError
		if !errors.As(herr, &apiErr) {
			apiErr = &APIError{Code: "InternalFailure", Status: 500, Message: herr.Error()}
		}
		s.finish(idx, apiErr.Code, "")
		notify()
		writeError(w, req, apiErr)
		return
	}
	if f.failsAfterApply() { // the operation took effect; its answer is lost
		apiErr := f.apiError(req)
		s.finish(idx, apiErr.Code, "")
		notify()
		writeError(w, req, apiErr)
		return
	}
	notify()
	writeOutput(w, req, out)
}

// resetConn hijacks the connection and closes it with no answer, which
// the client sees as a connection reset / unexpected EOF.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
