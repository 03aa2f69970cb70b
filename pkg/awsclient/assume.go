package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// AssumeRoleAPI is the part of *sts.Client an Assumer uses: the SDK's
// stscreds.AssumeRoleAPIClient.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var (
	_ AssumeRoleAPI                = (*sts.Client)(nil)
	_ stscreds.AssumeRoleAPIClient = AssumeRoleAPI(nil)
)

// Target is where a call looks: a role to assume (with the external id its
// trust policy may ask for) and a region. Empty fields are the function's
// own credentials and region.
type Target struct {
	RoleARN    string
	ExternalID string
	Region     string
}

// Account returns the account id in the target's role ARN, or "" when it
// names none.
func (t Target) Account() string {
	// arn:partition:iam::account:role/name
	parts := strings.SplitN(t.RoleARN, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// String names the target for messages: role, account and region, never
// the external id.
func (t Target) String() string {
	var parts []string
	if t.RoleARN != "" {
		parts = append(parts, "role "+t.RoleARN)
	} else {
		parts = append(parts, "this function's own account")
	}
	if t.Region != "" {
		parts = append(parts, "region "+t.Region)
	}
	return strings.Join(parts, ", ")
}

// MaxSessionName is the longest RoleSessionName AssumeRole accepts: 2–64
// characters of [\w+=,.@-]
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
// "RoleSessionName"; the SDK's sts.AssumeRoleInput documents the same
// character set).
const MaxSessionName = 64

// SessionName returns a RoleSessionName for the role sessions one piece of
// work opens: prefix and id (a CodePipeline job id, an alarm's account and
// name), each character outside AssumeRole's set replaced by '-', cut to 64
// characters. The session name is in the assumed-role ARN, so CloudTrail
// in the role's account shows which job or alarm each call served.
func SessionName(prefix, id string) string {
	var b strings.Builder
	for _, r := range prefix + "-" + id {
		if b.Len() == MaxSessionName {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// Assumer hands out credentials for the roles one invocation works
// through: sts:AssumeRole through the SDK's stscreds provider, in the
// target's region (STS's regional endpoint), each behind an
// aws.CredentialsCache kept per (role, external id, region), so the
// invocation assumes each role once. Build one per invocation: the cache
// and the refusals it records end with it. Credentials are never logged,
// never put in an error, never returned but to the SDK.
type Assumer struct {
	api     AssumeRoleAPI
	session string

	mu      sync.Mutex
	creds   map[Target]aws.CredentialsProvider
	refused []error
	seen    map[string]bool
}

// NewAssumer returns an Assumer that calls api (one *sts.Client built at
// cold start) with the given RoleSessionName (see SessionName).
func NewAssumer(api AssumeRoleAPI, sessionName string) *Assumer {
	return &Assumer{api: api, session: sessionName, creds: map[Target]aws.CredentialsProvider{}}
}

// SessionName returns the RoleSessionName the Assumer uses.
func (a *Assumer) SessionName() string { return a.session }

// Credentials returns the cached credentials provider for t's role, or nil
// when t names no role (the client's own credentials then sign).
func (a *Assumer) Credentials(t Target) aws.CredentialsProvider {
	if t.RoleARN == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.creds[t]; ok {
		return p
	}
	prov := stscreds.NewAssumeRoleProvider(regionalSTS{api: a.api, region: t.Region}, t.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = a.session
		if t.ExternalID != "" {
			o.ExternalID = aws.String(t.ExternalID)
		}
	})
	p := aws.NewCredentialsCache(classifying{next: prov, target: t, a: a})
	a.creds[t] = p
	return p
}

// Check assumes t's role now (the cached credentials serve every later
// call), so a role that cannot be assumed is refused before any check
// runs. The error is an *AssumeError.
func (a *Assumer) Check(ctx context.Context, t Target) error {
	p := a.Credentials(t)
	if p == nil {
		return nil
	}
	if _, err := p.Retrieve(ctx); err != nil {
		var ae *AssumeError
		if errors.As(err, &ae) {
			return ae
		}
		return &AssumeError{Target: t, Session: a.session, Kind: RefusedTransient, Err: err}
	}
	return nil
}

// Refusals returns every AssumeError and DeniedError the invocation met,
// oldest first, each once.
func (a *Assumer) Refusals() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]error(nil), a.refused...)
}

// note records a refusal once per key (what was refused, where).
func (a *Assumer) note(key string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	if a.seen[key] {
		return
	}
	a.seen[key] = true
	a.refused = append(a.refused, err)
}

// regionalSTS sends AssumeRole to STS in the target's region: a role in an
// opt-in region's account is refused there with RegionDisabledException
// when the account has not activated it.
type regionalSTS struct {
	api    AssumeRoleAPI
	region string
}

func (r regionalSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if r.region != "" {
		optFns = append(optFns, func(o *sts.Options) { o.Region = r.region })
	}
	return r.api.AssumeRole(ctx, in, optFns...)
}

// classifying turns an AssumeRole failure into an *AssumeError naming the
// role, the account and the fix, and records it.
type classifying struct {
	next   aws.CredentialsProvider
	target Target
	a      *Assumer
}

func (c classifying) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.next.Retrieve(ctx)
	if err == nil {
		return creds, nil
	}
	ae := &AssumeError{Target: c.target, Session: c.a.session, Kind: classifyAssume(err), Err: err}
	if ae.Kind != RefusedTransient {
		c.a.note("assume "+c.target.RoleARN+" "+c.target.Region, ae)
	}
	return aws.Credentials{}, ae
}

