// Package devicestest has fakes for testing adapters and the supervisor
// without a broker: a Client that records what is published and a
// Publisher that records readings.
package devicestest

import (
	"context"
	"strings"
	"sync"

	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/devices"
)

// Message is one recorded publish.
type Message struct {
	Topic   string
	Payload string
	QoS     byte
	Retain  bool
}

// Client is a devices.Client that records publishes and lets tests send
// messages to its subscriptions. It is safe for concurrent use.
type Client struct {
	mu   sync.Mutex
	msgs []Message
	subs map[string]func(topic string, payload []byte)
	// Err, if set, is returned by Publish.
	Err error
}

var _ devices.Client = (*Client)(nil)

// Publish records the message.
func (c *Client) Publish(_ context.Context, t string, payload []byte, qos byte, retain bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	c.msgs = append(c.msgs, Message{t, string(payload), qos, retain})
	return nil
}

// Subscribe records the handler.
func (c *Client) Subscribe(filter string, _ byte, h func(topic string, payload []byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		c.subs = make(map[string]func(string, []byte))
	}
	c.subs[filter] = h
	return nil
}

// Send delivers a message to the subscriptions whose filter matches t.
func (c *Client) Send(t, payload string) {
	c.mu.Lock()
	var hs []func(string, []byte)
	for f, h := range c.subs {
		if auth.Match(f, t) {
			hs = append(hs, h)
		}
	}
	c.mu.Unlock()
	for _, h := range hs {
		h(t, []byte(payload))
	}
}

// Messages returns the messages published so far, optionally only those
// whose topic has prefix.
func (c *Client) Messages(prefix string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, m := range c.msgs {
		if strings.HasPrefix(m.Topic, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// Last returns the payload last published on t, and whether there was
// one.
func (c *Client) Last(t string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].Topic == t {
			return c.msgs[i].Payload, true
		}
	}
	return "", false
}

// Publisher is a devices.Publisher and devices.GroupStatusPublisher
// that records readings, group statuses and counts.
type Publisher struct {
	mu       sync.Mutex
	readings []devices.Reading
	counts   map[devices.Counter]uint64
	groups   map[string][]bool
	// Cmds is returned by Commands; nil: a channel that never delivers.
	Cmds chan devices.Command
}

var (
	_ devices.Publisher            = (*Publisher)(nil)
	_ devices.GroupStatusPublisher = (*Publisher)(nil)
)

// PublishGroupStatus records the status of group.
func (p *Publisher) PublishGroupStatus(_ context.Context, group string, online bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.groups == nil {
		p.groups = make(map[string][]bool)
	}
	p.groups[group] = append(p.groups[group], online)
	return nil
}

// GroupStatus returns the statuses published for group so far, oldest
// first (true: online).
func (p *Publisher) GroupStatus(group string) []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.groups[group]...)
}

// Publish records r.
func (p *Publisher) Publish(_ context.Context, r devices.Reading) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readings = append(p.readings, r)
	return nil
}

// Count adds n to counter c.
func (p *Publisher) Count(c devices.Counter, n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil {
		p.counts = make(map[devices.Counter]uint64)
	}
	p.counts[c] += n
}

// Commands returns Cmds.
func (p *Publisher) Commands() <-chan devices.Command { return p.Cmds }

// Readings returns the readings published so far.
func (p *Publisher) Readings() []devices.Reading {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]devices.Reading(nil), p.readings...)
}

// Counted returns counter c.
func (p *Publisher) Counted(c devices.Counter) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[c]
}
