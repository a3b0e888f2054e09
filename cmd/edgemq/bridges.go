package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// bridgeSet runs the bridges section. On SIGHUP (apply) a changed
// bridge is reconfigured in place, without a gap in its subscriptions; a
// new one is started, a removed one stopped (its queue stays on disk and
// goes out if it comes back).
type bridgeSet struct {
	srv *broker.Server
	db  *kv.DB
	log *slog.Logger

	mu      sync.Mutex
	running map[string]*runningBridge // by name
	order   []string                  // start order, for stopping
}

type runningBridge struct {
	entry config.Bridge
	b     *bridge.Bridge
}

// startBridges starts the configured bridges on srv with their queues in
// db; stop them before the broker shuts down.
func startBridges(srv *broker.Server, db *kv.DB, cfg *config.Config, log *slog.Logger) (*bridgeSet, error) {
	bs := &bridgeSet{srv: srv, db: db, log: log, running: make(map[string]*runningBridge)}
	for _, bc := range cfg.Bridges {
		if err := bs.start(cfg, bc); err != nil {
			bs.stop()
			return nil, err
		}
	}
	return bs, nil
}

func (bs *bridgeSet) start(cfg *config.Config, bc config.Bridge) error {
	c, err := bridgeConfig(cfg, bc, bs.log)
	if err != nil {
		return err
	}
	b, err := bridge.New(bs.srv, bs.db, c)
	if err != nil {
		return fmt.Errorf("start bridge %q: %w", bc.Name, err)
	}
	bs.mu.Lock()
	bs.running[bc.Name] = &runningBridge{entry: bc, b: b}
	bs.order = append(bs.order, bc.Name)
	bs.mu.Unlock()
	bs.log.Info("bridge started", "bridge", bc.Name, "address", bc.Address)
	return nil
}

// stop closes every bridge. It may be called more than once.
func (bs *bridgeSet) stop() {
	bs.mu.Lock()
	names := bs.order
	bs.order = nil
	bs.mu.Unlock()
	for _, name := range names {
		bs.close(name)
	}
}

func (bs *bridgeSet) close(name string) {
	bs.mu.Lock()
	rb := bs.running[name]
	delete(bs.running, name)
	bs.order = slices.DeleteFunc(bs.order, func(n string) bool { return n == name })
	bs.mu.Unlock()
	if rb == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rb.b.Close(ctx); err != nil {
		bs.log.Error("close bridge", "bridge", name, "err", err)
	}
}

// apply brings the running bridges to cfg.Bridges (SIGHUP). It returns
// what it changed, and the bridges that only a restart can change (their
// queue limits or window), which keep running as they were.
func (bs *bridgeSet) apply(cfg *config.Config) (changed, needRestart []string) {
	want := make(map[string]bool)
	for _, bc := range cfg.Bridges {
		want[bc.Name] = true
		bs.mu.Lock()
		rb := bs.running[bc.Name]
		bs.mu.Unlock()
		switch {
		case rb == nil:
			if err := bs.start(cfg, bc); err != nil {
				bs.log.Error("reload: bridge not started", "bridge", bc.Name, "err", err)
				continue
			}
			changed = append(changed, bc.Name)
		case !reflect.DeepEqual(rb.entry, bc):
			c, err := bridgeConfig(cfg, bc, bs.log)
			if err == nil {
				err = rb.b.Reconfigure(c)
			}
			if errors.Is(err, bridge.ErrNeedsRestart) {
				needRestart = append(needRestart, "bridges."+bc.Name)
				continue
			}
			if err != nil {
				bs.log.Error("reload: bridge not reconfigured", "bridge", bc.Name, "err", err)
				continue
			}
			bs.mu.Lock()
			rb.entry = bc
			bs.mu.Unlock()
			changed = append(changed, bc.Name)
		}
	}
	bs.mu.Lock()
	var gone []string
	for name := range bs.running {
		if !want[name] {
			gone = append(gone, name)
		}
	}
	bs.mu.Unlock()
	for _, name := range gone {
		bs.close(name)
		bs.log.Info("bridge stopped: removed from the configuration", "bridge", name)
		changed = append(changed, name)
	}
	return changed, needRestart
}

