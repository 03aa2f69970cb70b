package standin

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Service names as the stand-in records them in Call.Service and as
// Inject and CallsTo take them.
const (
	CodePipeline = "codepipeline"
	CloudWatch   = "cloudwatch"
	SSM          = "ssm"
	S3           = "s3"
	SNS          = "sns"
	EventBridge  = "events"
	EC2          = "ec2"
	ECS          = "ecs"
	AutoScaling  = "autoscaling"
	CodeDeploy   = "codedeploy"
	Lambda       = "lambda"
	ECR          = "ecr"
	Inspector2   = "inspector2"
)

// Protocol names the wire protocol a call arrived on (Call.Protocol).
type Protocol string

// The wire protocols the stand-in speaks.
const (
	ProtoJSON10   Protocol = "awsJson1_0"
	ProtoJSON11   Protocol = "awsJson1_1"
	ProtoCBOR     Protocol = "rpcv2Cbor"
	ProtoQuery    Protocol = "awsQuery"
	ProtoEC2Query Protocol = "ec2Query"
	ProtoRESTJSON Protocol = "restJson1"
	ProtoRESTXML  Protocol = "restXml"
)

// Region is the region the stand-in claims to be, used in ARNs and Env.
const Region = "us-east-1"

// AccountID is the account the stand-in claims to be, used in ARNs.
const AccountID = "123456789012"

// Call is one request the stand-in answered, as recorded for assertions.
type Call struct {
	Time      time.Time      `json:"time"`
	Service   string         `json:"service"`
	Operation string         `json:"operation"`
	Protocol  Protocol       `json:"protocol"`
	Input     map[string]any `json:"input,omitempty"`
	// ErrorCode is the AWS error code answered, "" on success.
	ErrorCode string `json:"errorCode,omitempty"`
	// Fault names the injected fault that shaped this answer, if any.
	Fault string `json:"fault,omitempty"`
}

// Server is the local AWS stand-in: an HTTP server that answers the real
// aws-sdk-go-v2 clients on their wire protocols from in-memory state.
// Create it with New, then Start it (or mount it as an http.Handler).
type Server struct {
	opts options

	ln   net.Listener
	http *http.Server
	url  string
	wg   sync.WaitGroup

	connMu sync.Mutex
	conns  map[net.Conn]http.ConnState

	mu     sync.Mutex
	calls  []Call
	gen    int // bumped by ResetCalls, so finish never touches a newer call
	faults map[faultKey]*Fault
	st     *state
}

type options struct {
	addr    string
	now     func() time.Time
	observe func(Call)
}

// Option configures a Server.
type Option func(*options)

// WithAddr makes Start listen on addr (e.g. "127.0.0.1:4566") instead of
// a free loopback port.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithClock replaces time.Now: timestamps, generated metric series and
// deployment settling read this clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithObserver calls fn with every call once it is answered (from the
// request's goroutine, not under any lock), e.g. to stream a demo log.
func WithObserver(fn func(Call)) Option { return func(o *options) { o.observe = fn } }

// New builds a stand-in seeded from sc. It reports every problem in sc
// (joined) instead of starting with a half-loaded state.
func New(sc Scenario, opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0", now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	s := &Server{opts: o, faults: map[faultKey]*Fault{}}
	st, err := newState(sc, o.now())
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	s.st = st
	return s, nil
}

// Start listens and serves in the background until Close.
func (s *Server) Start() error {
	if s.ln != nil {
		return errors.New("standin: already started")
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", s.opts.addr)
	if err != nil {
		return fmt.Errorf("standin: listen on %s: %w", s.opts.addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.conns = map[net.Conn]http.ConnState{}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: s.trackConn}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln)
	}()
	return nil
}

// Close stops the server, lets requests in flight finish (5s at most) and
// waits for it; safe to call more than once.
func (s *Server) Close() {
	if s.http == nil {
		return
	}
	_ = s.ln.Close()
	s.http.SetKeepAlivesEnabled(false)
	// Like httptest: connections that are idle or were opened but never
	// used are closed now, so Shutdown does not wait out their timeout.
	s.connMu.Lock()
	for c, st := range s.conns {
		if st == http.StateNew || st == http.StateIdle {
			_ = c.Close()
		}
	}
	s.connMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = s.http.Close()
	}
	s.wg.Wait()
	s.http = nil
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = st
	}
}

// URL is the base URL to give clients (AWS_ENDPOINT_URL), e.g.
// http://127.0.0.1:39211. Empty before Start.
func (s *Server) URL() string { return s.url }

// Env returns the environment a child process needs to send every AWS SDK
// call to this stand-in with dummy credentials: AWS_ENDPOINT_URL, region,
// static keys, no profile or shared config files (a developer's ~/.aws
// must not redirect the demo), no instance metadata lookups. Append it
// after os.Environ() so it wins.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.url,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=standin",
		"AWS_SECRET_ACCESS_KEY=standin",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Calls returns a copy of every call answered so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls to one service's operation; operation ""
