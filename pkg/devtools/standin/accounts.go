package standin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Accounts is one endpoint for several AWS accounts and regions: a front
// that answers STS itself (AssumeRole, GetCallerIdentity) and sends every
// other request to the stand-in of the account whose credentials signed it
// (the SigV4 Authorization header's access key id) and the region of its
// credential scope. The home Server answers the stand-in's own static key
// ("standin", Env); a member Server answers the temporary keys AssumeRole
// issued for a role of its account. Each Server keeps its own state, so
// nothing of one account is visible in another, and Signed records which
// credentials signed every call.
//
// The member Servers build their ARNs with the package's AccountID and
// Region like the home one; the front translates, byte for byte, the
// member's account id and region in each request (path, query, body) to
// those, and back in each answer — which is why a member region must have
// as many characters as Region ("eu-west-1", "us-west-2").
//
// Like the rest of the stand-in, the front does not verify signatures;
// it is strict where the client's behaviour depends on AWS: AssumeRole's
// parameters, the role's trust (account and external id), a region not
// enabled for the role's account (RegionDisabledException), a call signed
// with a key it never issued or without its session token, or in a
// region the account does not use.
type Accounts struct {
	home *Server
	now  func() time.Time

	mu       sync.Mutex
	members  map[accountRegion]*Server
	roles    map[string]MemberRole
	sessions map[string]session // by access key id
	signed   []Signed
	assumed  []AssumeCall

	ln   net.Listener
	http *http.Server
	url  string
}

type accountRegion struct{ account, region string }

// MemberRole is a role of a member account the front lets be assumed.
type MemberRole struct {
	// ARN is arn:aws:iam::<account>:role/<name>.
	ARN string
	// TrustAccount is the account whose principals the role's trust policy
	// names (default: the home AccountID).
	TrustAccount string
	// ExternalID, when set, is the sts:ExternalId the trust policy
	// requires.
	ExternalID string
}

// session is one set of credentials AssumeRole issued.
type session struct {
	account, roleARN, name, secret, token string
	expires                               time.Time
}

// Signed is one call the front answered, and the credentials that signed
// it.
type Signed struct {
	AccessKeyID string
	// Account is the account the key belongs to: AccountID for the home
	// key, the role's account for an assumed role's key.
	Account string
	// RoleARN and Session name the assumed role ("" for the home key).
	RoleARN, Session string
	Region           string
	Service          string
	Operation        string
	// ErrorCode is the front's refusal ("" when it forwarded the call).
	ErrorCode string
}

// AssumeCall is one AssumeRole the front answered.
type AssumeCall struct {
	RoleARN, RoleSessionName, ExternalID, Region string
	// ErrorCode is "" when credentials were issued.
	ErrorCode string
}

