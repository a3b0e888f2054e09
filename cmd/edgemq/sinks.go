package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// sinkSet runs the sinks section (webhook sinks), the way bridgeSet runs
// the bridges: on SIGHUP (apply) a changed sink is reconfigured in
// place, without a gap in its subscriptions; a new one is started, a
// removed one stopped (its queue stays on disk and goes out if it comes
// back). The gateway id and $SYS interval are those it started with
// (they need a restart).
type sinkSet struct {
	srv         *broker.Server
	db          *kv.DB
	log         *slog.Logger
	gatewayID   string
	sysInterval time.Duration

	mu      sync.Mutex
	running map[string]*runningSink // by name
	order   []string                // start order, for stopping
}

type runningSink struct {
	entry config.Sink
	s     *webhook.Sink
}

// startSinks starts the configured sinks on srv with their queues in db;
// stop them before the broker shuts down.
func startSinks(srv *broker.Server, db *kv.DB, sinks []config.Sink, gatewayID string, sysInterval time.Duration, log *slog.Logger) (*sinkSet, error) {
	ss := &sinkSet{srv: srv, db: db, log: log.With("component", "sinks"), gatewayID: gatewayID, sysInterval: sysInterval,
		running: make(map[string]*runningSink)}
	for _, sc := range sinks {
		if err := ss.start(sc); err != nil {
			ss.stop()
			return nil, err
		}
	}
	return ss, nil
}

func (ss *sinkSet) start(sc config.Sink) error {
	c, err := sinkConfig(sc, ss.gatewayID, ss.sysInterval, ss.log)
	if err != nil {
		return err
	}
	s, err := webhook.New(ss.srv, ss.db, c)
	if err != nil {
		return fmt.Errorf("start sink %q: %w", sc.Name, err)
	}
	ss.mu.Lock()
	ss.running[sc.Name] = &runningSink{entry: sc, s: s}
	ss.order = append(ss.order, sc.Name)
	ss.mu.Unlock()
	// The url is logged without a password it may hold; headers never.
	ss.log.Info("sink started", "sink", sc.Name, "url", redactURL(sc.URL))
	return nil
}

// stop closes every sink. It may be called more than once.
func (ss *sinkSet) stop() {
	ss.mu.Lock()
	names := ss.order
	ss.order = nil
	ss.mu.Unlock()
	for _, name := range names {
		ss.close(name)
	}
}

func (ss *sinkSet) close(name string) {
	ss.mu.Lock()
	rs := ss.running[name]
	delete(ss.running, name)
	ss.order = slices.DeleteFunc(ss.order, func(n string) bool { return n == name })
	ss.mu.Unlock()
	if rs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rs.s.Close(ctx); err != nil {
		ss.log.Error("close sink", "sink", name, "err", err)
	}
}

// apply brings the running sinks to sinks (SIGHUP). It returns what it
// changed, and the sinks that only a restart can change (their queue
// limits or batch.max_messages), which keep running as they were.
func (ss *sinkSet) apply(sinks []config.Sink) (changed, needRestart []string) {
	want := make(map[string]bool)
	for _, sc := range sinks {
		want[sc.Name] = true
		ss.mu.Lock()
		rs := ss.running[sc.Name]
		ss.mu.Unlock()
		switch {
		case rs == nil:
			if err := ss.start(sc); err != nil {
				ss.log.Error("reload: sink not started", "sink", sc.Name, "err", err)
				continue
			}
			changed = append(changed, sc.Name)
		case !reflect.DeepEqual(rs.entry, sc):
			c, err := sinkConfig(sc, ss.gatewayID, ss.sysInterval, ss.log)
			if err == nil {
				err = rs.s.Reconfigure(c)
			}
			if errors.Is(err, webhook.ErrNeedsRestart) {
				needRestart = append(needRestart, "sinks."+sc.Name)
				continue
			}
			if err != nil {
				ss.log.Error("reload: sink not reconfigured", "sink", sc.Name, "err", err)
				continue
			}
			ss.mu.Lock()
			rs.entry = sc
			ss.mu.Unlock()
			changed = append(changed, sc.Name)
		}
	}
	ss.mu.Lock()
	var gone []string
	for name := range ss.running {
		if !want[name] {
			gone = append(gone, name)
		}
	}
	ss.mu.Unlock()
	for _, name := range gone {
		ss.close(name)
		ss.log.Info("sink stopped: removed from the configuration", "sink", name)
		changed = append(changed, name)
	}
	return changed, needRestart
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
