package lambdarun

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// apiServer serves one process's Runtime API without a process behind it,
// so a test can speak the protocol itself.
func apiServer(t *testing.T) (*process, *httptest.Server) {
	t.Helper()
	p := &process{timeout: time.Second, arn: "arn:aws:lambda:us-east-1:123456789012:function:t", queue: make(chan *invocation), exited: make(chan struct{})}
	srv := httptest.NewServer(p.routes())
	t.Cleanup(srv.Close)
	return p, srv
}

func newInvocation(id string) *invocation {
	return &invocation{id: id, payload: []byte(`{"k":1}`), traceID: "Root=1-x", taken: make(chan time.Time, 1), result: make(chan answer, 1), finished: make(chan struct{})}
}

func post(t *testing.T, url, header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(HeaderErrorType, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRuntimeAPIProtocol(t *testing.T) {
	p, srv := apiServer(t)
	base := srv.URL + apiPrefix

	inv := newInvocation("req-1")
	go func() { p.queue <- inv }()
	resp, err := http.Get(base + "/invocation/next")
	if err != nil {
		t.Fatalf("GET next: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	deadline := <-inv.taken

	if resp.StatusCode != http.StatusOK || string(body) != `{"k":1}` {
		t.Errorf("GET next = %d %q; want 200 with the event", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		HeaderRequestID:   "req-1",
		HeaderDeadlineMS:  strconv.FormatInt(deadline.UnixMilli(), 10),
		HeaderFunctionARN: p.arn,
		HeaderTraceID:     "Root=1-x",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("GET next header %s = %q; want %q", h, got, want)
		}
	}

	if code, _ := post(t, base+"/invocation/other/response", "", "x"); code != http.StatusBadRequest {
		t.Errorf("response for an unknown request id = %d; want 400", code)
	}
	if code, _ := post(t, base+"/invocation/req-1/response", "", `"ok"`); code != http.StatusAccepted {
		t.Errorf("response for the current request = %d; want 202", code)
	}
	if a := <-inv.result; string(a.payload) != `"ok"` || a.err != nil {
		t.Errorf("answer = %q, %v; want \"ok\", nil", a.payload, a.err)
	}
	if code, body := post(t, base+"/invocation/req-1/error", "", `{}`); code != http.StatusBadRequest || !strings.Contains(body, "InvalidStateTransition") {
		t.Errorf("second answer = %d %s; want 400 InvalidStateTransition", code, body)
	}
	if code, _ := post(t, base+"/init/error", "", `{}`); code != http.StatusForbidden {
		t.Errorf("init/error after an invocation was handed out = %d; want 403", code)
	}

	// The runtime's next GET ends the invocation.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // the GET long-polls: end it, or the server's Close waits for it
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/invocation/next", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	select {
	case <-inv.finished:
	case <-time.After(5 * time.Second):
		t.Fatal("GET next after the answer did not finish the invocation")
	}

	resp, err = http.Get(srv.URL + "/2018-06-01/runtime/unknown")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET an unknown path = %d; want 404", resp.StatusCode)
	}
}

func TestReadFunctionError(t *testing.T) {
	tests := []struct {
		name, header, body string
		want               FunctionError
	}{
		{"documented body", "", `{"errorType":"MyError","errorMessage":"bad"}`, FunctionError{Type: "MyError", Message: "bad"}},
		{"type from header", "Runtime.Custom", `{"errorMessage":"bad"}`, FunctionError{Type: "Runtime.Custom", Message: "bad"}},
		{"not json", "", "plain failure\n", FunctionError{Type: ErrorTypeUnknown, Message: "plain failure"}},
		{"empty", "", "", FunctionError{Type: ErrorTypeUnknown}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.header != "" {
				r.Header.Set(HeaderErrorType, tc.header)
			}
			got := readFunctionError(r)
			if got.Type != tc.want.Type || got.Message != tc.want.Message {
				t.Errorf("readFunctionError(%q, header %q) = %+v; want %+v", tc.body, tc.header, *got, tc.want)
			}
		})
	}
}

// FuzzReadFunctionError: what a runtime posts is untrusted; decoding it
// must never panic and always yields a typed error.
func FuzzReadFunctionError(f *testing.F) {
	f.Add([]byte(`{"errorType":"E","errorMessage":"m","stackTrace":[{"path":"a","line":1,"label":"f"}]}`), "")
	f.Add([]byte(`{"errorMessage":`), "Runtime.X")
	f.Add([]byte{0xff, 0xfe}, "")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(HeaderErrorType, header)
		fe := readFunctionError(r)
		if fe == nil || fe.Type == "" {
			t.Fatalf("readFunctionError(%q, %q) = %+v; want a typed error", body, header, fe)
		}
		if len(fe.Message) > maxInitErrorMessage+len("…") {
			t.Fatalf("message length %d; want at most %d", len(fe.Message), maxInitErrorMessage)
		}
	})
}
