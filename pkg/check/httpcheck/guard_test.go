package httpcheck

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func TestDialPolicy(t *testing.T) {
	host := func() ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("fd12::7")}, nil
	}
	port, addr := parseRuntimeAPI("127.0.0.1:9001")
	strictP := dialPolicy{apiPort: port, apiAddr: addr, hostAddrs: host}
	localP := strictP
	localP.allowLoopback = true
	linkP := strictP
	linkP.allowLinkLocal = true
	var (
		ll *LinkLocalError
		he *HostAddressError
		re *RuntimeAPIError
	)
	isLL := func(err error) bool { return errors.As(err, &ll) }
	isHost := func(err error) bool { return errors.As(err, &he) }
	isAPI := func(err error) bool { return errors.As(err, &re) }
	isNil := func(err error) bool { return err == nil }
	tests := []struct {
		name   string
		policy dialPolicy
		addr   string
		want   func(error) bool
	}{
		{"loopback", strictP, "127.0.0.1:8080", isHost},
		{"loopback anywhere in 127/8", strictP, "127.1.2.3:80", isHost},
		{"IPv6 loopback", strictP, "[::1]:443", isHost},
		{"mapped loopback", strictP, "[::ffff:127.0.0.1]:80", isHost},
		{"unspecified", strictP, "0.0.0.0:80", isHost},
		{"this network", strictP, "0.1.2.3:80", isHost},
		{"IPv6 unspecified", strictP, "[::]:80", isHost},
		{"mapped unspecified", strictP, "[::ffff:0.0.0.0]:80", isHost},
		{"IPv4-compatible", strictP, "[::127.0.0.1]:80", isHost},
		{"host interface address", strictP, "10.1.2.3:80", isHost},
		{"host interface address v6", strictP, "[fd12::7]:80", isHost},
		{"metadata", strictP, "169.254.169.254:80", isLL},
		{"ECS task metadata", strictP, "169.254.170.2:80", isLL},
		{"mapped metadata", strictP, "[::ffff:169.254.169.254]:80", isLL},
		{"IPv6 metadata", strictP, "[fd00:ec2::254]:80", isLL},
		{"IPv6 link-local", strictP, "[fe80::1]:80", isLL},
		{"zoned link-local", strictP, "[fe80::1%eth0]:80", isLL},
		{"still fe80::/10", strictP, "[febf::1]:80", isLL},
		{"public", strictP, "203.0.113.7:443", isNil},
		{"private network", strictP, "10.0.0.1:80", isNil},
		{"not link-local", strictP, "169.253.255.255:80", isNil},
		{"not the metadata service", strictP, "[fd00:ec2::253]:80", isNil},
		{"runtime API", strictP, "127.0.0.1:9001", isAPI},
		{"runtime API, opted in", localP, "127.0.0.1:9001", isAPI},
		{"runtime API via 127.0.0.2", localP, "127.0.0.2:9001", isAPI},
		{"runtime API via ::1", localP, "[::1]:9001", isAPI},
		{"runtime API mapped", localP, "[::ffff:127.0.0.1]:9001", isAPI},
		{"runtime API via 0.0.0.0", localP, "0.0.0.0:9001", isAPI},
		{"runtime API via ::", localP, "[::]:9001", isAPI},
		{"runtime API via a host address", localP, "10.1.2.3:9001", isAPI},
		{"runtime API with link-local allowed", linkP, "127.0.0.1:9001", isAPI},
		{"opted-in loopback", localP, "127.0.0.1:8080", isNil},
		{"opted-in IPv6 loopback", localP, "[::1]:8080", isNil},
		{"opt-in is loopback only: unspecified", localP, "0.0.0.0:8080", isHost},
		{"opt-in is loopback only: host address", localP, "10.1.2.3:8080", isHost},
		{"opt-in is loopback only: metadata", localP, "169.254.169.254:80", isLL},
		{"allowLinkLocal", linkP, "169.254.169.254:80", isNil},
		{"allowLinkLocal is not loopback", linkP, "127.0.0.1:80", isHost},
		{"another port is not the runtime API", localP, "127.0.0.1:9002", isNil},
	}
	for _, tt := range tests {
		err := tt.policy.check(netip.MustParseAddrPort(tt.addr))
		if !tt.want(err) {
			t.Errorf("%s: check(%s) = %v (%T); wrong refusal", tt.name, tt.addr, err, err)
		}
	}
}

func TestDialPolicyFailsClosed(t *testing.T) {
	p := dialPolicy{hostAddrs: func() ([]netip.Addr, error) { return nil, errors.New("netlink: permission denied") }}
	if err := p.control("tcp", "203.0.113.7:443", nil); err == nil {
		t.Errorf("control with no host address list = nil; want a refusal")
	}
	if err := p.control("tcp", "not-an-address", nil); err == nil {
		t.Errorf("control(not-an-address) = nil; want a refusal")
	}
}

