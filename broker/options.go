package broker

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// Listener describes one network listener.
type Listener struct {
	// Name identifies the listener in logs; default "tcp:" + Address.
	Name string
	// Address is host:port; port 0 picks a free port (see Server.Addrs).
	Address string
	// AllowAnonymous accepts clients without credentials. Nil means: only
	// on loopback addresses (the Mosquitto 2 default), whatever the Type.
	AllowAnonymous *bool
	// Type is the transport: ListenerTCP (the default), ListenerTLS,
	// ListenerWS or ListenerWSS.
	Type string
	// TLS is the server configuration of tls and wss listeners, built by
	// the caller (certificates, ClientCAs); the broker copies it and
	// raises MinVersion to TLS 1.2. With ClientCAs set, client
	// certificates are verified when presented.
	TLS *tls.Config
	// RequireCertificate refuses TLS clients without a valid certificate
	// (TLS.ClientCAs must be set).
	RequireCertificate bool
	// UseIdentityAsUsername takes the username from the client
	// certificate (its subject CN, else its first DNS name, else its
	// first email address) like Mosquitto's use_identity_as_username. It
	// implies RequireCertificate.
	UseIdentityAsUsername bool
	// Path is the HTTP path of ws and wss listeners (default "/mqtt").
	Path string
	// MaxConnections caps the connections of this listener; 0: only
	// Options.MaxConnections applies. Connections past it are closed at
	// once, before any MQTT is read.
	MaxConnections int
}

// Options configures a Server. The zero value of every field means its
// documented default; see DefaultOptions.
type Options struct {
	// Listeners are the network listeners; none means in-process only.
	Listeners []Listener
	// MaxConnections caps concurrent network clients (default 2000).
	MaxConnections int
	// MaxPacketSize is the largest packet accepted from a client, in bytes
	// (default 256 KiB). It is announced to v5 clients.
	MaxPacketSize int
	// MaxKeepAlive caps the keep alive a client may ask for; 0 means no cap.
	// A v5 client asking for more (or for 0) is told the server keep alive.
	MaxKeepAlive time.Duration
	// MaxInflight is the outbound QoS 1/2 window per client (default 32),
	// further limited by the client's receive maximum.
	MaxInflight int
	// MaxQueuedMessages bounds the messages queued per client while its
	// window is full or it is offline (default 1000).
	MaxQueuedMessages int
	// MaxQueuedBytes bounds the bytes buffered for one connection's socket
	// (default 1 MiB); beyond it QoS 0 messages are dropped and counted.
	MaxQueuedBytes int
	// ReceiveMaximum is the inbound QoS 1/2 window granted to each client
	// (default 64). A v5 client that exceeds it is disconnected (0x93).
	ReceiveMaximum int
	// TopicAliasMaximum is the number of topic aliases a v5 client may use
	// towards the broker (default 64).
	TopicAliasMaximum int
	// SysInterval is the period of $SYS/broker statistics; 0 disables them.
	SysInterval time.Duration
	// ConnectTimeout is how long a new connection has to send CONNECT
	// (default 10s).
	ConnectTimeout time.Duration
	// WriteTimeout is how long one blocked write to a client may take before
	// the client is disconnected (default 30s).
	WriteTimeout time.Duration
	// Logger receives the broker's logs; default slog.Default().
	Logger *slog.Logger
	// Store keeps retained messages and sessions; default in memory only.
	Store Store
	// Auth authenticates network clients and checks their publishes,
	// subscriptions and deliveries; nil means none of that (any
	// credentials are accepted where anonymous clients are). With Auth
	// set, a listener that does not allow anonymous clients requires a
	// username that Auth accepts. In-process clients are never checked.
	// Server.SetAuthorizer replaces it at run time.
	Auth Authorizer
	// Version is reported in $SYS/broker/version.
	Version string
	// GoroutinePerConn keeps the read goroutine of an idle connection
	// instead of parking the connection on the epoll poller (Linux), as on
	// other systems. For comparison and debugging.
	GoroutinePerConn bool
}

// DefaultOptions returns the options used for zero fields.
func DefaultOptions() Options {
	return Options{
		MaxConnections:    2000,
		MaxPacketSize:     256 << 10,
		MaxInflight:       32,
		MaxQueuedMessages: 1000,
		MaxQueuedBytes:    1 << 20,
		ReceiveMaximum:    64,
		TopicAliasMaximum: 64,
		SysInterval:       10 * time.Second,
		ConnectTimeout:    10 * time.Second,
		WriteTimeout:      30 * time.Second,
		Version:           "dev",
	}
}

func (o *Options) fillDefaults() {
	d := DefaultOptions()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&o.MaxConnections, d.MaxConnections)
	setInt(&o.MaxPacketSize, d.MaxPacketSize)
	setInt(&o.MaxInflight, d.MaxInflight)
	setInt(&o.MaxQueuedMessages, d.MaxQueuedMessages)
	setInt(&o.MaxQueuedBytes, d.MaxQueuedBytes)
	setInt(&o.ReceiveMaximum, d.ReceiveMaximum)
	setInt(&o.TopicAliasMaximum, d.TopicAliasMaximum)
	if o.MaxInflight > 65535 {
		o.MaxInflight = 65535
	}
	if o.ReceiveMaximum > 65535 {
		o.ReceiveMaximum = 65535
	}
	if o.TopicAliasMaximum > 65535 {
		o.TopicAliasMaximum = 65535
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = d.ConnectTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Store == nil {
		o.Store = MemoryStore{}
	}
	if o.Version == "" {
		o.Version = d.Version
	}
}