// Refusal says why AWS refused a call, for the caller to pick its
// reaction (a PermissionError for CodePipeline, a configuration error).
type Refusal int

// The refusals.
const (
	// RefusedTransient: throttling, an outage, a network failure: retry.
	RefusedTransient Refusal = iota
	// RefusedPermission: IAM denied the call (the trust policy or a
	// permission).
	RefusedPermission
	// RefusedRegion: the region is not enabled for the account, or is not
	// a region at all.
	RefusedRegion
)

// classifyAssume reads an AssumeRole error. STS documents AccessDenied
// ("not authorized to perform: sts:AssumeRole": the trust policy or the
// caller's policy) and RegionDisabledException ("STS is not activated in
// the requested region for the account that is being asked to generate
// credentials") in API_AssumeRole's Errors. A region the endpoint
// resolver cannot reach at all is a region that does not exist.
func classifyAssume(err error) Refusal {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException":
			return RefusedPermission
		case "RegionDisabledException", "InvalidClientTokenId", "UnrecognizedClientException":
			return RefusedRegion
		}
		return RefusedTransient
	}
	if noSuchHost(err) {
		return RefusedRegion
	}
	return RefusedTransient
}

// noSuchHost reports whether err is a DNS name that does not exist: STS's
// endpoint in a region that does not exist.
func noSuchHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// AssumeError is an AssumeRole that failed: it names the role, its
// account, the region, the session and the fix.
type AssumeError struct {
	Target  Target
	Session string
	Kind    Refusal
	Err     error
}

func (e *AssumeError) Error() string {
	acct := e.Target.Account()
	switch e.Kind {
	case RefusedPermission:
		return fmt.Sprintf("could not assume role %s in account %s (sts:AssumeRole was denied, session %s): either the role's trust policy does not name this function's role as a principal%s, or this function's role is not allowed sts:AssumeRole on it. Fix the trust policy in account %s (the postdeploy member stack writes it) or grant sts:AssumeRole on the role to this function's role: %v",
			e.Target.RoleARN, acct, e.Session, externalIDHint(e.Target), acct, e.Err)
	case RefusedRegion:
		return fmt.Sprintf("could not assume role %s in account %s in region %s: the region is not enabled for the account (or STS is not activated there). Enable the region for account %s (AWS Regions in the account settings; STS endpoints in IAM account settings) or name a region the account uses: %v",
			e.Target.RoleARN, acct, regionOr(e.Target.Region), acct, e.Err)
	}
	return fmt.Sprintf("could not assume role %s in account %s (region %s): %v; this is usually transient (throttling, an outage): retry", e.Target.RoleARN, acct, regionOr(e.Target.Region), e.Err)
}

func (e *AssumeError) Unwrap() error { return e.Err }

func externalIDHint(t Target) string {
	if t.ExternalID == "" {
		return " (or it requires an external id: set externalId)"
	}
	return " (or its sts:ExternalId condition does not match the externalId given)"
}

func regionOr(r string) string {
	if r == "" {
		return "of this function"
	}
	return r
}