func TestParseRuntimeAPI(t *testing.T) {
	tests := []struct {
		in   string
		port uint16
		addr string
	}{
		{"127.0.0.1:9001", 9001, "127.0.0.1"},
		{"[::ffff:127.0.0.1]:9001", 9001, "127.0.0.1"},
		{"localhost:9001", 9001, "invalid IP"},
		{"", 0, "invalid IP"},
		{"127.0.0.1", 0, "invalid IP"},
		{"127.0.0.1:x", 0, "invalid IP"},
	}
	for _, tt := range tests {
		port, addr := parseRuntimeAPI(tt.in)
		if port != tt.port || addr.String() != tt.addr {
			t.Errorf("parseRuntimeAPI(%q) = %d, %s; want %d, %s", tt.in, port, addr, tt.port, tt.addr)
		}
	}
}

// TestAllowLinkLocalSkipsTheGuard tells the two transports apart without
// sending anything: Linux refuses to connect to an IPv6 link-local address
// that names no interface (EINVAL) before a packet leaves, so the allowed
// probe fails in the kernel while the default one is refused by the guard.
func TestAllowLinkLocalSkipsTheGuard(t *testing.T) {
	c := NewClient(Options{})
	for _, allow := range []bool{false, true} {
		_, err := c.Do(t.Context(), Request{URL: "http://[fe80::1]:9/", AllowLinkLocal: allow, Timeout: time.Second})
		var ll *LinkLocalError
		if err == nil || errors.As(err, &ll) == allow {
			t.Errorf("Do(fe80::1, allowLinkLocal %v) = %v; want an error that is a guard refusal only when not allowed", allow, err)
		}
	}
}

// secretEvent stands for what the Lambda Runtime API answers
// /runtime/invocation/next with: another job's event and credentials.
const secretEvent = `{"CodePipeline.job":{"data":{"artifactCredentials":{"secretAccessKey":"NEXT-JOB-SECRET"}}}}`

// trap is a listener that plays the Runtime API: it reports the remote
// address of every connection it accepts and answers each with
// secretEvent.
type trap struct {
	ln       net.Listener
	accepted chan string
}

func newTrap(t *testing.T, addr string) *trap {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Skipf("listen on %s: %v", addr, err)
	}
	tr := &trap{ln: ln, accepted: make(chan string, 1024)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tr.accepted <- c.RemoteAddr().String()
			_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(secretEvent), secretEvent)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return tr
}

// assertUntouched fails the test if any probe connection reached the
// trap. It connects once itself and reads the accepted connections up to
// its own, so every earlier one is counted.
func (tr *trap) assertUntouched(t *testing.T) {
	t.Helper()
	c, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", "127.0.0.1:"+tr.port())
	if err != nil {
		t.Fatalf("dial the trap: %v", err)
	}
	mine := c.LocalAddr().String()
	_ = c.Close()
	var probes []string
	for from := range tr.accepted {
		if from == mine {
			break
		}
		probes = append(probes, from)
	}
	if len(probes) > 0 {
		t.Errorf("the trap accepted %d probe connections (from %v); want 0", len(probes), probes)
	}
}

func (tr *trap) port() string {
	_, p, _ := net.SplitHostPort(tr.ln.Addr().String())
	return p
}