// matches every operation of the service.
func (s *Server) CallsTo(service, operation string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Service == service && (operation == "" || c.Operation == operation) {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.gen++
}

func (s *Server) now() time.Time { return s.opts.now().UTC() }

// request is one routed call.
type request struct {
	service string
	op      string
	proto   Protocol
	input   map[string]any
	// target is the JSON target prefix (e.g. CodePipeline_20150709) or
	// the Query API version, echoed in responses where the protocol wants.
	target string
	http   *http.Request
	// body is a REST payload kept out of the recorded input (S3 PutObject).
	body []byte
}

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

	if f := s.takeFault(req.service, req.op); f != nil {
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
	notify()
	writeOutput(w, req, out)
}

// callRef finds a recorded call again.
type callRef struct{ gen, idx int }

// record appends a call as it arrives.
func (s *Server) record(c Call) callRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return callRef{s.gen, len(s.calls) - 1}
}

func (s *Server) call(ref callRef) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref.gen != s.gen || ref.idx >= len(s.calls) {
		return Call{}, false
	}
	return s.calls[ref.idx], true
}

// finish sets the outcome of a recorded call (ResetCalls may have dropped
// it meanwhile).
func (s *Server) finish(ref callRef, code, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref.gen != s.gen || ref.idx >= len(s.calls) {
		return
	}
	if code != "" {
		s.calls[ref.idx].ErrorCode = code
	}
	if fault != "" {
		s.calls[ref.idx].Fault = fault
	}
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

// jsonTargets maps an X-Amz-Target prefix to the service it names.
var jsonTargets = map[string]string{
	"CodePipeline_20150709":                CodePipeline,
	"AmazonSSM":                            SSM,
	"AWSEvents":                            EventBridge,
	"AmazonEC2ContainerServiceV20141113":   ECS,
	"CodeDeploy_20141006":                  CodeDeploy,
	"AmazonEC2ContainerRegistry_V20150921": ECR,
	"GraniteServiceVersion20100801":        CloudWatch,
}

// scopeServices maps a SigV4 credential-scope service to the service.
var scopeServices = map[string]string{
	"monitoring":  CloudWatch,
	"sns":         SNS,
	"ec2":         EC2,
	"autoscaling": AutoScaling,
	"s3":          S3,
	"lambda":      Lambda,
	"inspector2":  Inspector2,
}

// queryActions names the service of a Query action when the request
// carries no credential scope (an unsigned request).
var queryActions = map[string]string{
	"Publish":                   SNS,
	"DescribeInstances":         EC2,
	"DescribeInstanceStatus":    EC2,
	"RebootInstances":           EC2,
	"DescribeAutoScalingGroups": AutoScaling,
	"SetDesiredCapacity":        AutoScaling,
	"DescribeAlarms":            CloudWatch,
	"GetMetricData":             CloudWatch,
	"PutMetricData":             CloudWatch,
	"ListTagsForResource":       CloudWatch,
}

const cborPrefix = "/service/GraniteServiceVersion20100801/operation/"

// route finds service, operation and protocol from the protocol markers
// (see doc.go) and decodes the input.
func route(r *http.Request, body []byte) (*request, *APIError) {
	req := &request{http: r}
	bad := func(proto Protocol, format string, args ...any) (*request, *APIError) {
		req.proto = proto
		return req, &APIError{Code: "SerializationException", Status: 400, Message: fmt.Sprintf(format, args...)}
	}

	// JSON RPC: X-Amz-Target.
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		req.proto = ProtoJSON11
		if strings.Contains(r.Header.Get("Content-Type"), "1.0") {
			req.proto = ProtoJSON10
		}
		prefix, op, ok := strings.Cut(target, ".")
		svc := jsonTargets[prefix]
		req.target, req.op = prefix, op
		if !ok || svc == "" {
			req.service = prefix
			return req, &APIError{Code: "UnknownOperationException", Status: 400,
				Message: fmt.Sprintf("X-Amz-Target %q names no service the stand-in serves (DynamoDB runs in dynalite, not here)", target)}
		}
		req.service = svc
		in, err := decodeJSON(body)
		if err != nil {
			return bad(req.proto, "%s %s: %v", svc, op, err)
		}
		req.input = in
		return req, nil
	}

	// RPC v2 CBOR: the operation is in the path.
	if strings.HasPrefix(r.URL.Path, cborPrefix) {
		req.proto, req.service = ProtoCBOR, CloudWatch
		req.op = strings.TrimPrefix(r.URL.Path, cborPrefix)
		in, err := decodeCBOR(body)
		if err != nil {
			return bad(ProtoCBOR, "cloudwatch %s: %v", req.op, err)
		}
		req.input = in
		return req, nil
	}

	scope := credentialScope(r.Header.Get("Authorization"))

	// Query protocols: a form with Action.
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return bad(ProtoQuery, "request body is not a form: %v", err)
		}
		action := form.Get("Action")
		svc := scopeServices[scope]
		if svc == "" || svc == S3 || svc == Lambda || svc == Inspector2 {
			svc = queryActions[action]
		}
		req.service, req.op, req.target = svc, action, form.Get("Version")
		req.proto = ProtoQuery
		if svc == EC2 {
			req.proto = ProtoEC2Query
		}
		if action == "" || svc == "" {
			return req, &APIError{Code: "InvalidAction", Status: 400,
				Message: fmt.Sprintf("Query request with Action %q and credential scope %q names no service the stand-in serves", action, scope)}
		}
		form.Del("Action")
		form.Del("Version")
		req.input = decodeForm(form)
		return req, nil
	}

	// REST-JSON: Lambda and Inspector2 by path.
	if ok, err := routeREST(r, body, req); ok {
		return req, err
	}

	// Everything else is S3, path-style.
	return routeS3(r, body, req)
}

