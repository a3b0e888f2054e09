package broker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Listener types.
const (
	ListenerTCP = "tcp" // MQTT over TCP
	ListenerTLS = "tls" // MQTT over TLS
	ListenerWS  = "ws"  // MQTT over WebSocket
	ListenerWSS = "wss" // MQTT over WebSocket over TLS
)

// DefaultWSPath is the HTTP path of ws and wss listeners by default.
const DefaultWSPath = "/mqtt"

// wsSubprotocols are the WebSocket subprotocols accepted, in order of
// preference [MQTT-6.0.0-3]; "mqttv3.1" is what MQTT 3.1 clients ask for.
var wsSubprotocols = []string{"mqtt", "mqttv3.1"}

// wsHeaderTimeout bounds how long a ws or wss client may take to send its
// request headers (and, for wss, to finish the TLS handshake).
const wsHeaderTimeout = 10 * time.Second

// listenerType returns l.Type with its default.
func (l *Listener) listenerType() string {
	if l.Type == "" {
		return ListenerTCP
	}
	return l.Type
}

// serverTLS returns the TLS configuration of a tls or wss listener: a
// copy of l.TLS with TLS 1.2 at least and the client certificate policy.
func (l *Listener) serverTLS() (*tls.Config, error) {
	if l.TLS == nil || (len(l.TLS.Certificates) == 0 && l.TLS.GetCertificate == nil && l.TLS.GetConfigForClient == nil) {
		return nil, errors.New("no server certificate")
	}
	cfg := l.TLS.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	switch {
	case l.RequireCertificate || l.UseIdentityAsUsername:
		if cfg.ClientCAs == nil {
			return nil, errors.New("a client certificate is required but no client CA is set")
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case cfg.ClientCAs != nil && cfg.ClientAuth == tls.NoClientCert:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	if l.listenerType() == ListenerWSS {
		cfg.NextProtos = []string{"http/1.1"} // WebSocket needs HTTP/1.1
	}
	return cfg, nil
}

// listen binds l and wraps the socket for its type.
func (l *Listener) listen() (net.Listener, error) {
	typ := l.listenerType()
	var cfg *tls.Config
	switch typ {
	case ListenerTCP, ListenerWS:
	case ListenerTLS, ListenerWSS:
		var err error
		if cfg, err = l.serverTLS(); err != nil {
			return nil, fmt.Errorf("broker: listener %s (%s): %w", l.Address, typ, err)
		}
	default:
		return nil, fmt.Errorf("broker: listener %s: unknown type %q", l.Address, typ)
	}
	if p := l.Path; p != "" && (typ == ListenerTCP || typ == ListenerTLS || p[0] != '/') {
		return nil, fmt.Errorf("broker: listener %s: invalid path %q for type %s", l.Address, p, typ)
	}
	ln, err := net.Listen("tcp", l.Address)
	if err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", l.Address, err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

// certIdentity returns the username a client certificate stands for: its
// subject common name, else its first DNS name, else its first email
// address ("" without a certificate).
func certIdentity(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return identityOf(cs.PeerCertificates[0])
}

func identityOf(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.EmailAddresses) > 0:
		return c.EmailAddresses[0]
	}
	return ""
}

// tlsHandshake completes the TLS handshake of c (bounded by the CONNECT
// deadline already set) and takes the certificate identity as the
// username when the listener says so. Plain connections pass.
func (c *conn) tlsHandshake() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("broker: tls handshake: %w", err)
	}
	if c.useIdentity {
		c.certUser = certIdentity(tc.ConnectionState())
	}
	return nil
}

// newWSServer returns the HTTP server of a ws or wss listener: it answers
// WebSocket upgrades on l's path and hands each upgraded connection to the
// broker like an accepted TCP connection.
func (s *Server) newWSServer(l Listener, lc *listenerConns) *http.Server {
	path := l.Path
	if path == "" {
		path = DefaultWSPath
	}
	up := &websocket.Upgrader{
		HandshakeTimeout: s.opts.ConnectTimeout,
		Subprotocols:     wsSubprotocols,
		// Browsers on any origin may connect: clients are authenticated
		// by MQTT credentials or certificates, not by cookies.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			http.Error(w, "MQTT over WebSocket only", http.StatusBadRequest)
			return
		}
		if !slices.ContainsFunc(websocket.Subprotocols(r), func(p string) bool { return slices.Contains(wsSubprotocols, p) }) {
			// [MQTT-6.0.0-3]: the subprotocol must be mqtt.
			http.Error(w, "WebSocket subprotocol mqtt required", http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade(w, r, nil) // answers the client itself on error
		if err != nil {
			s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
			return
		}
		// A message may hold several packets; a packet may span messages.
		ws.SetReadLimit(int64(s.opts.MaxPacketSize) + 64<<10)
		c := newConn(s, newWSConn(ws))
		c.lc = lc
		if l.UseIdentityAsUsername && r.TLS != nil {
			c.certUser = certIdentity(*r.TLS)
		}
		s.startConn(c)
	})
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: wsHeaderTimeout,
		ReadTimeout:       wsHeaderTimeout, // until the upgrade; the broker sets its own deadlines after
		IdleTimeout:       wsHeaderTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// errTextMessage ends a WebSocket connection that sent a text message.
var errTextMessage = errors.New("broker: websocket text message (MQTT needs binary)")

// wsConn adapts a WebSocket to net.Conn for the connection code: Read
// returns the payload of binary messages as one stream (a packet may span
// messages), Write sends one binary message per call, deadlines go to the
// underlying socket. Reads come from the read loop only and writes from
// one writer at a time, as gorilla/websocket requires.
type wsConn struct {
	ws        *websocket.Conn
	r         io.Reader // the message being read; nil between messages
	closeOnce sync.Once
	closeErr  error
}

func newWSConn(ws *websocket.Conn) *wsConn { return &wsConn{ws: ws} }

// Read reads from the current binary message, moving on to the next one
// at its end. A close frame reads as end of file.
func (w *wsConn) Read(p []byte) (int, error) {
	for {
		if w.r == nil {
			typ, r, err := w.ws.NextReader()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				// [MQTT-6.0.0-1]: close on a text message.
				msg := websocket.FormatCloseMessage(websocket.CloseUnsupportedData, "binary messages only")
				w.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				return 0, errTextMessage
			}
			w.r = r
		}
		n, err := w.r.Read(p)
		if errors.Is(err, io.EOF) {
			w.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends b as one binary message.
func (w *wsConn) Write(b []byte) (int, error) {
	if err := w.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the underlying connection once; it may run while Read or
// Write is blocked, which then return.
func (w *wsConn) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.ws.Close() })
	return w.closeErr
}

func (w *wsConn) LocalAddr() net.Addr                { return w.ws.LocalAddr() }
func (w *wsConn) RemoteAddr() net.Addr               { return w.ws.RemoteAddr() }
func (w *wsConn) SetReadDeadline(t time.Time) error  { return w.ws.SetReadDeadline(t) }
func (w *wsConn) SetWriteDeadline(t time.Time) error { return w.ws.SetWriteDeadline(t) }

func (w *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(w.ws.SetReadDeadline(t), w.ws.SetWriteDeadline(t))
}
