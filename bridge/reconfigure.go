package bridge

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/edgemq/edgemq/broker"
)

// ErrNeedsRestart: Reconfigure cannot apply the change to a running
// bridge (its queue's limits, its window, its name); close it and start
// it again.
var ErrNeedsRestart = errors.New("bridge: change needs a restart")

// errReconfigured ends a session that Reconfigure replaced.
var errReconfigured = errors.New("bridge: reconfigured")

// subscribeOut makes the durable local subscription of an out rule; for a
// filter already subscribed it replaces the rule in place.
func (b *Bridge) subscribeOut(r Rule) error {
	return b.local.SubscribeDurable(r.Local, 2, func(m *broker.Message, done func(error)) { b.onLocal(r, m, done) })
}

// Reconfigure applies cfg to the running bridge without a gap in what it
// holds: the out rules' new local subscriptions are made before the
// removed ones are dropped (a matching QoS 1/2 publish is acknowledged
// only once queued, throughout), and the uplink session is ended in
// order and opened again with the new connection settings, in rules and
// delivery options; what the queue holds goes out on the new session.
// Records already queued keep the remote topic they were queued with.
// Changes to the queue limits, the window, the name or the $SYS interval
// return ErrNeedsRestart and change nothing.
func (b *Bridge) Reconfigure(cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	// Only the fields that never change after New are read here: run
	// may be writing the others.
	name := b.cfg.Name
	if cfg.Name != name || cfg.Queue != b.cfg.Queue || cfg.Window != b.cfg.Window ||
		cfg.SysInterval != b.cfg.SysInterval || cfg.GatewayID != b.cfg.GatewayID {
		return fmt.Errorf("%w: bridge %q: name, gateway id, queue limits, window or $SYS interval changed", ErrNeedsRestart, name)
	}
	b.reconf.Lock()
	defer b.reconf.Unlock()
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return fmt.Errorf("bridge %q: %w", name, ErrClosed)
	}
	// Out rules: add and replace first, then drop.
	keep := make(map[string]bool)
	for _, r := range cfg.Out {
		keep[r.Local] = true
		if !containsRule(b.out, r) {
			if err := b.subscribeOut(r); err != nil {
				return fmt.Errorf("bridge %q: %w", name, err)
			}
		}
	}
	for _, r := range b.out {
		if !keep[r.Local] {
			if err := b.local.Unsubscribe(r.Local); err != nil {
				b.log.Warn("reconfigure: unsubscribe", "filter", r.Local, "err", err)
			}
		}
	}
	b.out = cfg.Out
	b.mu.Lock()
	b.next = &cfg
	end := b.endSession
	b.mu.Unlock()
	if end != nil {
		end()
	}
	select { // a run waiting out its back-off connects now
	case b.reconfigured <- struct{}{}:
	default:
	}
	b.log.Info("bridge reconfigured", "address", cfg.Address)
	return nil
}

func containsRule(rs []Rule, r Rule) bool {
	for _, x := range rs {
		if reflect.DeepEqual(x, r) {
			return true
		}
	}
	return false
}

// applyPending installs the settings Reconfigure left for the next
// session, if any. It runs in run, between sessions: no session
// goroutine reads the configuration then, and the fields the other
// goroutines read (Name, Queue, Window, SysInterval, GatewayID, Logger)
// are not written.
func (b *Bridge) applyPending() bool {
	b.mu.Lock()
	n := b.next
	b.next = nil
	b.mu.Unlock()
	if n == nil {
		return false
	}
	c := &b.cfg
	c.Address, c.TLS, c.Protocol, c.ClientID = n.Address, n.TLS, n.Protocol, n.ClientID
	c.Username, c.Password, c.KeepAlive = n.Username, n.Password, n.KeepAlive
	c.Credentials, c.Limits, c.NoStatus = n.Credentials, n.Limits, n.NoStatus
	c.CleanStart, c.SessionExpiry = n.CleanStart, n.SessionExpiry
	c.MaxRate, c.MaxByteRate, c.SequenceProperty = n.MaxRate, n.MaxByteRate, n.SequenceProperty
	c.In = n.In
	c.ReconnectMin, c.ReconnectMax = n.ReconnectMin, n.ReconnectMax
	c.AckTimeout, c.DialTimeout = n.AckTimeout, n.DialTimeout
	return true
}
