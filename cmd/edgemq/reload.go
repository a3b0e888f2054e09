package main

import (
	"log/slog"
	"math"
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/logging"
	"github.com/edgemq/edgemq/internal/web"
)

// reloader applies a new configuration file on SIGHUP: the sections that
// can change safely (broker.auth: users, roles and password file; log.level;
// memory_limit) take effect at once without dropping a connection, the
// devices are restarted when their section changed, and the bridges are
// reconfigured in place (new ones started, removed ones stopped); for the
// others it logs that they need a restart and keeps running them as they
// are. A file that does not load is refused whole and the running
// configuration stays.
type reloader struct {
	path  string // the --config file; empty: embedded defaults
	cfg   *config.Config
	log   *slog.Logger
	level *slog.LevelVar
	srv   *broker.Server
	// devices is restarted with the new devices section when it changed.
	devices *deviceSet
	// bridges are reconfigured, started or stopped as the section says.
	bridges *bridgeSet
	// sinks are reconfigured, started or stopped as the section says.
	sinks *sinkSet
	// users are the dashboard's logins, from broker.auth.
	users *webUsers
	// web is the HTTP side, nil when off.
	web *web.Server
	// warnings are problems found at start (an --import refused), shown
	// on the dashboard.
	warnings []string
	// current is cfg for other goroutines (the HTTP side's config page).
	current atomic.Pointer[config.Config]
}

func (r *reloader) reload() {
	if r.path == "" {
		r.log.Info("reload: running on the embedded defaults, nothing to reload")
		return
	}
	cfg, err := config.Load(r.path)
	if err == nil {
		err = cfg.CheckFiles()
	}
	if err != nil {
		r.log.Error("reload refused, the running configuration stays", "err", err)
		return
	}
	az, passwords, err := loadAuth(cfg.Broker.Auth)
	if err != nil {
		r.log.Error("reload refused, the running configuration stays", "err", err)
		return
	}
	lv, err := logging.ParseLevel(cfg.Log.Level)
	if err != nil {
		r.log.Error("reload refused, the running configuration stays", "err", err)
		return
	}
	if r.users != nil {
		r.users.set(cfg.Broker.Auth, passwords)
		if r.web != nil && !reflect.DeepEqual(r.cfg.Broker.Auth, cfg.Broker.Auth) {
			r.web.ResetSessions() // a removed user or role must not stay logged in
		}
	}
	r.srv.SetAuthorizer(az)
	r.level.Set(lv)
	if cfg.MemoryLimit != r.cfg.MemoryLimit {
		limit := int64(cfg.MemoryLimit)
		if limit == 0 {
			limit = math.MaxInt64 // no limit: the runtime's default
		}
		debug.SetMemoryLimit(limit)
	}
	restart := needsRestart(r.cfg, cfg)
	// What runs now: the new reloadable sections, the old others.
	next := *r.cfg
	next.Broker.Auth, next.Log, next.MemoryLimit = cfg.Broker.Auth, cfg.Log, cfg.MemoryLimit
	applied := "broker.auth, log.level, memory_limit"
	if r.devices != nil && !reflect.DeepEqual(devicesOf(r.cfg), devicesOf(cfg)) {
		if err := r.devices.restart(devicesOf(cfg)); err != nil {
			r.log.Error("reload: devices not restarted", "err", err)
		} else {
			next.Devices, next.Hardware, next.Simulation, next.HomeAssistant = cfg.Devices, cfg.Hardware, cfg.Simulation, cfg.HomeAssistant
			applied += ", devices"
		}
	}
	if r.bridges != nil && !reflect.DeepEqual(r.cfg.Bridges, cfg.Bridges) {
		// The gateway section stays as it runs (it needs a restart).
		changed, needRestart := r.bridges.apply(cfg.Bridges)
		if len(changed) > 0 {
			applied += ", bridges " + strings.Join(changed, " ")
		}
		restart = append(restart, needRestart...)
		if len(needRestart) == 0 {
			next.Bridges = cfg.Bridges
		}
	}
	if r.sinks != nil && !reflect.DeepEqual(r.cfg.Sinks, cfg.Sinks) {
		changed, needRestart := r.sinks.apply(cfg.Sinks)
		if len(changed) > 0 {
			applied += ", sinks " + strings.Join(changed, " ")
		}
		restart = append(restart, needRestart...)
		if len(needRestart) == 0 {
			next.Sinks = cfg.Sinks
		}
	}
	r.cfg = &next
	r.current.Store(r.cfg)
	r.log.Info("configuration reloaded", "applied", applied, "needs_restart", restart)
}

// needsRestart names the sections that differ between old and cfg and
// that only a restart applies.
func needsRestart(old, cfg *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name     string
		old, new any
	}{
		{"gateway", old.Gateway, cfg.Gateway},
		{"broker.listeners", old.Broker.Listeners, cfg.Broker.Listeners},
		{"broker.limits", old.Broker.Limits, cfg.Broker.Limits},
		{"broker.sys_interval", old.Broker.SysInterval, cfg.Broker.SysInterval},
		{"storage", old.Storage, cfg.Storage},
		{"http", old.HTTP, cfg.HTTP},
		{"max_procs", old.MaxProcs, cfg.MaxProcs},
	} {
		if !reflect.DeepEqual(s.old, s.new) {
			out = append(out, s.name)
		}
	}
	return out
}
