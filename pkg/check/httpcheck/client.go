package httpcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postdeploy/postdeploy/pkg/deadline"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// Defaults for probes.
const (
	// DefaultTimeout bounds one attempt when the spec gives no timeout.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxRedirects is how many redirects are followed when the
	// spec gives no maxRedirects.
	DefaultMaxRedirects = 5
	// DefaultConcurrency bounds the probes one sample has in flight.
	DefaultConcurrency = 128
	// DefaultRetryBackoff is the wait before the first retry; each next
	// retry waits twice as long, up to maxRetryBackoff.
	DefaultRetryBackoff = 200 * time.Millisecond
	// BodyLimit is how much of a response body is read. The rest is
	// dropped and the response marked Truncated.
	BodyLimit = 1 << 20
	// UserAgent is sent unless the check sets its own User-Agent header.
	UserAgent = "postdeploy-verify/1"

	maxRetryBackoff = 2 * time.Second
	connectCap      = 30 * time.Second
	bodyLimitText   = "1 MiB"
)

// Options configure the HTTP client shared by the checks of one sampler.
type Options struct {
	// RootCAs verifies servers' certificates; nil uses the system roots.
	RootCAs *x509.CertPool
	// Now is the clock requests are timed with (default time.Now).
	Now func() time.Time
	// Resolver resolves host names (nil: the default resolver). Tests
	// point it at a fake DNS server.
	Resolver *net.Resolver
	// Concurrency bounds the probes in flight in one sample (default
	// DefaultConcurrency).
	Concurrency int
	// RetryBackoff is the wait before the first retry of a probe (default
	// DefaultRetryBackoff); it doubles for each further retry.
	RetryBackoff time.Duration
	// AllowLoopback lets probes reach 127.0.0.0/8 and ::1 — never the
	// Lambda Runtime API, unspecified addresses or the host's other
	// addresses. Only the local harness sets it, through
	// config.EnvLocalProbes read where the clients are built; a spec
	// cannot.
	AllowLoopback bool
	// RuntimeAPI is the Lambda Runtime API's host:port, refused in every
	// spelling (default: AWS_LAMBDA_RUNTIME_API).
	RuntimeAPI string
	// HostAddrs lists the host's own addresses, refused (default: the
	// addresses of its network interfaces, listed on every dial). Tests
	// replace it.
	HostAddrs func() ([]netip.Addr, error)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.RuntimeAPI == "" {
		o.RuntimeAPI = runtimeAPIEnv
	}
	if o.HostAddrs == nil {
		o.HostAddrs = interfaceAddrs
	}
	return o
}

// Client sends probes: TLS verified against Options.RootCAs, bodies read up
// to BodyLimit, redirects bounded, and connections refused at dial time to
// the function's own host (unspecified, loopback unless
// Options.AllowLoopback, the host's interface addresses, the Lambda
// Runtime API in every spelling) and to link-local and instance-metadata
// addresses unless a request allows them. Its transports (one guarded, one not) keep connections alive
// across samples. Build one per sampler with NewClient; it is safe for
// concurrent use.
type Client struct {
	o       Options
	guarded *http.Transport
	open    *http.Transport
}

// NewClient builds a Client. It opens no connection.
func NewClient(o Options) *Client {
	o = o.withDefaults()
	port, addr := parseRuntimeAPI(o.RuntimeAPI)
	guarded := dialPolicy{allowLoopback: o.AllowLoopback, apiPort: port, apiAddr: addr, hostAddrs: o.HostAddrs}
	open := guarded
	open.allowLinkLocal = true
	return &Client{
		o:       o,
		guarded: newTransport(o, guarded.control),
		open:    newTransport(o, open.control),
	}
}

