package httpcheck

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
)

// The dial guard decides, on the resolved address of every connection a
// probe makes — whatever the URL spelled (a name, a decimal or mapped IP,
// 127.1) and wherever a redirect led — whether it may be dialed. Nothing
// is sent to a refused address: the refusal happens in net.Dialer.Control,
// before connect.

// refusedRange is a block of addresses and what it is, for messages.
type refusedRange struct {
	prefix netip.Prefix
	what   string
}

// The function's own host: no check may reach it. A probe there could
// read the Lambda Runtime API — whose address Lambda gives in
// AWS_LAMBDA_RUNTIME_API and whose GET /2018-06-01/runtime/invocation/next
// answers the next invocation's event, with another job's artifact
// credentials ("Using the Lambda runtime API for custom runtimes",
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) — or any
// other local service. Loopback is allowed only when the local harness
// opts in. The link-local ranges hold the EC2 instance metadata service
// (169.254.169.254 and fd00:ec2::254, "Access instance metadata for an EC2
// instance", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html)
// and the ECS task metadata endpoint (169.254.170.2).
var (
	unspecified = []refusedRange{
		{netip.MustParsePrefix("0.0.0.0/8"), "the unspecified address 0.0.0.0 (\"this host\"; 0.0.0.0/8)"},
		{netip.MustParsePrefix("::/128"), "the unspecified address :: (\"this host\")"},
	}
	loopback = []refusedRange{
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
		{netip.MustParsePrefix("::1/128"), "loopback (::1)"},
	}
	// compatible are the deprecated IPv4-compatible IPv6 addresses
	// (::a.b.c.d), which some stacks route to the IPv4 address.
	compatible = refusedRange{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6 address (::/96, deprecated)"}
	linkLocal  = []refusedRange{
		{netip.MustParsePrefix("169.254.0.0/16"), "IPv4 link-local (169.254.0.0/16: the EC2 instance metadata service, the ECS task metadata endpoint)"},
		{netip.MustParsePrefix("fd00:ec2::254/128"), "the EC2 instance metadata service over IPv6 (fd00:ec2::254)"},
		{netip.MustParsePrefix("fe80::/10"), "IPv6 link-local (fe80::/10)"},
	}
)

// LinkLocalError is the dial guard's refusal to connect to a link-local or
// instance-metadata address. It reaches callers wrapped in the
// *url.Error of the request; use errors.As to find it.
type LinkLocalError struct {
	// Addr is the resolved address the dial was refused for.
	Addr string
	// Range says which refused range it is in.
	Range string
}

func (e *LinkLocalError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s, which probes may not reach by default; if this check really must probe it, set allowLinkLocal: true on the check", e.Addr, e.Range)
}

// HostAddressError is the dial guard's refusal to connect to the
// function's own host: an unspecified, loopback or IPv4-compatible
// address, or an address of one of the host's interfaces. No spec setting
// allows it.
type HostAddressError struct {
	// Addr is the resolved address the dial was refused for.
	Addr string
	// Range says what the address is.
	Range string
}

func (e *HostAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s, the function's own host, which no check may reach; probe the service by an address other hosts use", e.Addr, e.Range)
}

// RuntimeAPIError is the refusal to connect to the function's own Lambda
// Runtime API, in any spelling.
type RuntimeAPIError struct{ Addr string }

func (e *RuntimeAPIError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is this function's own Lambda Runtime API, which no check may reach", e.Addr)
}

// dialPolicy is what one transport may dial.
type dialPolicy struct {
	allowLinkLocal bool
	// allowLoopback is the local harness's opt-in (Options.AllowLoopback).
	allowLoopback bool
	// runtimeAPI is the Lambda Runtime API's port and, when it was given
	// as an IP, its address (api.Addr() invalid otherwise).
	apiPort uint16
	apiAddr netip.Addr
	// hostAddrs lists the host's own addresses.
	hostAddrs func() ([]netip.Addr, error)
}

// control is the net.Dialer Control function: it runs after name
// resolution and before connect, on every address the dialer tries.
func (p dialPolicy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address the guard cannot read is not dialed.
		return fmt.Errorf("dial guard: cannot parse %s address %q: %w", network, address, err)
	}
	return p.check(ap)
}

