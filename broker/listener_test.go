package broker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// testPKI is an in-memory CA with a server certificate for 127.0.0.1 and
// client certificates.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgemq test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "edgemq test server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue signs tmpl with the CA.
func (p *testPKI) issue(t testing.TB, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// client returns a client certificate with common name cn.
func (p *testPKI) client(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	return p.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// serverTLS is a listener TLS configuration with the server certificate
// and the CA for client certificates.
func (p *testPKI) serverTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool}
}

// clientTLS trusts the CA and presents certs.
func (p *testPKI) clientTLS(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: p.pool, Certificates: certs, MinVersion: tls.VersionTLS12}
}

// writePEM writes the CA, and a certificate with its key, as PEM files in
// dir and returns their paths.
func (p *testPKI) writePEM(t testing.TB, dir, name string, c tls.Certificate) (caFile, certFile, keyFile string) {
	t.Helper()
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"ca.pem":          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}),
		name + ".pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		name + "-key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "ca.pem"), filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

// startListeners starts a broker with a tcp listener first and ls after
// it, all on 127.0.0.1:0, and returns it with the addresses in order.
func startListeners(t *testing.T, ls ...broker.Listener) (*broker.Server, []string) {
	t.Helper()
	all := append([]broker.Listener{{Address: "127.0.0.1:0"}}, ls...)
	for i := range all {
		all[i].Address = "127.0.0.1:0"
	}
	s, _ := brokertest.StartServer(t, broker.Options{Listeners: all})
	var addrs []string
	for _, a := range s.Addrs() {
		addrs = append(addrs, a.String())
	}
	return s, addrs
}

// mqttConnect sends a 3.1.1 CONNECT over c and returns the CONNACK, or
// the error that ended the connection.
func mqttConnect(c net.Conn, id string) (*packet.Connack, error) {
	b, err := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 30, ClientID: id}, packet.Version311)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(boundedWait))
	if _, err := c.Write(b); err != nil {
		return nil, err
	}
	p, err := packet.Read(c, 0, packet.Version311)
	if err != nil {
		return nil, err
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		return nil, errors.New("not a CONNACK: " + p.Type().String())
	}
	return ack, nil
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: boundedWait}, Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), boundedWait)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c.(*tls.Conn), nil
}