// NewAccounts returns a front whose home account is served by home.
func NewAccounts(home *Server) *Accounts {
	return &Accounts{home: home, now: home.now, members: map[accountRegion]*Server{}, roles: map[string]MemberRole{}, sessions: map[string]session{}}
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	roleARNPattern   = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$`)
	// sessionNamePattern and externalIDPattern are AssumeRole's
	// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
	// RoleSessionName 2–64 of [\w+=,.@-], ExternalId 2–1224 of [\w+=,.@:/-].
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// AddMember serves account's region with s: that account uses the region
// (AssumeRole there succeeds, its calls reach s).
func (a *Accounts) AddMember(account, region string, s *Server) error {
	if !accountIDPattern.MatchString(account) || account == AccountID {
		return fmt.Errorf("standin: member account %q: want 12 digits, not the home account %s", account, AccountID)
	}
	if len(region) != len(Region) {
		return fmt.Errorf("standin: member region %q: the front translates ARNs byte for byte, so it needs a region of %d characters like %s", region, len(Region), Region)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.members[accountRegion{account, region}] = s
	return nil
}

// AddRole lets r be assumed.
func (a *Accounts) AddRole(r MemberRole) error {
	if !roleARNPattern.MatchString(r.ARN) {
		return fmt.Errorf("standin: %q is not an IAM role ARN", r.ARN)
	}
	if r.TrustAccount == "" {
		r.TrustAccount = AccountID
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roles[r.ARN] = r
	return nil
}

// Signed returns every call the front saw, oldest first, with the
// credentials that signed it.
func (a *Accounts) Signed() []Signed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Signed(nil), a.signed...)
}

// IssuedSecrets returns the secret access key and session token of every
// set of credentials AssumeRole issued, for tests that check no log or
// message repeats them.
func (a *Accounts) IssuedSecrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, s := range a.sessions {
		out = append(out, s.secret, s.token)
	}
	return out
}

// Assumed returns every AssumeRole the front answered.
func (a *Accounts) Assumed() []AssumeCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AssumeCall(nil), a.assumed...)
}

// Start listens on a free loopback port.
func (a *Accounts) Start() error {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("standin: accounts front: %w", err)
	}
	a.ln, a.url = ln, "http://"+ln.Addr().String()
	a.http = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.http.Serve(ln) }()
	return nil
}

// URL is the endpoint to give clients (AWS_ENDPOINT_URL).
func (a *Accounts) URL() string { return a.url }

// Env is the home Server's Env pointed at the front.
func (a *Accounts) Env() []string {
	env := a.home.Env()
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			env[i] = "AWS_ENDPOINT_URL=" + a.url
		}
	}
	return env
}

// Close stops the front (not the Servers behind it).
func (a *Accounts) Close() {
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.http.Shutdown(ctx)
		a.http = nil
	}
}

// sigv4 is what a request's Authorization header says about who signed
// it: Credential=<key>/<date>/<region>/<service>/aws4_request.
type sigv4 struct{ key, region, service string }

func signerOf(r *http.Request) sigv4 {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return sigv4{}
	}
	cred, _, _ = strings.Cut(cred, ",")
	p := strings.Split(strings.TrimSpace(cred), "/")
	if len(p) < 5 {
		return sigv4{}
	}
	return sigv4{key: p[0], region: p[2], service: p[3]}
}

// ServeHTTP answers STS, and sends every other call to the Server of the
// account and region that signed it.
func (a *Accounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	sig := signerOf(r)
	if sig.service == "sts" {
		a.sts(w, r, body, sig)
		return
	}
	rec := Signed{AccessKeyID: sig.key, Region: sig.region, Service: sig.service}
	if req, rerr := route(r.Clone(r.Context()), body); rerr == nil {
		rec.Service, rec.Operation = req.service, req.op
	}
	a.mu.Lock()
	sess, assumed := a.sessions[sig.key]
	var member *Server
	if assumed {
		rec.Account, rec.RoleARN, rec.Session = sess.account, sess.roleARN, sess.name
		member = a.members[accountRegion{sess.account, sig.region}]
	} else {
		rec.Account = AccountID
	}
	a.mu.Unlock()
	refuse := func(code, msg string) {
		rec.ErrorCode = code
		a.record(rec)
		req, _ := route(r.Clone(r.Context()), body)
		writeError(w, req, &APIError{Code: code, Status: http.StatusForbidden, Message: msg})
	}
	switch {
	case !assumed && strings.HasPrefix(sig.key, "ASIA"):
		refuse(invalidToken(r), "The security token included in the request is invalid (an access key the front never issued).")
		return
	case assumed && r.Header.Get("X-Amz-Security-Token") != sess.token:
		refuse(invalidToken(r), "The security token included in the request is invalid (the session token does not belong to the access key).")
		return
	case assumed && a.now().After(sess.expires):
		refuse("ExpiredToken", "The security token included in the request is expired.")
		return
	case assumed && member == nil:
		refuse(invalidToken(r), fmt.Sprintf("The security token included in the request is invalid: account %s does not use region %s.", sess.account, sig.region))
		return
	}
	a.record(rec)
	if !assumed {
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.home.ServeHTTP(w, r)
		return
	}
	a.forward(w, r, body, member, sess.account, sig.region)
}

func (a *Accounts) record(s Signed) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signed = append(a.signed, s)
}

// invalidToken is the error code AWS answers an unknown credential with:
// UnrecognizedClientException on the JSON protocols, InvalidClientTokenId
// on Query.
func invalidToken(r *http.Request) string {
	if r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(r.URL.Path, cborPrefix) {
		return "UnrecognizedClientException"
	}
	return "InvalidClientTokenId"
}

// forward sends the request to member with the member's account and region
// translated to the stand-in's, and translates the answer back.
func (a *Accounts) forward(w http.ResponseWriter, r *http.Request, body []byte, member *Server, account, region string) {
	in := strings.NewReplacer(account, AccountID, region, Region)
	out := strings.NewReplacer(AccountID, account, Region, region)
	r2 := r.Clone(r.Context())
	r2.URL.Path = in.Replace(r.URL.Path)
	r2.URL.RawPath = ""
	r2.URL.RawQuery = in.Replace(r.URL.RawQuery)
	if r.Header.Get("Content-Encoding") == "" {
		body = []byte(in.Replace(string(body)))
	}
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	rw := httptest.NewRecorder()
	member.ServeHTTP(rw, r2)
	for k, vs := range rw.Header() {
		for _, v := range vs {
			w.Header().Add(k, out.Replace(v))
		}
	}
	w.WriteHeader(rw.Code)
	_, _ = w.Write([]byte(out.Replace(rw.Body.String())))
}

// sts answers the STS operations of the Query protocol.
func (a *Accounts) sts(w http.ResponseWriter, r *http.Request, body []byte, sig sigv4) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		stsError(w, http.StatusBadRequest, "MalformedInput", "request body is not a form")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	caller, callerArn := AccountID, "arn:aws:iam::"+AccountID+":user/standin"
	if s, ok := a.sessions[sig.key]; ok {
		caller, callerArn = s.account, strings.Replace(strings.Replace(s.roleARN, ":iam::", ":sts::", 1), ":role/", ":assumed-role/", 1)+"/"+s.name
	}
	a.signed = append(a.signed, Signed{AccessKeyID: sig.key, Account: caller, Region: sig.region, Service: "sts", Operation: form.Get("Action")})
	switch form.Get("Action") {
	case "GetCallerIdentity":
		stsOK(w, "GetCallerIdentity", fmt.Sprintf("<Arn>%s</Arn><UserId>AIDSTANDIN</UserId><Account>%s</Account>", escapeXML(callerArn), caller))
	case "AssumeRole":
		a.assumeRole(w, form, caller, callerArn, sig.region)
	default:
		stsError(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("the stand-in's STS implements AssumeRole and GetCallerIdentity, not %q", form.Get("Action")))
	}
}

// assumeRole is STS AssumeRole, strict as API_AssumeRole documents it.
// It runs with a.mu held.
func (a *Accounts) assumeRole(w http.ResponseWriter, form url.Values, caller, callerArn, region string) {
	call := AssumeCall{RoleARN: form.Get("RoleArn"), RoleSessionName: form.Get("RoleSessionName"), ExternalID: form.Get("ExternalId"), Region: region}
	fail := func(status int, code, msg string) {
		call.ErrorCode = code
		a.assumed = append(a.assumed, call)
		stsError(w, status, code, msg)
	}
	denied := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerArn, call.RoleARN)
	m := roleARNPattern.FindStringSubmatch(call.RoleARN)
	switch {
	case m == nil:
		fail(http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint", call.RoleARN))
		return
	case !sessionNamePattern.MatchString(call.RoleSessionName):
		fail(http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64 and match [\\w+=,.@-]*", call.RoleSessionName))
		return
	case call.ExternalID != "" && (len(call.ExternalID) < 2 || len(call.ExternalID) > 1224 || !externalIDPattern.MatchString(call.ExternalID)):
		fail(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'externalId' failed to satisfy constraint")
		return
	}
	role, ok := a.roles[call.RoleARN]
	if !ok || role.TrustAccount != caller || (role.ExternalID != "" && role.ExternalID != call.ExternalID) {
		fail(http.StatusForbidden, "AccessDenied", denied)
		return
	}
	account := m[1]
	if _, ok := a.members[accountRegion{account, region}]; !ok {
		fail(http.StatusForbidden, "RegionDisabledException", fmt.Sprintf("STS is not activated in this region for account:%s. Your account administrator can activate STS in this region using the IAM Console.", account))
		return
	}
	key, secret, token := "ASIA"+randomID(16), randomID(40), randomID(64)
	expires := a.now().Add(time.Hour)
	a.sessions[key] = session{account: account, roleARN: call.RoleARN, name: call.RoleSessionName, secret: secret, token: token, expires: expires}
	a.assumed = append(a.assumed, call)
	assumedARN := strings.Replace(strings.Replace(call.RoleARN, ":iam::", ":sts::", 1), ":role/", ":assumed-role/", 1) + "/" + call.RoleSessionName
	stsOK(w, "AssumeRole", fmt.Sprintf("<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROASTANDIN:%s</AssumedRoleId></AssumedRoleUser>"+
		"<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>",
		escapeXML(assumedARN), escapeXML(call.RoleSessionName), key, secret, token, expires.UTC().Format(time.RFC3339)))
}

func stsOK(w http.ResponseWriter, op, result string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID())
	_, _ = fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		op, op, result, op, requestID(), op)
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		code, escapeXML(msg), requestID())
}

func escapeXML(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0234567"

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("standin: no randomness"))
	}
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}
