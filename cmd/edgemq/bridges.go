package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// bridgeSet runs the bridges section (see liveSet). The gateway id and
// $SYS interval are those it started with (they need a restart).
type bridgeSet = liveSet[config.Bridge, bridge.Config, *bridge.Bridge]

// startBridges starts the configured bridges on srv with their queues in
// db; stop them before the broker shuts down.
func startBridges(srv *broker.Server, db *kv.DB, cfg *config.Config, log *slog.Logger) (*bridgeSet, error) {
	var base config.Config
	base.Gateway.ID, base.Broker.SysInterval = cfg.Gateway.ID, cfg.Broker.SysInterval
	bs := &bridgeSet{
		kind: "bridge", log: log, restart: bridge.ErrNeedsRestart,
		nameOf: func(bc config.Bridge) string { return bc.Name },
		config: func(bc config.Bridge) (bridge.Config, error) { return bridgeConfig(&base, bc, log) },
		open: func(bc config.Bridge, c bridge.Config) (*bridge.Bridge, error) {
			b, err := bridge.New(srv, db, c)
			if err != nil {
				return nil, fmt.Errorf("start bridge %q: %w", bc.Name, err)
			}
			return b, nil
		},
		describe: func(bc config.Bridge) []any { return []any{"address", bc.Address} },
	}
	if err := bs.startAll(cfg.Bridges); err != nil {
		return nil, err
	}
	return bs, nil
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
