package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgemq/edgemq/broker/topic"
)

// ErrServerClosed is returned by Start and Connect after Shutdown began.
var ErrServerClosed = errors.New("broker: server closed")

// Server is an MQTT broker. Create it with New, start its listeners with
// Start (or Serve), stop it with Shutdown.
//
// Lock order (see the package documentation): Server.mu before session.mu,
// conn.ackMu before session.mu, session.mu before conn.wmu.
type Server struct {
	opts Options
	log  *slog.Logger

	subs     *topic.Tree[*session, subscription]
	retained *topic.Retained[*Message]
	stats    stats
	started  time.Time
	uids     atomic.Uint64
	auth     atomic.Pointer[authHolder] // see SetAuthorizer
	backoff  authBackoff
	commit   Committer                      // opts.Store, when it commits in batches; else nil
	late     lateFlush                      // acks confirmed from other goroutines (lateflush.go)
	lastRead atomic.Int64                   // when the last batch was read, in ns since started (see batchRead)
	procsAt  atomic.Int64                   // when batchRead last read GOMAXPROCS into procs, in ns since started
	procs    atomic.Int32                   // GOMAXPROCS as batchRead last read it
	observer atomic.Pointer[func(*Message)] // see SetPublishObserver
	wills    WillStore                      // opts.Store, when it keeps wills; else nil

	mu        sync.Mutex
	sessions  map[string]*session // by client id
	conns     map[*conn]struct{}
	listeners []net.Listener
	https     []*http.Server // of ws and wss listeners
	closing   bool
	restored  []restoredWill // loaded by New, released by Start

	rx     *reactor      // parks idle connections; nil: they keep their goroutine
	closed chan struct{} // closed when Shutdown starts
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns a Server with opts; zero fields take their defaults.
func New(opts Options) (*Server, error) {
	opts.fillDefaults()
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		subs:     topic.NewTree[*session, subscription](),
		retained: topic.NewRetained[*Message](),
		sessions: make(map[string]*session),
		conns:    make(map[*conn]struct{}),
		closed:   make(chan struct{}),
		started:  time.Now(),
	}
	s.procs.Store(int32(runtime.GOMAXPROCS(0)))
	s.SetAuthorizer(opts.Auth)
	s.commit, _ = opts.Store.(Committer)
	err := opts.Store.LoadRetained(func(m *Message) {
		s.retained.Set(m.Topic, m)
	})
	if err != nil {
		return nil, fmt.Errorf("broker: load retained messages: %w", err)
	}
	if err := s.restoreSessions(); err != nil {
		return nil, fmt.Errorf("broker: load sessions: %w", err)
	}
	if s.wills, _ = opts.Store.(WillStore); s.wills != nil {
		err := s.wills.LoadWills(func(id string, w *StoredWill) {
			s.restored = append(s.restored, restoredWill{id, w})
		})
		if err != nil {
			return nil, fmt.Errorf("broker: load wills: %w", err)
		}
	}
	return s, nil
}

// Start binds every listener and starts serving them and the $SYS
// publisher. It returns once the listeners accept connections. The first
// Start releases the wills restored from the Store (see WillStore) before
// the listeners open, after the in-process subscribers made so far.
func (s *Server) Start() error {
	s.releaseWills()
	var lns []net.Listener
	for _, l := range s.opts.Listeners {
		ln, err := l.listen()
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		for _, ln := range lns {
			ln.Close()
		}
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, lns...)
	s.mu.Unlock()
	if !s.opts.GoroutinePerConn && s.rx == nil && len(lns) > 0 {
		rx, err := newReactor(s)
		if err == nil && rx.start(s) {
			s.rx = rx
		} else if err == nil {
			rx.close()
		}
	}
	for i, ln := range lns {
		l := s.opts.Listeners[i]
		anon := isLoopback(ln.Addr())
		if l.AllowAnonymous != nil {
			anon = *l.AllowAnonymous
		}
		s.log.Info("listening", "address", ln.Addr().String(), "type", l.listenerType(), "anonymous", anon)
		lc := &listenerConns{max: l.MaxConnections}
		if t := l.listenerType(); t == ListenerWS || t == ListenerWSS {
			hs := s.newWSServer(l, lc)
			s.mu.Lock()
			s.https = append(s.https, hs)
			s.mu.Unlock()
			// Exits when Shutdown closes the listener and the HTTP server.
			s.goFunc(func() { hs.Serve(ln) })
			continue
		}
		// Exits when the listener is closed by Shutdown.
		s.goFunc(func() { s.acceptLoop(ln, l, lc) })
	}
	if s.opts.SysInterval > 0 {
		// Exits when s.closed is closed.
		s.goFunc(s.sysLoop)
	}
	return nil
}

// Serve starts the server and blocks until ctx is done, then shuts it down
// with a 10 second deadline.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// Addrs returns the bound addresses of the listeners, in the order of
// Options.Listeners.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr()
	}
	return out
}

// goFunc runs f in a goroutine owned by the server; it refuses (false) once
// Shutdown has started, so that no goroutine outlives it.
func (s *Server) goFunc(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// run runs f in the calling goroutine (a timer's) as a tracked goroutine
// of the server, or not at all once Shutdown has started.
func (s *Server) run(f func()) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	f()
}

// Shutdown stops the listeners, disconnects every client (MQTT 5 clients
// with reason 0x8B), stops the in-process clients and waits for every
// goroutine of the server, or for ctx. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		close(s.closed)
		lns := s.listeners
		https := s.https
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		sessions := make([]*session, 0, len(s.sessions))
		for _, ss := range s.sessions {
			sessions = append(sessions, ss)
		}
		s.mu.Unlock()
		for _, ln := range lns {
			ln.Close()
		}
		for _, hs := range https {
			// Upgraded connections are the broker's (closed below); what is
			// left are requests being read, cut off by Close if need be.
			hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			hs.Shutdown(hctx)
			cancel()
			hs.Close()
		}
		for _, c := range conns {
			c.shutdown()
		}
		for _, ss := range sessions {
			ss.stopTimers()
		}
		if s.rx != nil {
			s.rx.wakeAll() // pollers with no connection left exit
		}
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("broker: shutdown: %w", ctx.Err())
	}
}

func (s *Server) acceptLoop(ln net.Listener, l Listener, lc *listenerConns) {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, do not spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.closed:
				return
			}
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		c.useIdentity = l.UseIdentityAsUsername
		c.lc = lc
		s.startConn(c)
	}
}

// startConn registers a new connection and starts its handshake
// goroutine, or closes it when the server or its listener is full or
// shutting down.
func (s *Server) startConn(c *conn) {
	if !s.addConn(c) {
		c.nc.Close()
		return
	}
	// Exits when the connection closes or parks (the read loop ends).
	if !s.goFunc(c.serve) {
		s.removeConn(c)
		c.nc.Close()
	}
}

// addConn registers c; it refuses while shutting down and when the
// connection count is far past the limit (the handshake refuses the rest
// with a CONNACK).
func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(s.conns) >= s.opts.MaxConnections+64 {
		return false
	}
	if lc := c.lc; lc != nil {
		if lc.max > 0 && lc.n >= lc.max {
			s.log.Debug("listener connection limit", "remote", c.nc.RemoteAddr().String(), "max", lc.max)
			return false
		}
		lc.n++
	}
	s.conns[c] = struct{}{}
	return true
}

// listenerConns counts the connections of one listener; guarded by
// Server.mu.
type listenerConns struct {
	n, max int
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	if _, ok := s.conns[c]; ok && c.lc != nil {
		c.lc.n--
	}
	delete(s.conns, c)
	s.mu.Unlock()
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}