// bridgeConfig maps one entry of the bridges section, its preset's
// defaults filled in.
func bridgeConfig(cfg *config.Config, bc config.Bridge, log *slog.Logger) (bridge.Config, error) {
	bc, err := bc.WithPreset()
	if err != nil {
		return bridge.Config{}, err
	}
	c := bridge.Config{
		Name: bc.Name, Address: bc.Address, ClientID: bc.ClientID,
		Username: bc.Username, Password: string(bc.Password), KeepAlive: time.Duration(bc.KeepAlive),
		GatewayID:    cfg.Gateway.ID,
		SysInterval:  time.Duration(cfg.Broker.SysInterval),
		ReconnectMin: time.Duration(bc.Reconnect.Min), ReconnectMax: time.Duration(bc.Reconnect.Max),
		Queue:      storefwd.Limits{MaxBytes: int64(bc.Queue.MaxBytes)},
		CleanStart: bc.CleanStart, SequenceProperty: bc.SequenceProperty,
		Window: bc.Window, AckTimeout: time.Duration(bc.AckTimeout),
		MaxRate: bc.Pace.MessagesPerSecond, MaxByteRate: int(bc.Pace.BytesPerSecond),
		Limits: bridge.Limits{MaxPayload: int(bc.Limits.MaxPayload), MaxTopicBytes: bc.Limits.MaxTopicBytes,
			MaxTopicLevels: bc.Limits.MaxTopicLevels},
		Logger: log,
	}
	if bc.Preset == config.PresetAzure {
		// IoT Hub takes only its own topics: no status will and birth.
		c.NoStatus = true
		if bc.Password == "" { // else a token made elsewhere, used as is
			d, err := config.ParseAzureConnectionString(string(bc.Azure.ConnectionString))
			if err != nil {
				return c, fmt.Errorf("bridge %q: azure.connection_string: %w", bc.Name, err)
			}
			c.Credentials = bridge.SASCredentials(bc.Username, d.ResourceURI(), d.Key, time.Duration(bc.Azure.TokenLifetime))
		}
	}
	if e := bc.SessionExpiry; e != nil {
		c.SessionExpiry = time.Duration(*e)
		if c.SessionExpiry == 0 {
			c.SessionExpiry = -1 // bridge.Config: negative is 0
		}
	}
	if c.Queue.MaxBytes == 0 {
		c.Queue.MaxBytes = int64(config.DefaultBridgeQueueBytes)
	}
	if strings.HasPrefix(bc.Address, "tls://") {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: bc.TLS.ServerName, NextProtos: bc.TLS.ALPN}
		if bc.TLS.CA != "" {
			pool, err := config.LoadCertPool(bc.TLS.CA)
			if err != nil {
				return c, fmt.Errorf("bridge %q: %w", bc.Name, err)
			}
			tc.RootCAs = pool
		}
		if bc.TLS.Cert != "" {
			cert, err := tls.LoadX509KeyPair(bc.TLS.Cert, bc.TLS.Key)
			if err != nil {
				return c, fmt.Errorf("bridge %q: client certificate: %w", bc.Name, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		c.TLS = tc
	}
	if bc.Protocol == "5" {
		c.Protocol = packet.Version5
	}
	if bc.Queue.WhenFull != "" {
		p, err := storefwd.ParsePolicy(bc.Queue.WhenFull)
		if err != nil {
			return c, fmt.Errorf("bridge %q: %w", bc.Name, err)
		}
		c.Queue.WhenFull = p
	}
	for _, r := range bc.Out {
		c.Out = append(c.Out, bridge.Rule{Local: r.Local, Remote: r.Remote, QoS: byte(r.QoS), Retain: r.Retain,
			TopicProperty: r.TopicProperty})
	}
	for _, r := range bc.In {
		c.In = append(c.In, bridge.Rule{Local: r.Local, Remote: r.Remote, QoS: byte(r.QoS)})
	}
	return c, nil
}