// TestTLSListener: a tls listener with optional client certificates and
// one that requires them and takes the CN as the username; TLS 1.1 and
// certificates of another CA are refused.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	other := newTestPKI(t)
	s, addrs := startListeners(t,
		broker.Listener{Type: broker.ListenerTLS, TLS: pki.serverTLS()},
		broker.Listener{Type: broker.ListenerTLS, TLS: pki.serverTLS(), RequireCertificate: true, UseIdentityAsUsername: true},
	)
	optional, required := addrs[1], addrs[2]

	t.Run("no client certificate", func(t *testing.T) {
		c, err := dialTLS(t, optional, pki.clientTLS())
		if err != nil {
			t.Fatal(err)
		}
		if ack, err := mqttConnect(c, "tls-anon"); err != nil || ack.ReasonCode != 0 {
			t.Fatalf("CONNECT: %v, %v", ack, err)
		}
		if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
			t.Errorf("TLS version %x", v)
		}
	})
	t.Run("optional client certificate", func(t *testing.T) {
		c, err := dialTLS(t, optional, pki.clientTLS(pki.client(t, "bob")))
		if err != nil {
			t.Fatal(err)
		}
		if ack, err := mqttConnect(c, "tls-bob"); err != nil || ack.ReasonCode != 0 {
			t.Fatalf("CONNECT: %v, %v", ack, err)
		}
	})
	t.Run("required certificate missing", func(t *testing.T) {
		c, err := dialTLS(t, required, pki.clientTLS())
		if err == nil {
			// TLS 1.3: the server's refusal arrives after the client's
			// handshake.
			_, err = mqttConnect(c, "tls-nocert")
		}
		if err == nil {
			t.Fatal("connected without the required certificate")
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		c, err := dialTLS(t, optional, pki.clientTLS(other.client(t, "mallory")))
		if err == nil {
			_, err = mqttConnect(c, "tls-other")
		}
		if err == nil {
			t.Fatal("connected with a certificate of an unknown CA")
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		cfg := pki.clientTLS()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		c, err := dialTLS(t, optional, cfg)
		if err == nil {
			_, err = mqttConnect(c, "tls11")
		}
		if err == nil {
			t.Fatal("TLS 1.1 accepted")
		}
	})
	t.Run("identity as username", func(t *testing.T) {
		c, err := dialTLS(t, required, pki.clientTLS(pki.client(t, "alice")))
		if err != nil {
			t.Fatal(err)
		}
		if ack, err := mqttConnect(c, "tls-alice"); err != nil || ack.ReasonCode != 0 {
			t.Fatalf("CONNECT: %v, %v", ack, err)
		}
		if got := s.CertUsers(); !slices.Contains(got, "alice") {
			t.Errorf("certificate users %q, want alice", got)
		}
	})
}

// wsOptions points a paho client at url with tc for wss.
func wsOptions(url string, tc *tls.Config) func(*mqtt.ClientOptions) {
	return func(o *mqtt.ClientOptions) {
		o.Servers = nil
		o.AddBroker(url)
		o.SetTLSConfig(tc)
	}
}

// TestWebSocketListeners: paho clients over ws and wss exchange messages
// with a TCP client, also after being idle for longer than a connection
// takes to park.
func TestWebSocketListeners(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	_, addrs := startListeners(t,
		broker.Listener{Type: broker.ListenerWS},
		broker.Listener{Type: broker.ListenerWSS, TLS: pki.serverTLS(), Path: "/ws"},
	)
	tcp := p3Connect(t, addrs[0], "tcp-peer", 4)
	tcp.sub(t, "from/#", 1)
	ws := p3Connect(t, addrs[1], "ws-client", 4, wsOptions("ws://"+addrs[1]+"/mqtt", nil))
	wss := p3Connect(t, addrs[2], "wss-client", 4, wsOptions("wss://"+addrs[2]+"/ws", pki.clientTLS()))
	ws.sub(t, "to/ws", 1)
	wss.sub(t, "to/wss", 1)
	// Idle past parkAfter (300 ms): these connections must not park or
	// break on the read deadline.
	time.Sleep(700 * time.Millisecond)

	ws.pub(t, "from/ws", 1, false, "hello from ws")
	wss.pub(t, "from/wss", 1, false, strings.Repeat("x", 100<<10)) // spans frames
	tcp.in.waitTopic(t, "from/ws")
	tcp.in.waitTopic(t, "from/wss")
	tcp.pub(t, "to/ws", 1, false, "to ws")
	tcp.pub(t, "to/wss", 2, false, "to wss")
	if m := ws.in.waitTopic(t, "to/ws"); string(m[len(m)-1].Payload()) != "to ws" {
		t.Errorf("ws got %q", m[len(m)-1].Payload())
	}
	wss.in.waitTopic(t, "to/wss")
	for _, m := range tcp.in.all() {
		if m.Topic() == "from/wss" && len(m.Payload()) != 100<<10 {
			t.Errorf("from/wss: %d bytes", len(m.Payload()))
		}
	}
}

// TestWebSocketRefused: requests that are not MQTT over WebSocket are
// refused and the listener keeps serving others.
func TestWebSocketRefused(t *testing.T) {
	t.Parallel()
	no := false
	_, addrs := startListeners(t, broker.Listener{Type: broker.ListenerWS}, broker.Listener{Type: broker.ListenerWS, AllowAnonymous: &no})
	addr := addrs[1]
	url := "ws://" + addr + "/mqtt"
	d := &websocket.Dialer{HandshakeTimeout: boundedWait}

	t.Run("plain HTTP", func(t *testing.T) {
		hc := &http.Client{Timeout: boundedWait}
		resp, err := hc.Get("http://" + addr + "/mqtt")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", addr, boundedWait)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(boundedWait))
		c.Write([]byte("\x10\x0c\x00\x04MQTT\x04\x02\x00\x1e\x00\x00\r\n\r\n"))
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.1 400") {
			t.Errorf("got %q", b)
		}
	})
	t.Run("wrong subprotocol", func(t *testing.T) {
		c, resp, err := d.Dial(url, http.Header{"Sec-WebSocket-Protocol": {"chat"}})
		if err == nil {
			c.Close()
			t.Fatal("upgraded with subprotocol chat")
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("response %v", resp)
		}
	})
	t.Run("wrong path", func(t *testing.T) {
		d := *d
		d.Subprotocols = []string{"mqtt"}
		c, resp, err := d.Dial("ws://"+addr+"/other", nil)
		if err == nil {
			c.Close()
			t.Fatal("upgraded on /other")
		}
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("response %v", resp)
		}
	})
	for _, tc := range []struct {
		name string
		typ  int
		msg  []byte
	}{
		{"text message", websocket.TextMessage, []byte("\x10\x0c\x00\x04MQTT\x04\x02\x00\x1e\x00\x00")},
		{"not MQTT", websocket.BinaryMessage, []byte("GET / HTTP/1.1\r\n\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *d
			d.Subprotocols = []string{"mqttv3.1"}
			c, _, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Subprotocol() != "mqttv3.1" {
				t.Errorf("subprotocol %q", c.Subprotocol())
			}
			c.SetWriteDeadline(time.Now().Add(boundedWait))
			if err := c.WriteMessage(tc.typ, tc.msg); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(boundedWait))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatal("connection still open")
					}
					break
				}
			}
		})
	}
	t.Run("anonymous refused", func(t *testing.T) {
		pc, err := p3TryConnect(t, addrs[2], "ws-anon", 4, wsOptions("ws://"+addrs[2]+"/mqtt", nil))
		if err == nil {
			pc.Disconnect(0)
			t.Fatal("anonymous client accepted on a listener with allow_anonymous false")
		}
	})
	// The listener still serves MQTT.
	pc := p3Connect(t, addr, "ws-after", 4, wsOptions(url, nil))
	pc.sub(t, "still/here", 0)
}

