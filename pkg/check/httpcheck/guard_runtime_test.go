package httpcheck

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckRuntimeAPI(t *testing.T) {
	api := netip.MustParseAddrPort("127.0.0.1:9001")
	tests := []struct {
		addr    string
		api     netip.AddrPort
		refused bool
	}{
		{"127.0.0.1:9001", api, true},
		{"127.0.0.2:9001", api, true}, // any loopback address reaches the same listener
		{"[::ffff:127.0.0.1]:9001", api, true},
		{"[::1]:9001", api, true},
		{"127.0.0.1:9002", api, false},
		{"10.0.0.5:9001", api, false},
		{"127.0.0.1:9001", netip.AddrPort{}, false}, // not running in Lambda
	}
	for _, tt := range tests {
		err := checkRuntimeAPI(netip.MustParseAddrPort(tt.addr), tt.api)
		var re *RuntimeAPIError
		if got := errors.As(err, &re); got != tt.refused {
			t.Errorf("checkRuntimeAPI(%s, %s) = %v; want refused %t", tt.addr, tt.api, err, tt.refused)
		}
	}
}
