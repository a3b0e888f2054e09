package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// TestTLSClientCertificate: the bridge reaches a Mosquitto that requires
// a client certificate.
func TestTLSClientCertificate(t *testing.T) {
	m := startMosquitto(t) // plain listener, for the subscriber
	certs := t.TempDir()
	ca, caKey := brokertest.WriteCert(t, certs, "ca", nil, nil, false)
	brokertest.WriteCert(t, certs, "server", ca, caKey, true, net.IPv4(127, 0, 0, 1))
	brokertest.WriteCert(t, certs, "client", ca, caKey, false)
	tlsAddr := freePort(t)
	_, port, _ := net.SplitHostPort(tlsAddr)
	extra := fmt.Sprintf("listener %s 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\nkeyfile %s/server.key\nrequire_certificate true\n", port, certs, certs, certs)
	conf := filepath.Join(m.dir, "m.conf")
	old, _ := os.ReadFile(conf)
	os.WriteFile(conf, append(old, extra...), 0o600)
	m.stop()
	m.start()
	brokertest.WaitReady(t, tlsAddr)
	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cc, err := tls.LoadX509KeyPair(filepath.Join(certs, "client.pem"), filepath.Join(certs, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, "")
	cfg.Address = "tls://" + tlsAddr
	cfg.TLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cc}}
	b := newBridge(t, srv, db, cfg)
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected over TLS")
	publishStream(t, srv, 1, 20, nil)
	checkStream(t, sub, 1, 20)

	// Without the client certificate the uplink refuses the handshake.
	cfg.Name = "nocert"
	cfg.TLS = &tls.Config{RootCAs: pool}
	b2 := newBridge(t, srv, db, cfg)
	brokertest.Eventually(t, 5*time.Second, func() bool { return b2.Stats().LastError != "" }, "TLS error")
	if b2.Stats().Connected {
		t.Error("connected without a client certificate")
	}
}
