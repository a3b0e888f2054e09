package main

import (
	"context"
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

// startBridges starts the configured bridges on srv (started) with their
// queues in db. stop closes them; call it before the broker shuts down.
func startBridges(srv *broker.Server, db *kv.DB, cfg *config.Config, log *slog.Logger) (stop func(), err error) {
	var running []*bridge.Bridge
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, b := range running {
			if err := b.Close(ctx); err != nil {
				log.Error("close bridge", "err", err)
			}
		}
	}
	for _, bc := range cfg.Bridges {
		c, err := bridgeConfig(cfg, bc, log)
		if err != nil {
			stop()
			return nil, err
		}
		b, err := bridge.New(srv, db, c)
		if err != nil {
			stop()
			return nil, fmt.Errorf("start bridge %q: %w", bc.Name, err)
		}
		running = append(running, b)
		log.Info("bridge started", "bridge", bc.Name, "address", bc.Address)
	}
	return stop, nil
}

// bridgeConfig maps one entry of the bridges section.
func bridgeConfig(cfg *config.Config, bc config.Bridge, log *slog.Logger) (bridge.Config, error) {
	c := bridge.Config{
		Name: bc.Name, Address: bc.Address, ClientID: bc.ClientID,
		Username: bc.Username, Password: bc.Password, KeepAlive: time.Duration(bc.KeepAlive),
		GatewayID:    cfg.Gateway.ID,
		SysInterval:  time.Duration(cfg.Broker.SysInterval),
		ReconnectMin: time.Duration(bc.Reconnect.Min), ReconnectMax: time.Duration(bc.Reconnect.Max),
		Queue:      storefwd.Limits{MaxBytes: int64(bc.Queue.MaxBytes)},
		CleanStart: bc.CleanStart, SequenceProperty: bc.SequenceProperty,
		Window: bc.Window, AckTimeout: time.Duration(bc.AckTimeout),
		MaxRate: bc.Pace.MessagesPerSecond, MaxByteRate: int(bc.Pace.BytesPerSecond),
		Logger: log,
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
		c.Out = append(c.Out, bridge.Rule{Local: r.Local, Remote: r.Remote, QoS: byte(r.QoS), Retain: r.Retain})
	}
	for _, r := range bc.In {
		c.In = append(c.In, bridge.Rule{Local: r.Local, Remote: r.Remote, QoS: byte(r.QoS)})
	}
	return c, nil
}