// check returns the refusal for ap, or nil when it may be dialed. An
// IPv4-mapped IPv6 address is judged as the IPv4 address it carries, and
// a zone (fe80::1%eth0) is ignored.
func (p dialPolicy) check(ap netip.AddrPort) error {
	a := ap.Addr().WithZone("").Unmap()
	shown := a.String()
	own, err := p.isHostAddr(a)
	if err != nil {
		return err
	}
	local := own || a.IsLoopback() || a.IsUnspecified() || unspecified[0].prefix.Contains(a) || compatible.prefix.Contains(a)
	if p.apiPort != 0 && ap.Port() == p.apiPort && (local || (p.apiAddr.IsValid() && a == p.apiAddr)) {
		return &RuntimeAPIError{Addr: netip.AddrPortFrom(a, ap.Port()).String()}
	}
	for _, r := range unspecified {
		if r.prefix.Contains(a) {
			return &HostAddressError{Addr: shown, Range: r.what}
		}
	}
	for _, r := range loopback {
		if r.prefix.Contains(a) {
			if p.allowLoopback {
				return nil
			}
			return &HostAddressError{Addr: shown, Range: r.what}
		}
	}
	if compatible.prefix.Contains(a) {
		return &HostAddressError{Addr: shown, Range: compatible.what}
	}
	if p.apiAddr.IsValid() && a == p.apiAddr {
		// The Runtime API's own address, on another port: still the host.
		return &HostAddressError{Addr: shown, Range: "the address of this function's Lambda Runtime API"}
	}
	if own {
		return &HostAddressError{Addr: shown, Range: "an address of one of this host's network interfaces"}
	}
	if !p.allowLinkLocal {
		for _, r := range linkLocal {
			if r.prefix.Contains(a) {
				return &LinkLocalError{Addr: shown, Range: r.what}
			}
		}
	}
	return nil
}

func (p dialPolicy) isHostAddr(a netip.Addr) (bool, error) {
	if p.hostAddrs == nil {
		return false, nil
	}
	addrs, err := p.hostAddrs()
	if err != nil {
		// Fail closed: without the host's addresses the guard cannot tell.
		return false, fmt.Errorf("dial guard: list this host's addresses: %w", err)
	}
	for _, h := range addrs {
		if h.WithZone("").Unmap() == a {
			return true, nil
		}
	}
	return false, nil
}

// interfaceAddrs lists the addresses of the host's network interfaces
// (net.InterfaceAddrs). It runs on every new connection, not once, so an
// address the host gains later is refused too.
func interfaceAddrs() ([]netip.Addr, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if na, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, na.Unmap())
		}
	}
	return out, nil
}

// parseRuntimeAPI reads AWS_LAMBDA_RUNTIME_API ("127.0.0.1:9001"): its
// port and, when the host is an IP, its address. A host given as a name
// ("localhost:9001") still yields the port, refused on every local
// address.
func parseRuntimeAPI(s string) (port uint16, addr netip.Addr) {
	if s == "" {
		return 0, netip.Addr{}
	}
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return 0, netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(host, ps))
	if err == nil {
		return ap.Port(), ap.Addr().WithZone("").Unmap()
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 {
		return 0, netip.Addr{}
	}
	return uint16(n), netip.Addr{}
}

// runtimeAPIEnv is the Lambda Runtime API of the process, read once.
var runtimeAPIEnv = os.Getenv("AWS_LAMBDA_RUNTIME_API")

// guardRefusal returns the dial guard's refusal in err, or nil.
func guardRefusal(err error) error {
	var (
		ll *LinkLocalError
		he *HostAddressError
		re *RuntimeAPIError
	)
	switch {
	case errors.As(err, &re):
		return re
	case errors.As(err, &he):
		return he
	case errors.As(err, &ll):
		return ll
	}
	return nil
}
