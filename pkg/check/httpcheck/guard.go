package httpcheck

import (
	"fmt"
	"net/netip"
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
func guardDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: an address the guard cannot read is not dialed.
		return fmt.Errorf("dial guard: cannot parse %s address %q: %w", network, address, err)
	}
	return checkAddr(ap.Addr())
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
