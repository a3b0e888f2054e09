package broker

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// ClientInfo identifies a network client to an Authorizer.
type ClientInfo struct {
	ClientID string
	Username string
	// Anonymous is true when the client sent no username.
	Anonymous bool
}

// Authorizer authenticates network clients and decides what they may do.
// Its methods are called from many goroutines at once and must not block
// for long. In-process clients (Server.NewClient) are trusted: they are
// never checked.
type Authorizer interface {
	// Authenticate checks a client's credentials at CONNECT. It is called
	// for anonymous clients too (only on listeners that allow them).
	// Return ErrNotAuthorized to refuse with "not authorized"; any other
	// error refuses with "bad username or password".
	Authenticate(ci ClientInfo, password []byte, hasPassword bool) error
	// CanPublish decides a PUBLISH (and a will) on topic name t.
	CanPublish(ci ClientInfo, t string) bool
	// CanSubscribe decides a SUBSCRIBE to filter (shared filters are
	// passed as sent, "$share/group/filter").
	CanSubscribe(ci ClientInfo, filter string) bool
	// CanRead decides the delivery of a message on topic name t,
	// including retained messages; it is what enforces changed roles on
	// existing subscriptions.
	CanRead(ci ClientInfo, t string) bool
}

// Errors an Authorizer returns from Authenticate.
var (
	ErrBadCredentials = errors.New("broker: bad username or password")
	ErrNotAuthorized  = errors.New("broker: not authorized")
)

// authHolder boxes an Authorizer for atomic.Pointer.
type authHolder struct{ a Authorizer }

// SetAuthorizer replaces the Authorizer (nil: no checks, the behaviour
// without Options.Auth). Connected clients stay connected; the new one
// decides their next publishes, subscriptions and deliveries, so a
// subscription the new roles no longer allow stops receiving. Use it to
// reload users and roles (on SIGHUP, say).
func (s *Server) SetAuthorizer(a Authorizer) {
	if a == nil {
		s.auth.Store(nil)
		return
	}
	s.auth.Store(&authHolder{a})
}

// authorizer returns the current Authorizer or nil.
func (s *Server) authorizer() Authorizer {
	if h := s.auth.Load(); h != nil {
		return h.a
	}
	return nil
}

// Back-off after failed authentication: per client IP, the next CONNECT
// waits authBackoffMin, doubling with every failure up to authBackoffMax.
// Entries expire after authBackoffMax without failure; at most
// authBackoffEntries addresses are tracked (the oldest is dropped).
const (
	authBackoffMin     = time.Second
	authBackoffMax     = 30 * time.Second
	authBackoffEntries = 4096
)

type backoffEntry struct {
	fails int
	last  time.Time // of the last failure
}

type authBackoff struct {
	mu sync.Mutex
	m  map[string]backoffEntry
}

func backoffKey(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func backoffDelay(fails int) time.Duration {
	d := authBackoffMin
	for i := 1; i < fails && d < authBackoffMax; i++ {
		d *= 2
	}
	return min(d, authBackoffMax)
}

// wait returns how long a CONNECT from key must wait.
func (b *authBackoff) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[key]
	if !ok {
		return 0
	}
	until := e.last.Add(backoffDelay(e.fails))
	if now.Sub(e.last) > authBackoffMax+backoffDelay(e.fails) {
		delete(b.m, key)
	}
	return max(until.Sub(now), 0)
}

func (b *authBackoff) fail(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[string]backoffEntry)
	}
	if _, ok := b.m[key]; !ok && len(b.m) >= authBackoffEntries {
		var oldK string
		var oldT time.Time
		for k, e := range b.m {
			if now.Sub(e.last) > authBackoffMax*2 {
				delete(b.m, k)
				continue
			}
			if oldK == "" || e.last.Before(oldT) {
				oldK, oldT = k, e.last
			}
		}
		if len(b.m) >= authBackoffEntries {
			delete(b.m, oldK)
		}
	}
	e := b.m[key]
	e.fails++
	e.last = now
	b.m[key] = e
}

func (b *authBackoff) success(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// authenticate runs the Authorizer for a CONNECT (after any back-off
// owed by the client's address) and returns the refusal code, or 0.
func (c *conn) authenticate(a Authorizer, ci ClientInfo, password []byte, hasPassword bool) (code packet.ReasonCode, reason string) {
	s := c.s
	key := backoffKey(c.nc.RemoteAddr())
	if d := s.backoff.wait(key, time.Now()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.closed:
			t.Stop()
			return packet.ServerUnavailable, "server shutting down"
		}
	}
	err := a.Authenticate(ci, password, hasPassword)
	switch {
	case err == nil:
		s.backoff.success(key)
		return 0, ""
	case errors.Is(err, ErrNotAuthorized):
		s.backoff.fail(key, time.Now())
		return packet.NotAuthorized, "not authorized"
	default:
		s.backoff.fail(key, time.Now())
		return packet.BadUsernameOrPassword, "bad username or password"
	}
}

// canRead reports whether a message on topic t may be delivered to ss:
// always for in-process clients and without an Authorizer.
func (s *Server) canRead(ss *session, t string) bool {
	a := s.authorizer()
	if a == nil || ss.inproc != nil {
		return true
	}
	ci := ss.ci.Load()
	return ci != nil && a.CanRead(*ci, t)
}
