package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const (
	sessionCookie = "edgemq_session"
	// sessionIdle ends a session unused for this long; sessionMax ends
	// any session this long after login.
	sessionIdle = 2 * time.Hour
	sessionMax  = 24 * time.Hour
	// maxSessions bounds the sessions kept; the least recently used goes
	// first.
	maxSessions = 64
	// Failed logins from one address are slowed down: after
	// loginFree failures, each attempt waits loginPenalty more (at most
	// loginMaxWait); maxLoginAddrs bounds the addresses remembered.
	loginFree     = 3
	loginPenalty  = 500 * time.Millisecond
	loginMaxWait  = 10 * time.Second
	loginForget   = 15 * time.Minute
	maxLoginAddrs = 1024
	// One password is verified at a time (PBKDF2 is costly on purpose);
	// at most loginQueue attempts wait for their turn, the others get 429.
	loginQueue = 16
)

type webSession struct {
	user     string
	csrf     string
	created  time.Time
	lastUsed time.Time
}

// sessionStore holds the logged-in sessions, by cookie token. In open
// mode every request has the one open session.
type sessionStore struct {
	mu   sync.Mutex
	byID map[string]*webSession
	open *webSession
}

func newSessionStore(open bool) *sessionStore {
	st := &sessionStore{byID: make(map[string]*webSession)}
	if open {
		st.open = &webSession{csrf: token()}
	}
	return st
}

// token returns 32 random bytes, base64url.
func token() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) create(user string) (id string, ws *webSession) {
	now := time.Now()
	ws = &webSession{user: user, csrf: token(), created: now, lastUsed: now}
	id = token()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) >= maxSessions {
		var oldest string
		for k, v := range st.byID {
			if oldest == "" || v.lastUsed.Before(st.byID[oldest].lastUsed) {
				oldest = k
			}
		}
		delete(st.byID, oldest)
	}
	st.byID[id] = ws
	return id, ws
}

func (st *sessionStore) get(id string) *webSession {
	st.mu.Lock()
	defer st.mu.Unlock()
	ws := st.byID[id]
	if ws == nil {
		return nil
	}
	now := time.Now()
	if now.Sub(ws.lastUsed) > sessionIdle || now.Sub(ws.created) > sessionMax {
		delete(st.byID, id)
		return nil
	}
	ws.lastUsed = now
	return ws
}

func (st *sessionStore) reset() {
	st.mu.Lock()
	clear(st.byID)
	st.mu.Unlock()
}

// valid reports whether session id still exists (without touching it).
func (st *sessionStore) valid(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.byID[id]
	return ok
}

func (st *sessionStore) remove(id string) {
	st.mu.Lock()
	delete(st.byID, id)
	st.mu.Unlock()
}

// loginLimiter slows down repeated failed logins from one address.
type loginLimiter struct {
	mu      sync.Mutex
	fails   map[string]*loginFails
	slot    chan struct{} // capacity 1: the verification in progress
	waiting atomic.Int32
}

type loginFails struct {
	n    int
	last time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: make(map[string]*loginFails), slot: make(chan struct{}, 1)}
}

// verify runs check in the one verification slot, after the address's
// penalty; ok is false if the request gave up or too many wait.
func (l *loginLimiter) verify(ctx context.Context, addr string, check func() bool) (passed, ok bool) {
	if l.waiting.Add(1) > loginQueue {
		l.waiting.Add(-1)
		return false, false
	}
	defer l.waiting.Add(-1)
	if d := l.wait(addr); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, false
		}
	}
	select {
	case l.slot <- struct{}{}:
	case <-ctx.Done():
		return false, false
	}
	defer func() { <-l.slot }()
	if check() {
		l.succeeded(addr)
		return true, true
	}
	l.failed(addr)
	return false, true
}

// wait returns how long a login attempt from addr must wait.
func (l *loginLimiter) wait(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[addr]
	if f == nil || time.Since(f.last) > loginForget || f.n < loginFree {
		return 0
	}
	return min(time.Duration(f.n-loginFree+1)*loginPenalty, loginMaxWait)
}

