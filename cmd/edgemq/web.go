package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/internal/web"
)

// webUsers checks dashboard logins against the auth section in effect;
// reload replaces it.
type webUsers struct {
	cur atomic.Pointer[userDB]
}

type userDB struct {
	passwords *auth.Passwords
	admins    map[string]bool // nil: every user of the file may log in (no roles)
}

// set takes the passwords loaded from a's password file (nil: none) and
// works out who is an admin.
func (u *webUsers) set(a config.Auth, pw *auth.Passwords) {
	db := &userDB{passwords: pw}
	if len(a.Roles) > 0 {
		db.admins = make(map[string]bool)
		admin := make(map[string]bool)
		for _, r := range a.Roles {
			admin[r.Name] = r.Admin
		}
		for user, roles := range a.Users {
			if slices.ContainsFunc(roles, func(r string) bool { return admin[r] }) {
				db.admins[user] = true
			}
		}
	}
	u.cur.Store(db)
}

// Login implements web.Users.
func (u *webUsers) Login(user, password string) bool {
	db := u.cur.Load()
	if db == nil || db.passwords == nil || !db.passwords.Verify(user, password) {
		return false
	}
	return db.admins == nil || db.admins[user]
}

// readiness is the gateway's answer to /readyz.
type readiness struct {
	mu     sync.Mutex
	err    error
	ready  bool
	stored *kv.DB
}

func (r *readiness) set(ready bool, err error) {
	r.mu.Lock()
	r.ready, r.err = ready, err
	r.mu.Unlock()
}

func (r *readiness) check() error {
	r.mu.Lock()
	ready, err := r.ready, r.err
	r.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !ready:
		return errors.New("starting")
	}
	if _, err := r.stored.DiskUsage(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// newWeb makes the HTTP side if the http section has an address (nil
// when it has none); it tracks topics at once, serves after Start. The
// sets may be filled in later, before Start.
func newWeb(cfg *config.Config, srv *broker.Server, db *kv.DB, users *webUsers, ready *readiness,
	sets *gatewaySets, current func() *config.Config, warnings []string, log *slog.Logger) (*web.Server, error) {
	h := cfg.HTTP
	if h.Address == "" {
		return nil, nil
	}
	var tlsCfg *tls.Config
	if h.Cert != "" {
		cert, err := tls.LoadX509KeyPair(h.Cert, h.Key)
		if err != nil {
			return nil, fmt.Errorf("http.cert: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	log = log.With("component", "http")
	if h.Open && !h.Loopback() {
		log.Warn("http.open applies to loopback addresses only: a login is required on " + h.Address)
	}
	if !h.OpenAccess() && cfg.Broker.Auth.PasswordFile != "" && len(cfg.Broker.Auth.Roles) == 0 {
		log.Warn("no roles: every user of the password file may log in to the dashboard; give the admins a role with admin: true")
	}
	ws, err := web.New(web.Options{
		Address: h.Address, Open: h.OpenAccess(), TLS: tlsCfg, Users: users,
		Version: version, GatewayID: cfg.Gateway.ID, Hardware: cfg.Hardware, DataDir: cfg.Storage.Dir,
		MemoryLimit: int64(cfg.MemoryLimit), Warnings: warnings, Logger: log,
	}, web.Sources{
		Broker:  srv,
		Bridges: func() []web.BridgeInfo { return bridgeInfos(sets.bridges) },
		Sinks:   func() []web.SinkInfo { return sinkInfos(sets.sinks) },
		Devices: func() []web.DeviceInfo { return sets.devices.infos() },
		Config:  func() any { return current().Redacted() },
		DiskUsage: func() (int64, int64, error) {
			used, err := db.DiskUsage()
			if err != nil {
				return 0, 0, err
			}
			var fs syscall.Statfs_t
			if err := syscall.Statfs(db.Dir(), &fs); err != nil {
				return used, 0, err
			}
			return used, int64(fs.Bavail) * int64(fs.Bsize), nil
		},
		Ready: ready.check,
	})
	if err != nil {
		return nil, err
	}
	return ws, nil
}

// gatewaySets are the running bridges, sinks and devices, set once at
// start (before the HTTP side serves).
type gatewaySets struct {
	bridges *bridgeSet
	sinks   *sinkSet
	devices *deviceSet
}

// closeWeb stops the HTTP side, giving requests in progress 5 s.
func closeWeb(ws *web.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Close(ctx); err != nil {
		log.Warn("http server close", "err", err)
	}
}

// bridgeInfos lists the running bridges for the HTTP side.
func bridgeInfos(bs *bridgeSet) []web.BridgeInfo {
	out := []web.BridgeInfo{} // JSON [], not null
	bs.each(func(name string, bc config.Bridge, b *bridge.Bridge) {
		addr := bc.Address
		if e, err := bc.WithPreset(); err == nil && e.Address != "" {
			addr = e.Address
		}
		out = append(out, web.BridgeInfo{Name: name, Address: addr, Stats: b.Stats()})
	})
	return out
}

// sinkInfos lists the running sinks for the HTTP side.
func sinkInfos(ss *sinkSet) []web.SinkInfo {
	out := []web.SinkInfo{}
	ss.each(func(name string, sc config.Sink, s *webhook.Sink) {
		out = append(out, web.SinkInfo{Name: name, URL: redactURL(sc.URL), Stats: s.Stats()})
	})
	return out
}

// infos lists the running devices for the HTTP side.
func (ds *deviceSet) infos() []web.DeviceInfo {
	ds.mu.Lock()
	sup, devs := ds.sup, ds.running
	ds.mu.Unlock()
	if sup == nil {
		return nil
	}
	stats := sup.Stats()
	out := make([]web.DeviceInfo, 0, len(stats))
	for i, st := range stats {
		if i >= len(devs) {
			break
		}
		d := devs[i]
		out = append(out, web.DeviceInfo{ID: d.ID, Type: d.Type, Topic: d.DeviceTopic(ds.gatewayID), Stats: st})
	}
	return out
}