// TestShutdownOpenTLSAndWebSocket: Shutdown ends open tls, ws and wss
// connections and returns.
func TestShutdownOpenTLSAndWebSocket(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	ls := []broker.Listener{
		{Address: "127.0.0.1:0", Type: broker.ListenerTLS, TLS: pki.serverTLS()},
		{Address: "127.0.0.1:0", Type: broker.ListenerWS},
		{Address: "127.0.0.1:0", Type: broker.ListenerWSS, TLS: pki.serverTLS()},
	}
	s, err := broker.New(broker.Options{Listeners: ls, Logger: brokertest.TestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	a := s.Addrs()
	c, err := dialTLS(t, a[0].String(), pki.clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mqttConnect(c, "tls-open"); err != nil {
		t.Fatal(err)
	}
	lost := make(chan error, 2)
	onLost := func(o *mqtt.ClientOptions) {
		o.SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
	}
	p3Connect(t, a[1].String(), "ws-open", 4, wsOptions("ws://"+a[1].String()+"/mqtt", nil), onLost)
	p3Connect(t, a[2].String(), "wss-open", 4, wsOptions("wss://"+a[2].String()+"/mqtt", pki.clientTLS()), onLost)
	// A half-open HTTP request: the HTTP server must not wait for it.
	half, err := net.DialTimeout("tcp", a[1].String(), boundedWait)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write([]byte("GET /mqtt HTTP/1.1\r\n"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	for range 2 {
		select {
		case <-lost:
		case <-time.After(boundedWait):
			t.Fatal("websocket client not disconnected")
		}
	}
	c.SetReadDeadline(time.Now().Add(boundedWait))
	if _, err := io.ReadAll(c); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Error("tls connection still open")
		}
	}
}

// TestMosquittoTLS: mosquitto_sub and mosquitto_pub with --cafile, and
// with --cert/--key on a listener that requires a client certificate.
func TestMosquittoTLS(t *testing.T) {
	t.Parallel()
	brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.RequireTool(t, "mosquitto_sub")
	pki := newTestPKI(t)
	dir := t.TempDir()
	caFile, certFile, keyFile := pki.writePEM(t, dir, "client", pki.client(t, "mosq"))
	s, addrs := startListeners(t,
		broker.Listener{Type: broker.ListenerTLS, TLS: pki.serverTLS()},
		broker.Listener{Type: broker.ListenerTLS, TLS: pki.serverTLS(), RequireCertificate: true},
	)
	sub := startMosq(t, addrs[1], "mosquitto_sub", "--cafile", caFile, "-t", "tls/#", "-C", "2", "-W", "15", "-F", "%t|%p")
	waitSubscriptions(t, s, 1)
	runMosq(t, addrs[1], "mosquitto_pub", "--cafile", caFile, "-t", "tls/plain", "-m", "one")
	runMosq(t, addrs[2], "mosquitto_pub", "--cafile", caFile, "--cert", certFile, "--key", keyFile, "-t", "tls/cert", "-m", "two")
	if got, want := sub.wait(t), "tls/plain|one\ntls/cert|two\n"; got != want {
		t.Errorf("mosquitto_sub: got %q, want %q", got, want)
	}
	// Without a certificate, the second listener refuses.
	p := startMosq(t, addrs[2], "mosquitto_pub", "--cafile", caFile, "-t", "tls/nocert", "-m", "three")
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			t.Error("mosquitto_pub without a certificate succeeded")
		}
	case <-time.After(boundedWait):
		t.Error("mosquitto_pub without a certificate did not exit")
	}
}
