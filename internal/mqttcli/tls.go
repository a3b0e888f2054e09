package mqttcli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// tlsConfig builds the TLS configuration from the CA, certificate and key
// files, or returns nil when no CA file is given (plain TCP). TLS 1.2 is
// the minimum. With Insecure the chain is still verified against the CA,
// only the host name is not (mosquitto --insecure).
func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.CAFile == "" {
		if o.CertFile != "" || o.KeyFile != "" || o.Insecure {
			return nil, errors.New("--cert, --key and --insecure need --cafile")
		}
		return nil, nil
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("both --cert and --key are needed for a client certificate")
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("load CA file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("load CA file %s: no PEM certificate in it", o.CAFile)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: o.Host}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if o.Insecure {
		tc.InsecureSkipVerify = true // the chain is verified below
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return tc, nil
}

func tlsClient(conn net.Conn, tc *tls.Config) *tls.Conn { return tls.Client(conn, tc) }
