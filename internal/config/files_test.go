package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name, cert, key, ca string
		want                string // substring of the error; "" for none
	}{
		{"good", cert, key, cert, ""},
		{"missing cert", missing, key, "", "edgemq.yaml:5: broker.listeners[0].cert: open " + missing},
		{"missing key", cert, missing, "", "edgemq.yaml:6: broker.listeners[0].key: open " + missing},
		{"bad cert", bad, key, "", "edgemq.yaml:5: broker.listeners[0].cert: " + bad + " with key " + key + ": tls: "},
		{"key of another cert", cert, bad, "", "edgemq.yaml:5: broker.listeners[0].cert: "},
		{"bad client ca", cert, key, bad, "edgemq.yaml:7: broker.listeners[0].client_ca: config: " + bad + ": no PEM certificate found"},
		{"missing client ca", cert, key, missing, "edgemq.yaml:7: broker.listeners[0].client_ca: config: open " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "broker:\n  listeners:\n    - type: tls\n      address: ':8883'\n      cert: " + tt.cert + "\n      key: " + tt.key + "\n"
			if tt.ca != "" {
				y += "      client_ca: " + tt.ca + "\n"
			}
			c, err := Parse("edgemq.yaml", []byte(y))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = c.CheckFiles()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckFiles() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckFiles() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