// credentialScope returns the service of a SigV4 Authorization header's
// credential scope (".../us-east-1/monitoring/aws4_request" -> monitoring).
func credentialScope(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// writeOutput encodes a handler's answer for the request's protocol.
func writeOutput(w http.ResponseWriter, req *request, out any) {
	rid := requestID()
	w.Header().Set("X-Amzn-Requestid", rid)
	if raw, ok := out.(*rawResponse); ok {
		for k, vs := range raw.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("X-Amz-Request-Id", rid)
		status := raw.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if req.http.Method != http.MethodHead {
			_, _ = w.Write(raw.body)
		}
		return
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	switch req.proto {
	case ProtoJSON10, ProtoJSON11:
		ct := "application/x-amz-json-1.1"
		if req.proto == ProtoJSON10 {
			ct = "application/x-amz-json-1.0"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(encodeJSON(m))
	case ProtoRESTJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(encodeJSON(m))
	case ProtoCBOR:
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		_, _ = w.Write(encodeCBOR(m))
	case ProtoQuery:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		sb.WriteString("<" + req.op + "Response>")
		sb.WriteString("<" + req.op + "Result>")
		encodeXML(&sb, m, "member")
		sb.WriteString("</" + req.op + "Result>")
		sb.WriteString("<ResponseMetadata><RequestId>" + rid + "</RequestId></ResponseMetadata>")
		sb.WriteString("</" + req.op + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	case ProtoEC2Query:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		sb.WriteString("<" + req.op + `Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`)
		sb.WriteString("<requestId>" + rid + "</requestId>")
		encodeXML(&sb, m, "item")
		sb.WriteString("</" + req.op + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	default:
		w.Header().Set("Content-Type", "application/xml")
		var sb strings.Builder
		encodeXML(&sb, m, "member")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	}
}

// rawResponse is a handler answer written as is (S3 object bodies).
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// APIError is an AWS error answer: the code the SDK maps to its typed
// error, a message, and the HTTP status.
type APIError struct {
	Code    string
	Message string
	Status  int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// cloudWatchNamespace prefixes CBOR error types, as the service does.
const cloudWatchNamespace = "com.amazonaws.cloudwatch#"

// writeError encodes an error exactly as the request's protocol expects,
// so the SDK builds its typed error.
func writeError(w http.ResponseWriter, req *request, e *APIError) {
	rid := requestID()
	status := e.Status
	if status == 0 {
		status = 400
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", rid)
	switch req.proto {
	case ProtoJSON10, ProtoJSON11, "":
		ct := "application/x-amz-json-1.1"
		if req.proto == ProtoJSON10 {
			ct = "application/x-amz-json-1.0"
		}
		h.Set("Content-Type", ct)
		h.Set("X-Amzn-Errortype", e.Code)
		if req.service == CloudWatch {
			h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		w.WriteHeader(status)
		_, _ = w.Write(encodeJSON(map[string]any{"__type": e.Code, "message": e.Message}))
	case ProtoRESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", e.Code)
		w.WriteHeader(status)
		_, _ = w.Write(encodeJSON(map[string]any{"message": e.Message}))
	case ProtoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		w.WriteHeader(status)
		_, _ = w.Write(encodeCBOR(map[string]any{"__type": cloudWatchNamespace + e.Code, "message": e.Message}))
	case ProtoQuery:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>` + fault + `</Type><Code>`)
		xmlText(&sb, e.Code)
		sb.WriteString("</Code><Message>")
		xmlText(&sb, e.Message)
		sb.WriteString("</Message></Error><RequestId>" + rid + "</RequestId></ErrorResponse>")
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	case ProtoEC2Query:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>`)
		xmlText(&sb, e.Code)
		sb.WriteString("</Code><Message>")
		xmlText(&sb, e.Message)
		sb.WriteString("</Message></Error></Errors><RequestID>" + rid + "</RequestID></Response>")
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	default: // REST-XML (S3)
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>`)
		xmlText(&sb, e.Code)
		sb.WriteString("</Code><Message>")
		xmlText(&sb, e.Message)
		sb.WriteString("</Message><RequestId>" + rid + "</RequestId></Error>")
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", rid)
		w.WriteHeader(status)
		if req.http == nil || req.http.Method != http.MethodHead {
			_, _ = w.Write(bytes.Clone([]byte(sb.String())))
		}
	}
}
