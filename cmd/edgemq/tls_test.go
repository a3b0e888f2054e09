package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/internal/config"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key in dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgemq"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestCheckConfigTLS: check-config reads the certificate files, and the
// TLS configuration built from them is TLS 1.2+ with the client CAs.
func TestCheckConfigTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("garbage\n"), 0o600)
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	listener := "broker:\n  listeners:\n    - type: tls\n      address: 127.0.0.1:0\n      cert: %s\n      key: " + keyFile + "\n      client_ca: " + certFile + "\n"
	os.WriteFile(good, []byte(strings.Replace(listener, "%s", certFile, 1)), 0o600)
	os.WriteFile(bad, []byte(strings.Replace(listener, "%s", garbage, 1)), 0o600)

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check-config", good}, &stdout, &stderr); code != 0 {
		t.Errorf("check-config good: %d, %s", code, stderr.String())
	}
	stderr.Reset()
	code := run(context.Background(), []string{"check-config", bad}, &stdout, &stderr)
	if want := "bad.yaml:5: broker.listeners[0].cert: " + garbage; code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("check-config bad: %d, %q, want %q", code, stderr.String(), want)
	}

	cfg, err := config.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := serverTLS(cfg.Broker.Listeners[0])
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS12 || len(tc.Certificates) != 1 || tc.ClientCAs == nil {
		t.Errorf("TLS config: min %x, %d certificates, client CAs %v", tc.MinVersion, len(tc.Certificates), tc.ClientCAs != nil)
	}
}