func newTransport(o Options, control func(network, address string, c syscall.RawConn) error) *http.Transport {
	// Dials and handshakes outlive a canceled request (net/http keeps them
	// for the pool), so they get their own cap; the check's timeout bounds
	// each request through its context.
	d := &net.Dialer{
		Timeout:   connectCap,
		KeepAlive: 30 * time.Second,
		Resolver:  o.Resolver,
		Control:   control,
	}
	return &http.Transport{
		// No proxy: a proxy would connect on our behalf, where the dial
		// guard cannot see the address.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * o.Concurrency,
		MaxIdleConnsPerHost:   o.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connectCap,
		ExpectContinueTimeout: time.Second,
	}
}

// CloseIdleConnections closes the connections kept alive between samples.
func (c *Client) CloseIdleConnections() {
	c.guarded.CloseIdleConnections()
	c.open.CloseIdleConnections()
}

// Request is one probe.
type Request struct {
	// Method defaults to GET.
	Method string
	URL    string
	// Header is sent as given; a "Host" entry sets the request's host.
	Header map[string]string
	Body   string
	// Timeout bounds each attempt, body read included (default
	// DefaultTimeout).
	Timeout time.Duration
	// Retries is how many more attempts follow a connection error or a
	// 5xx response.
	Retries int
	// MaxRedirects is how many redirects are followed: 0 means
	// DefaultMaxRedirects, negative means none (the 3xx is the response).
	MaxRedirects int
	// AllowLinkLocal lets the probe reach link-local and instance-metadata
	// addresses.
	AllowLinkLocal bool
}

// Response is what a probe saw on its last attempt.
type Response struct {
	Status int
	Header http.Header
	// Body holds at most BodyLimit bytes; Truncated says more were sent.
	Body      []byte
	Truncated bool
	// Latency is the last attempt's time from sending the request to
	// reading the (capped) body, redirects included.
	Latency time.Duration
	// Attempts counts the attempts made, retries included.
	Attempts int
	// URL is the URL the final response came from, after redirects.
	URL string
}

// ProbeError is a probe that got no usable response after Attempts
// attempts; Err is the last attempt's error.
type ProbeError struct {
	Attempts int
	Err      error
}

func (e *ProbeError) Error() string { return fmt.Sprintf("after %d attempts: %v", e.Attempts, e.Err) }

// Unwrap returns the last attempt's error.
func (e *ProbeError) Unwrap() error { return e.Err }

// errSampleEnded marks an attempt cut short by the sample's own context
// (the function's deadline), not by the check's timeout.
var errSampleEnded = errors.New("the sample ended before a response arrived")

// errBuildRequest marks a request that could not be built: retrying it
// cannot help.
var errBuildRequest = errors.New("build request")

// RedirectError says a probe was still being redirected after the limit.
type RedirectError struct {
	Limit int
	// To is the redirect that was not followed.
	To string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("still redirected after %d redirects (next: %s); fix the redirect loop or raise maxRedirects", e.Limit, e.To)
}

// Do sends the probe, retrying connection errors and 5xx responses up to
// r.Retries times with a doubling backoff while ctx allows. A 5xx that
// survives every retry is returned as a Response, not an error; an error
// means no usable response was read: a *ProbeError (describe it with
// Explain).
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	attempts := 0
	backoff := c.o.RetryBackoff
	for {
		attempts++
		resp, err := c.attempt(ctx, r)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", errSampleEnded, err)
		}
		if resp != nil {
			resp.Attempts = attempts
		}
		if attempts > r.Retries || !retryable(resp, err) || deadline.Sleep(ctx, backoff) != nil {
			if err != nil {
				return nil, &ProbeError{Attempts: attempts, Err: err}
			}
			return resp, nil
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

func (c *Client) attempt(ctx context.Context, r Request) (*Response, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBuildRequest, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range r.Header {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	t := c.guarded
	if r.AllowLinkLocal {
		t = c.open
	}
	hc := &http.Client{Transport: t, CheckRedirect: redirectPolicy(r.MaxRedirects)}

	start := c.o.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, BodyLimit+1))
	if err != nil {
		return nil, fmt.Errorf("read body of %s response: %w", resp.Status, err)
	}
	out := &Response{
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    b,
		Latency: c.o.Now().Sub(start),
		URL:     resp.Request.URL.String(),
	}
	if len(b) > BodyLimit {
		out.Body, out.Truncated = b[:BodyLimit], true
	}
	return out, nil
}