// TestHostileURLsNeverConnect is issue 12's Runtime API escape, by every
// spelling: each URL is refused by the dial guard — no connection reaches
// the listener standing in for the Runtime API — and the failure never
// quotes what such a target would have answered.
func TestHostileURLsNeverConnect(t *testing.T) {
	tr := newTrap(t, "127.0.0.1:0")
	p := tr.port()
	// Names resolve (through the fake DNS) to loopback: a DNS name
	// pointing at the host, and the numeric spellings a C resolver
	// (inet_aton) reads as 127.0.0.1.
	strict := NewClient(Options{Resolver: fakeDNS([4]byte{127, 0, 0, 1})})
	// The local harness's opt-in still refuses the Runtime API and every
	// non-loopback spelling of the host.
	local := NewClient(Options{AllowLoopback: true, RuntimeAPI: "127.0.0.1:" + p, Resolver: fakeDNS([4]byte{127, 0, 0, 1})})

	// A server the local client may reach, redirecting to the trap.
	redirect := func(to string) string {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv.URL + "/"
	}
	// Go's resolver reads no numeric spelling but dotted-decimal IPv4 and
	// answers "no such host" for 127.1, 2130706433 and 0177.0.0.1 without
	// asking DNS; a C resolver (inet_aton) would read them as 127.0.0.1.
	// Either way nothing connects: those rows accept the DNS refusal too,
	// and the hex row — which does reach the fake DNS — shows the guard
	// refusing the address such a name resolves to.
	const dnsOrGuard = true
	tests := []struct {
		name   string
		client *Client
		url    string
		dnsOK  bool
	}{
		{"loopback", strict, "http://127.0.0.1:" + p + "/2018-06-01/runtime/invocation/next", false},
		{"loopback short form", strict, "http://127.1:" + p + "/", dnsOrGuard},
		{"decimal", strict, "http://2130706433:" + p + "/", dnsOrGuard},
		{"hex", strict, "http://0x7f000001:" + p + "/", false},
		{"octal", strict, "http://0177.0.0.1:" + p + "/", dnsOrGuard},
		{"unspecified", strict, "http://0.0.0.0:" + p + "/2018-06-01/runtime/invocation/next", false},
		{"IPv6 unspecified", strict, "http://[::]:" + p + "/", false},
		{"mapped unspecified", strict, "http://[::ffff:0.0.0.0]:" + p + "/", false},
		{"mapped loopback", strict, "http://[::ffff:127.0.0.1]:" + p + "/", false},
		{"mapped loopback, long form", strict, "http://[0:0:0:0:0:ffff:7f00:1]:" + p + "/", false},
		{"IPv4-compatible", strict, "http://[::127.0.0.1]:" + p + "/", false},
		{"IPv6 loopback", strict, "http://[::1]:" + p + "/", false},
		{"localhost", strict, "http://localhost:" + p + "/", false},
		{"DNS name resolving to loopback", strict, "http://runtime.example.test:" + p + "/", false},
		{"runtime API, opted in", local, "http://127.0.0.1:" + p + "/2018-06-01/runtime/invocation/next", false},
		{"runtime API via 0.0.0.0, opted in", local, "http://0.0.0.0:" + p + "/", false},
		{"runtime API via [::], opted in", local, "http://[::]:" + p + "/", false},
		{"runtime API via [::ffff:0.0.0.0], opted in", local, "http://[::ffff:0.0.0.0]:" + p + "/", false},
		{"runtime API via a DNS name, opted in", local, "http://runtime.example.test:" + p + "/", false},
		{"redirect to the runtime API", local, redirect("http://127.0.0.1:" + p + "/2018-06-01/runtime/invocation/next"), false},
		{"redirect to 0.0.0.0", local, redirect("http://0.0.0.0:" + p + "/"), false},
		{"redirect to a decimal spelling", local, redirect("http://2130706433:" + p + "/"), dnsOrGuard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Do(t.Context(), Request{URL: tt.url, Timeout: 5 * time.Second})
			if err == nil {
				t.Fatalf("Do(%s) connected: status %d; want the dial guard to refuse it", tt.url, resp.Status)
			}
			v, msg := Explain(err, 0)
			refused := strings.Contains(msg, "refused to connect to") || (tt.dnsOK && strings.Contains(msg, "DNS lookup of"))
			if v != verdict.Error || !refused {
				t.Errorf("Do(%s) = %v: %q; want Error refused by the dial guard", tt.url, v, msg)
			}
			if strings.Contains(msg, "NEXT-JOB-SECRET") || strings.Contains(err.Error(), "NEXT-JOB-SECRET") {
				t.Errorf("Do(%s) message %q quotes the forbidden target's response", tt.url, msg)
			}
		})
	}
	tr.assertUntouched(t)
}

// TestHostInterfaceAddressRefused: a listener on the wildcard address is
// reachable through every address of the host; none of them may be
// probed.
func TestHostInterfaceAddressRefused(t *testing.T) {
	addrs, err := interfaceAddrs()
	if err != nil {
		t.Fatalf("interfaceAddrs: %v", err)
	}
	var own netip.Addr
	for _, a := range addrs {
		if !a.IsLoopback() && a.Is4() && !a.IsLinkLocalUnicast() {
			own = a
			break
		}
	}
	if !own.IsValid() {
		t.Skip("this host has no non-loopback IPv4 address")
	}
	tr := newTrap(t, "0.0.0.0:0")
	url := "http://" + net.JoinHostPort(own.String(), tr.port()) + "/"
	for _, o := range []Options{{}, {AllowLoopback: true}} {
		_, err := NewClient(o).Do(t.Context(), Request{URL: url, Timeout: 5 * time.Second})
		var he *HostAddressError
		if !errors.As(err, &he) {
			t.Errorf("Do(%s, AllowLoopback %t) = %v; want a *HostAddressError", url, o.AllowLoopback, err)
		}
	}
	tr.assertUntouched(t)
}

// TestLoopbackOptIn: the same loopback service is refused by default and
// reached when the local harness opts in — the switch, not the listener,
// decides.
func TestLoopbackOptIn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, allow := range []bool{false, true} {
		resp, err := NewClient(Options{AllowLoopback: allow}).Do(t.Context(), Request{URL: srv.URL})
		var he *HostAddressError
		switch {
		case allow && (err != nil || resp.Status != http.StatusOK):
			t.Errorf("Do(%s, AllowLoopback) = %v; want 200", srv.URL, err)
		case !allow && !errors.As(err, &he):
			t.Errorf("Do(%s) = %v; want a *HostAddressError", srv.URL, err)
		}
	}
}
