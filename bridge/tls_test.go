package bridge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// writeCert creates a key and a certificate signed by parent (self-signed
// when parent is nil) and writes them as PEM files dir/name.pem and
// dir/name.key.
func writeCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, server bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestTLSClientCertificate: the bridge reaches a Mosquitto that requires
// a client certificate.
func TestTLSClientCertificate(t *testing.T) {
	m := startMosquitto(t) // plain listener, for the subscriber
	certs := t.TempDir()
	ca, caKey := writeCert(t, certs, "ca", nil, nil, false)
	writeCert(t, certs, "server", ca, caKey, true)
	writeCert(t, certs, "client", ca, caKey, false)
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
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { db.Close(context.Background()) })
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
