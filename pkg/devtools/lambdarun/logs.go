package lambdarun

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// Drain timing: after an invocation ends, output the function wrote just
// before calling GET /next may still be in the pipe; the sink waits until
// the pipe has been quiet for drainQuiet, at most drainMax.
const (
	drainQuiet = 10 * time.Millisecond
	drainMax   = 200 * time.Millisecond
	drainPoll  = 2 * time.Millisecond
)

// logSink receives the process's stdout and stderr (one pipe: os/exec
// shares it when both are the same writer, so their order is kept),
// copies it to the configured writer and into the current invocation's
// buffer.
type logSink struct {
	mu   sync.Mutex
	out  io.Writer
	cur  *bytes.Buffer
	last time.Time
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
	if s.cur != nil {
		s.cur.Write(p)
	}
	_, _ = s.out.Write(p) // a broken log writer must not break the function
	return len(p), nil
}

// begin starts capturing into a new buffer, which it returns.
func (s *logSink) begin() *bytes.Buffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = &bytes.Buffer{}
	return s.cur
}

// end stops capturing.
func (s *logSink) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = nil
}

// platform writes one of the harness's own lines (START, END, REPORT).
func (s *logSink) platform(line string) {
	_, _ = s.Write([]byte(line))
}

// drain waits for the pipe to go quiet (see drainQuiet), counting from
// now: bytes already in the pipe may not have been read yet.
func (s *logSink) drain() {
	start := time.Now()
	stop := start.Add(drainMax)
	for time.Now().Before(stop) {
		s.mu.Lock()
		quiet := time.Since(start) >= drainQuiet && time.Since(s.last) >= drainQuiet
		s.mu.Unlock()
		if quiet {
			return
		}
		time.Sleep(drainPoll)
	}
}
