package httpcheck

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
	}{
		{"169.254.169.254", true},
		{"169.254.170.2", true}, // ECS task metadata
		{"169.254.0.1", true},
		{"::ffff:169.254.169.254", true}, // IPv4-mapped
		{"fd00:ec2::254", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true}, // zoned
		{"febf::1", true},      // still fe80::/10
		{"fd00:ec2::253", false},
		{"fec0::1", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"169.253.255.255", false},
		{"169.255.0.1", false},
		{"203.0.113.7", false},
	}
	for _, tt := range tests {
		err := checkAddr(netip.MustParseAddr(tt.addr))
		var ll *LinkLocalError
		if got := errors.As(err, &ll); got != tt.refused {
			t.Errorf("checkAddr(%s) = %v; want refused %v", tt.addr, err, tt.refused)
		}
	}
}

func TestGuardDial(t *testing.T) {
	tests := []struct {
		address string
		wantErr bool
	}{
		{"169.254.169.254:80", true},
		{"[fd00:ec2::254]:80", true},
		{"[fe80::1%lo]:443", true},
		{"127.0.0.1:8080", false},
		{"[::1]:443", false},
		{"not-an-address", true}, // fails closed
	}
	for _, tt := range tests {
		if err := guardDial("tcp", tt.address, nil); (err != nil) != tt.wantErr {
			t.Errorf("guardDial(tcp, %q) = %v; want error %v", tt.address, err, tt.wantErr)
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