func (l *loginLimiter) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxLoginAddrs && l.fails[addr] == nil {
		var oldest string
		for k, v := range l.fails {
			if time.Since(v.last) > loginForget {
				delete(l.fails, k)
			} else if oldest == "" || v.last.Before(l.fails[oldest].last) {
				oldest = k
			}
		}
		if len(l.fails) >= maxLoginAddrs {
			delete(l.fails, oldest)
		}
	}
	f := l.fails[addr]
	if f == nil {
		f = &loginFails{}
		l.fails[addr] = f
	}
	f.n++
	f.last = time.Now()
}

func (l *loginLimiter) succeeded(addr string) {
	l.mu.Lock()
	delete(l.fails, addr)
	l.mu.Unlock()
}

type ctxKey struct{}

// sessionOf returns the request's session (set by auth).
func sessionOf(r *http.Request) *webSession {
	ws, _ := r.Context().Value(ctxKey{}).(*webSession)
	return ws
}

// auth lets a request through with a valid session (or in open mode);
// else 401.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws := s.sessions.open
		if ws == nil {
			if c, err := r.Cookie(sessionCookie); err == nil {
				ws = s.sessions.get(c.Value)
			}
		}
		if ws == nil && r.URL.Path == "/metrics" {
			// Prometheus scrapes with HTTP Basic auth, not a session.
			if user, pass, ok := r.BasicAuth(); ok && s.opts.Users != nil {
				passed, _ := s.logins.verify(r.Context(), clientAddr(r), func() bool { return s.opts.Users.Login(user, pass) })
				if passed {
					ws = &webSession{user: user}
				}
			}
			if ws == nil {
				w.Header().Set("WWW-Authenticate", `Basic realm="edgemq metrics"`)
			}
		}
		if ws == nil {
			writeError(w, http.StatusUnauthorized, "login required")
			return
		}
		h(w, r.WithContext(contextWith(r, ws)))
	}
}

// csrf refuses a state-changing request without the session's token in
// X-CSRF-Token.
func (s *Server) csrf(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws := sessionOf(r)
		got := r.Header.Get("X-CSRF-Token")
		if ws == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ws.csrf)) != 1 {
			writeError(w, http.StatusForbidden, "missing or wrong X-CSRF-Token")
			return
		}
		h(w, r)
	}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type sessionJSON struct {
	User string `json:"user"`
	CSRF string `json:"csrf"`
	Open bool   `json:"open"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !jsonBody(r) {
		writeError(w, http.StatusUnsupportedMediaType, "want Content-Type: application/json")
		return
	}
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"username\": ..., \"password\": ...}")
		return
	}
	if s.sessions.open != nil {
		writeJSON(w, http.StatusOK, sessionJSON{CSRF: s.sessions.open.csrf, Open: true})
		return
	}
	addr := clientAddr(r)
	passed, ok := s.logins.verify(r.Context(), addr, func() bool {
		return s.opts.Users != nil && req.Username != "" && s.opts.Users.Login(req.Username, req.Password)
	})
	if !ok {
		writeError(w, http.StatusTooManyRequests, "too many login attempts; try again later")
		return
	}
	if !passed {
		s.log.Warn("dashboard login failed", "user", req.Username, "from", addr)
		writeError(w, http.StatusUnauthorized, "wrong username or password, or not an admin")
		return
	}
	id, ws := s.sessions.create(req.Username)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.opts.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMax / time.Second),
	})
	s.log.Info("dashboard login", "user", req.Username, "from", addr)
	writeJSON(w, http.StatusOK, sessionJSON{User: ws.user, CSRF: ws.csrf})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.opts.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	ws := sessionOf(r)
	writeJSON(w, http.StatusOK, sessionJSON{User: ws.user, CSRF: ws.csrf, Open: s.sessions.open != nil})
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func jsonBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}
