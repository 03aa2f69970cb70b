package dynalite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ErrNotInstalled is returned by Start when node_modules/.bin/dynalite is
// missing; `make node` installs it.
var ErrNotInstalled = errors.New("dynalite not installed: run make node")

// StartTimeout bounds how long Start waits for dynalite to answer.
const StartTimeout = 30 * time.Second

// Server is one running dynalite process, in memory.
type Server struct {
	// Endpoint is the base URL to give the DynamoDB client
	// (dynamodb.Options.BaseEndpoint or AWS_ENDPOINT_URL_DYNAMODB).
	Endpoint string

	cmd    *exec.Cmd
	done   chan struct{}
	output *syncBuffer
	once   sync.Once
	err    error
}

// Bin returns the path of node_modules/.bin/dynalite in the module that
// contains the working directory (found by walking up to go.mod).
func Bin() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find dynalite: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "node_modules", ".bin", "dynalite")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("%w (looked for %s)", ErrNotInstalled, bin)
			}
			return bin, nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", fmt.Errorf("find dynalite: no go.mod above %s", wd)
		}
	}
}

// Start runs dynalite on a free 127.0.0.1 port and returns once it
// answers HTTP. Close the server to stop it. ctx bounds the start only,
// not the server's life.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// A port found free can be taken before dynalite binds it: retry.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx, bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string) (*Server, error) {
	port, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	out := &syncBuffer{}
	// ctx bounds the start, not the server's life: Close ends it.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout = out
	cmd.Stderr = out
	// Its own process group, so Close ends node and anything it spawned;
	// and killed with us, so a test binary that is killed (a fuzz worker,
	// a timeout) leaves no server behind. The parent-death signal follows
	// the thread that started the child: start it from a locked thread,
	// which the runtime keeps after the unlock.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		done:     make(chan struct{}),
		output:   out,
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint, nil)
		if err != nil {
			return fmt.Errorf("probe dynalite: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("dynalite exited before answering on %s; output:\n%s", s.Endpoint, s.output.String())
		case <-ctx.Done():
			return fmt.Errorf("dynalite did not answer on %s within %s: %w; output:\n%s", s.Endpoint, StartTimeout, ctx.Err(), s.output.String())
		case <-tick.C:
		}
	}
}

// Close kills dynalite and its process group and waits for it to exit.
// It is safe to call more than once.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		pgid := s.cmd.Process.Pid
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			s.err = fmt.Errorf("kill dynalite (pgid %d): %w", pgid, err)
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			if s.err == nil {
				s.err = fmt.Errorf("dynalite (pid %d) did not exit after SIGKILL", pgid)
			}
		}
	})
	return s.err
}

func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("find a free port: listener address %v is not TCP", l.Addr())
	}
	return addr.Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil // keep the first 64 KiB: enough to diagnose a failed start
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Client returns a DynamoDB client for the server: static dummy
// credentials (dynalite checks none), region us-east-1, few retries so a
// test that expects an error is not stretched by backoff.
func (s *Server) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint:     aws.String(s.Endpoint),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("dynalite", "dynalite", ""),
		RetryMaxAttempts: 2,
	})
}
