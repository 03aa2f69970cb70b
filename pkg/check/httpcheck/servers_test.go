package httpcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"log"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// sampler unwraps what New built.
func sampler(t testing.TB, s check.Sampler) *Sampler {
	t.Helper()
	ss, ok := s.(*Sampler)
	if !ok {
		t.Fatalf("New returned %T; want *Sampler", s)
	}
	return ss
}

// items numbers checks as a spec would.
func items(cs ...spec.Check) []check.Item {
	its := make([]check.Item, len(cs))
	for i, c := range cs {
		its[i] = check.Item{Index: i, Check: c}
	}
	return its
}

// quiet silences a test server's error log (TLS handshake failures are
// what some tests are about).
func quiet(s *httptest.Server) *httptest.Server {
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	return s
}

// untrustedTLSServer serves h over TLS with a fresh self-signed
// certificate for 127.0.0.1 that no pool trusts.
func untrustedTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "untrusted test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	s := quiet(httptest.NewUnstartedServer(h))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// closedPort returns the URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "http://" + addr + "/"
}

// fakeDNS is a resolver whose every A query answers ip (AAAA queries get
// no answer). It talks DNS over an in-memory pipe: nothing leaves the
// process.
func fakeDNS(ip [4]byte) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, ip)
			return client, nil
		},
	}
}

// serveDNS answers one DNS-over-TCP-framed query on c.
func serveDNS(c net.Conn, ip [4]byte) {
	defer func() { _ = c.Close() }()
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return
	}
	q := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, q); err != nil || len(q) < 12 {
		return
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	if i+5 > len(q) {
		return
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	resp := []byte{q[0], q[1], 0x84 | q[2]&0x01, 0x80, 0, 1, 0, 0, 0, 0, 0, 0} // QR, AA, RD copied, RA; QDCOUNT 1
	if qtype == 1 {
		resp[7] = 1 // ANCOUNT
	}
	resp = append(resp, question...)
	if qtype == 1 {
		resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, ip[:]...)
	}
	if len(resp) > math.MaxUint16 {
		return
	}
	_, _ = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
}