func redirectPolicy(limit int) func(*http.Request, []*http.Request) error {
	if limit == 0 {
		limit = DefaultMaxRedirects
	}
	return func(req *http.Request, via []*http.Request) error {
		if limit < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return &RedirectError{Limit: limit, To: req.URL.String()}
		}
		return nil
	}
}

// retryable reports whether another attempt could get a better answer: a
// 5xx, or a connection error that is not deterministic (a refused address,
// a certificate that does not verify, a redirect loop, a bad request).
func retryable(resp *Response, err error) bool {
	if err == nil {
		return resp != nil && resp.Status >= 500
	}
	var (
		re  *RedirectError
		cve *tls.CertificateVerificationError
	)
	if guardRefusal(err) != nil {
		return false
	}
	switch {
	case errors.As(err, &re), errors.As(err, &cve), isTLSVerifyError(err):
		return false
	case errors.Is(err, errBuildRequest):
		return false
	}
	return true
}

func isTLSVerifyError(err error) bool {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// Explain turns a probe error into the verdict it means and a sentence
// saying what happened and what to do. A redirect loop is the service
// answering wrongly (Failed); everything else — a refused address, a
// timeout, DNS, TLS, a refused connection — is the probe not getting an
// answer (Error). timeout is the per-attempt timeout, for the message.
func Explain(err error, timeout time.Duration) (verdict.Verdict, string) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if refusal := guardRefusal(err); refusal != nil {
		return verdict.Error, refusal.Error()
	}
	var (
		re  *RedirectError
		dns *net.DNSError
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &re):
		return verdict.Failed, re.Error()
	case errors.Is(err, errSampleEnded), errors.Is(err, context.Canceled):
		return verdict.Error, "the sample was canceled or reached the function's deadline before a response arrived; if this repeats, lower the checks' timeouts or raise the function's timeout"
	case isTimeout(err):
		return verdict.Error, fmt.Sprintf("no response within the %s timeout; check the service is up and reachable from the function (security groups, VPC routing) or raise timeout", timeout)
	case errors.As(err, &dns):
		return verdict.Error, fmt.Sprintf("DNS lookup of %q failed: %s; check the host name and that the function can resolve it (VPC DNS settings)", dns.Name, dns.Err)
	case errors.As(err, &cve):
		return verdict.Error, fmt.Sprintf("TLS certificate verification failed: %v; the certificate must chain to a trusted root and name the host", cve.Err)
	case isTLSVerifyError(err):
		return verdict.Error, fmt.Sprintf("TLS certificate verification failed: %v", unwrapURL(err))
	case errors.As(err, &rhe), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http reports the second case with an unexported error.
		return verdict.Error, "TLS handshake failed: the server did not answer with TLS; use http:// for that port, or the service's TLS port"
	case errors.Is(err, syscall.ECONNREFUSED):
		return verdict.Error, "connection refused: nothing is listening on that port; check the service is running and the URL's port"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return verdict.Error, fmt.Sprintf("connection dropped before a full response: %v", unwrapURL(err))
	}
	return verdict.Error, fmt.Sprintf("request failed: %v", unwrapURL(err))
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unwrapURL drops the *url.Error prefix (`Get "https://…": `), which only
// repeats the target the result already names.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Each calls fn(i) for every i in [0, n), at most Options.Concurrency at a
// time, and returns when all have returned. fn must honor ctx itself;
// Each still calls it after ctx is done, so every item gets its result.
func (c *Client) Each(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	sem := make(chan struct{}, c.o.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, i)
		})
	}
	wg.Wait()
}

// Now is the client's clock.
func (c *Client) Now() time.Time { return c.o.Now() }
