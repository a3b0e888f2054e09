package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/devices"
)

// Defaults and bounds.
const (
	// DefaultHistoryInterval is the period of the history's points.
	DefaultHistoryInterval = 10 * time.Second
	// historyPoints is an hour of points at the default interval.
	historyPoints = 360
	// maxStreams bounds the concurrent live message streams.
	maxStreams = 8
	// readHeaderTimeout, readTimeout and idleTimeout bound every
	// connection's reads; writes are bounded per handler (streams write
	// for as long as they are watched).
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	maxBodyBytes      = 16 << 10
)

// Broker is what the HTTP side needs of the broker (a *broker.Server).
type Broker interface {
	Stats() broker.Stats
	Sessions() []broker.SessionInfo
	Disconnect(clientID string) error
	Retained(filter string, limit int) ([]*broker.Message, int, error)
	DeleteRetained(topic string) error
	SetPublishObserver(f func(m *broker.Message))
	NewClient(id string) (*broker.Client, error)
}

// BridgeInfo is one bridge as the dashboard shows it.
type BridgeInfo struct {
	Name, Address string
	Stats         bridge.Stats
}

// SinkInfo is one webhook sink as the dashboard shows it.
type SinkInfo struct {
	Name, URL string // URL without credentials
	Stats     webhook.Stats
}

// DeviceInfo is one device as the dashboard shows it.
type DeviceInfo struct {
	ID, Type, Topic string
	Stats           devices.Stats
}

// Sources are where the HTTP side gets what it shows; nil functions
// show nothing.
type Sources struct {
	Broker  Broker
	Bridges func() []BridgeInfo
	Sinks   func() []SinkInfo
	Devices func() []DeviceInfo
	// Config returns the configuration in effect with its secrets
	// hidden, ready for encoding/json.
	Config func() any
	// DiskUsage returns the bytes the gateway's database uses and the
	// bytes free on its file system.
	DiskUsage func() (used, free int64, err error)
	// Ready returns nil when the gateway serves (listeners open, storage
	// working), else why not.
	Ready func() error
}

// Users checks dashboard logins.
type Users interface {
	// Login reports whether user may log in with password.
	Login(user, password string) bool
}

// Options configure a Server.
type Options struct {
	// Address is host:port to listen on.
	Address string
	// Open serves without a login; the caller allows it on loopback
	// addresses only.
	Open bool
	// TLS, if set, serves HTTPS (and makes session cookies Secure).
	TLS *tls.Config
	// Users checks logins; nil: nobody can log in (only Open works).
	Users     Users
	Version   string
	GatewayID string
	Hardware  string
	DataDir   string
	// MemoryLimit is the Go memory limit in bytes (0: none).
	MemoryLimit int64
	// Warnings are shown on the dashboard's overview (problems found at
	// start, e.g. a configuration that was not imported).
	Warnings []string
	// HistoryInterval is the period of the history's points; 0:
	// DefaultHistoryInterval.
	HistoryInterval time.Duration
	Logger          *slog.Logger
}

// Server is the HTTP side.
type Server struct {
	opts    Options
	src     Sources
	log     *slog.Logger
	started time.Time

	sessions *sessionStore
	logins   *loginLimiter
	topics   *topicTracker
	history  *history
	streams  chan struct{} // one token per open stream

	hs   *http.Server
	ln   net.Listener
	ctx  context.Context // done on Close: ends streams and the sampler
	stop context.CancelFunc
	wg   sync.WaitGroup
	once sync.Once
}

