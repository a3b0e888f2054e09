package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// sinkSet runs the sinks section (webhook sinks; see liveSet). The
// gateway id and $SYS interval are those it started with (they need a
// restart).
type sinkSet = liveSet[config.Sink, webhook.Config, *webhook.Sink]

// startSinks starts the configured sinks on srv with their queues in db;
// stop them before the broker shuts down.
func startSinks(srv *broker.Server, db *kv.DB, sinks []config.Sink, gatewayID string, sysInterval time.Duration, log *slog.Logger) (*sinkSet, error) {
	log = log.With("component", "sinks")
	ss := &sinkSet{
		kind: "sink", log: log, restart: webhook.ErrNeedsRestart,
		nameOf: func(sc config.Sink) string { return sc.Name },
		config: func(sc config.Sink) (webhook.Config, error) { return sinkConfig(sc, gatewayID, sysInterval, log) },
		open: func(sc config.Sink, c webhook.Config) (*webhook.Sink, error) {
			s, err := webhook.New(srv, db, c)
			if err != nil {
				return nil, fmt.Errorf("start sink %q: %w", sc.Name, err)
			}
			return s, nil
		},
		// The url is logged without a password it may hold; headers never.
		describe: func(sc config.Sink) []any { return []any{"url", redactURL(sc.URL)} },
	}
	if err := ss.startAll(sinks); err != nil {
		return nil, err
	}
	return ss, nil
}

// sinkConfig maps one entry of the sinks section.
func sinkConfig(sc config.Sink, gatewayID string, sysInterval time.Duration, log *slog.Logger) (webhook.Config, error) {
	c := webhook.Config{
		Name: sc.Name, URL: sc.URL, Filters: sc.Filters, GatewayID: gatewayID,
		Gzip: sc.Gzip, Timeout: time.Duration(sc.Timeout),
		BatchMessages: sc.Batch.MaxMessages, BatchBytes: int(sc.Batch.MaxBytes), BatchDelay: time.Duration(sc.Batch.MaxDelay),
		MaxRate:  sc.Pace.MessagesPerSecond,
		RetryMin: time.Duration(sc.Retry.Min), RetryMax: time.Duration(sc.Retry.Max),
		Queue:       storefwd.Limits{MaxBytes: int64(sc.Queue.MaxBytes)},
		SysInterval: sysInterval,
		Logger:      log,
	}
	if c.Queue.MaxBytes == 0 {
		c.Queue.MaxBytes = int64(config.DefaultSinkQueueBytes)
	}
	if len(sc.Headers) > 0 {
		c.Headers = make(map[string]string, len(sc.Headers))
		for k, v := range sc.Headers {
			c.Headers[k] = string(v)
		}
	}
	if sc.Queue.WhenFull != "" {
		p, err := storefwd.ParsePolicy(sc.Queue.WhenFull)
		if err != nil {
			return c, fmt.Errorf("sink %q: %w", sc.Name, err)
		}
		c.Queue.WhenFull = p
	}
	if t := sc.TLS; t.CA != "" || t.Cert != "" || t.ServerName != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
		if t.CA != "" {
			pool, err := config.LoadCertPool(t.CA)
			if err != nil {
				return c, fmt.Errorf("sink %q: %w", sc.Name, err)
			}
			tc.RootCAs = pool
		}
		if t.Cert != "" {
			cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
			if err != nil {
				return c, fmt.Errorf("sink %q: client certificate: %w", sc.Name, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		c.TLS = tc
	}
	return c, nil
}

// redactURL hides the password and query values a url may hold, for logs
// and the dashboard.
func redactURL(u string) string { return config.RedactURL(u) }
