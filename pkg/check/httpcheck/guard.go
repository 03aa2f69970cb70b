package httpcheck

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
)

// refused are the address ranges a probe may not connect to unless its
// check sets allowLinkLocal: the instance metadata services and the rest
// of link-local, where a probe could read the function's own credentials.
var refused = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("169.254.0.0/16"), "IPv4 link-local (169.254.0.0/16: the EC2 instance metadata service, the ECS task metadata endpoint)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the EC2 instance metadata service over IPv6 (fd00:ec2::254)"},
	{netip.MustParsePrefix("fe80::/10"), "IPv6 link-local (fe80::/10)"},
}

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

// guardDial is a net.Dialer Control function. It runs after name
// resolution and before connect, on every address the dialer tries —
// whether the URL named an IP, a DNS name, or a redirect led there — so
// nothing is sent to a refused address.
func guardDial(network, address string, c syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address the guard cannot read is not dialed.
		return fmt.Errorf("dial guard: cannot parse %s address %q: %w", network, address, err)
	}
	if err := checkAddr(ap.Addr()); err != nil {
		return err
	}
	return guardRuntimeAPI(network, address, c)
}

// runtimeAPI is the function's own Lambda Runtime API (127.0.0.1:9001 in
// Lambda). A probe there could read the next invocation's event — with
// its artifact credentials — or answer for the function, so no check may
// reach it, whatever it allows.
var runtimeAPI, _ = netip.ParseAddrPort(os.Getenv("AWS_LAMBDA_RUNTIME_API"))

// RuntimeAPIError is the refusal to connect to the function's own Lambda
// Runtime API.
type RuntimeAPIError struct{ Addr string }

func (e *RuntimeAPIError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is this function's own Lambda Runtime API, which no check may reach", e.Addr)
}

// guardRuntimeAPI is the Control function of every transport, including
// the one for checks that allow link-local addresses.
func guardRuntimeAPI(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial guard: cannot parse %s address %q: %w", network, address, err)
	}
	return checkRuntimeAPI(ap, runtimeAPI)
}

func checkRuntimeAPI(ap, api netip.AddrPort) error {
	if api.IsValid() && ap.Port() == api.Port() && (ap.Addr().Unmap() == api.Addr().Unmap() || (ap.Addr().IsLoopback() && api.Addr().IsLoopback())) {
		return &RuntimeAPIError{Addr: ap.String()}
	}
	return nil
}

// checkAddr returns a *LinkLocalError when a is in a refused range. An
// IPv4-mapped IPv6 address is judged as the IPv4 address it carries, and
// a zone (fe80::1%eth0) is ignored.
func checkAddr(a netip.Addr) error {
	a = a.WithZone("").Unmap()
	for _, r := range refused {
		if r.prefix.Contains(a) {
			return &LinkLocalError{Addr: a.String(), Range: r.what}
		}
	}
	return nil
}