// New returns a Server, tracking topics from now on; Start serves it,
// Close stops it (call Close even if Start was not called).
func New(opts Options, src Sources) (*Server, error) {
	if src.Broker == nil {
		return nil, errors.New("web: no broker")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.HistoryInterval <= 0 {
		opts.HistoryInterval = DefaultHistoryInterval
	}
	s := &Server{
		opts: opts, src: src, log: opts.Logger, started: time.Now(),
		sessions: newSessionStore(opts.Open),
		logins:   newLoginLimiter(),
		topics:   newTopicTracker(maxTopics),
		history:  newHistory(historyPoints),
		streams:  make(chan struct{}, maxStreams),
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	// Topics are tracked from now on, so that what devices and bridges
	// publish at their start is known before the server listens.
	src.Broker.SetPublishObserver(s.topics.observe)
	s.hs = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		TLSConfig:         opts.TLS,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	return s, nil
}

// Start binds the address, starts sampling the history, and serves
// until Close.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", s.opts.Address, err)
	}
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	s.ln = ln
	s.wg.Add(2)
	// Both exit when Close cancels s.ctx (Serve returns on Shutdown).
	go func() { defer s.wg.Done(); s.sample() }()
	go func() {
		defer s.wg.Done()
		if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server", "err", err)
		}
	}()
	scheme := "http"
	if s.opts.TLS != nil {
		scheme = "https"
	}
	s.log.Info("http listening", "address", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+"/", "login", !s.opts.Open)
	return nil
}

// ResetSessions logs every user out, e.g. after the users or their roles
// changed.
func (s *Server) ResetSessions() { s.sessions.reset() }

// Addr returns the bound address (after Start).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops serving: streams end, requests in progress get until ctx
// is done to finish.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.src.Broker.SetPublishObserver(nil)
		s.stop()
		err = s.hs.Shutdown(ctx)
		done := make(chan struct{})
		// Exits when the sampler and Serve have returned.
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
	})
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.auth(s.metrics))
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.auth(s.csrf(s.logout)))
	mux.HandleFunc("GET /api/v1/session", s.auth(s.session))
	mux.HandleFunc("GET /api/v1/overview", s.auth(s.overview))
	mux.HandleFunc("GET /api/v1/history", s.auth(s.historyJSON))
	mux.HandleFunc("GET /api/v1/clients", s.auth(s.clients))
	mux.HandleFunc("POST /api/v1/clients/{id}/disconnect", s.auth(s.csrf(s.disconnect)))
	// The same with ?id=: any client identifier, "." and ".." too, which
	// a path segment cannot carry (the mux cleans them away).
	mux.HandleFunc("POST /api/v1/clients/disconnect", s.auth(s.csrf(s.disconnect)))
	mux.HandleFunc("GET /api/v1/topics", s.auth(s.topicsJSON))
	mux.HandleFunc("GET /api/v1/retained", s.auth(s.retained))
	mux.HandleFunc("DELETE /api/v1/retained", s.auth(s.csrf(s.deleteRetained)))
	mux.HandleFunc("GET /api/v1/stream", s.auth(s.stream))
	mux.HandleFunc("GET /api/v1/bridges", s.auth(s.bridges))
	mux.HandleFunc("GET /api/v1/sinks", s.auth(s.sinks))
	mux.HandleFunc("GET /api/v1/devices", s.auth(s.devices))
	mux.HandleFunc("GET /api/v1/config", s.auth(s.config))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	})
	mux.Handle("/", assetHandler())
	return securityHeaders(s.checkHost(mux))
}

// checkHost refuses, in open mode, a request whose Host is not this
// loopback server (a DNS rebinding attack: a web page whose name now
// resolves to 127.0.0.1 would otherwise be same-origin with the
// dashboard), and, in any mode, a state-changing request whose Origin is
// another site.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Open && !loopbackHost(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "open mode serves loopback host names only (127.0.0.1, [::1], localhost)")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && o != "null" {
				u, err := url.Parse(o)
				if err != nil || u.Host != r.Host {
					writeError(w, http.StatusForbidden, "cross-origin request refused")
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// securityHeaders sets the headers every answer carries: no framing, no
// sniffing, scripts and styles from the binary only.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.ctx.Err() != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "shutting down\n")
		return
	}
	if s.src.Ready != nil {
		if err := s.src.Ready(); err != nil {
			s.log.Debug("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n") // the reason, which may name paths, goes to the log
			return
		}
	}
	io.WriteString(w, "ready\n")
}
