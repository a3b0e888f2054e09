package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
)

// Errors of the in-process client.
var (
	// ErrQuotaExceeded: a durable subscriber refused the message (its
	// queue is full); network v5 publishers get reason code 0x97.
	ErrQuotaExceeded = errors.New("broker: quota exceeded")
	// ErrClientClosed: the client was closed, or the server shut down.
	ErrClientClosed = errors.New("broker: client closed")
	// ErrClientIDInUse: another in-process client holds the identifier.
	ErrClientIDInUse = errors.New("broker: client identifier in use")
)

// Handler receives the messages of a subscription, one at a time, on the
// client's delivery goroutine.
type Handler func(m *Message)

// DurableHandler receives every QoS 1/2 message of a durable subscription
// synchronously, on the publisher's goroutine: it must not block. It calls
// done exactly once, from any goroutine, when the message is safely stored
// (nil) or refused (an error, typically wrapping ErrQuotaExceeded). The
// publisher's PUBACK/PUBREC waits for done. For QoS 0 and retained
// messages done is a no-op.
type DurableHandler func(m *Message, done func(error))

type handlerEntry struct {
	h       Handler
	durable DurableHandler
}

type delivery struct {
	m   *Message
	qos byte
	h   Handler
}

// Client is an in-process MQTT client: it publishes and subscribes with the
// semantics of a network client (topic validation, QoS, retained messages,
// no-local), without TCP or encoding. Deliveries to Handlers go through a
// bounded queue (MaxQueuedMessages; QoS 0 dropped first, counted) served
// by one goroutine per client, so a slow handler never blocks publishers.
type Client struct {
	s    *Server
	sess *session

	mu       sync.Mutex
	handlers map[string]handlerEntry
	q        queue[delivery]
	closed   bool
	wake     chan struct{} // capacity 1: new deliveries
	quit     chan struct{} // closed by Close
}

// NewClient connects an in-process client with the given identifier (empty:
// one is assigned). A network client cannot take its identifier over.
func (s *Server) NewClient(id string) (*Client, error) {
	if id == "" {
		id = newClientID()
	}
	c := &Client{s: s, handlers: make(map[string]handlerEntry),
		wake: make(chan struct{}, 1), quit: make(chan struct{})}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, ErrServerClosed
	}
	if old := s.sessions[id]; old != nil {
		old.mu.Lock()
		inproc := old.inproc != nil
		old.mu.Unlock()
		if inproc {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: %q", ErrClientIDInUse, id)
		}
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %q is a network client's", ErrClientIDInUse, id)
	}
	ss := s.newSession(id)
	ss.inproc = c
	ss.cleanStart = true
	ss.connectedAt = time.Now()
	c.sess = ss
	s.sessions[id] = ss
	s.mu.Unlock()
	// Exits on Close or when the server shuts down.
	if !s.goFunc(c.loop) {
		return nil, ErrServerClosed
	}
	return c, nil
}

// ID returns the client identifier.
func (c *Client) ID() string { return c.sess.id }

// Publish publishes payload on topic. For QoS 1 and 2 it returns once
// every durable subscriber has stored the message, ErrQuotaExceeded if one
// refused it, or ctx's error.
func (c *Client) Publish(ctx context.Context, topicName string, payload []byte, qos byte, retain bool) error {
	return c.PublishMessage(ctx, &Message{Topic: topicName, Payload: payload, QoS: qos, Retain: retain})
}

// PublishMessage publishes m (Topic, Payload, QoS, Retain, Properties);
// the broker owns m afterwards.
func (c *Client) PublishMessage(ctx context.Context, m *Message) error {
	if err := topic.ValidName(m.Topic); err != nil {
		return fmt.Errorf("broker: publish: %w", err)
	}
	if !utf8.ValidString(m.Topic) {
		// The decoder checks this for network clients [MQTT-1.5.4-1];
		// subscribers would be sent a malformed packet.
		return fmt.Errorf("broker: publish: %w: not UTF-8", topic.ErrInvalidName)
	}
	if m.QoS > 2 {
		return fmt.Errorf("broker: publish: invalid QoS %d", m.QoS)
	}
	if c.isClosed() {
		return ErrClientClosed
	}
	now := time.Now()
	m.ClientID, m.Created = c.sess.id, now
	if m.Properties != nil {
		if err := validPassThrough(m.Properties); err != nil {
			return fmt.Errorf("broker: publish: %w", err)
		}
		if m.Properties.Has(packet.PropMessageExpiry) {
			m.expires = now.Add(time.Duration(m.Properties.MessageExpiry) * time.Second)
		}
		m.Properties = passThrough(m.Properties)
	}
	c.s.stats.msgReceived(len(m.Payload))
	var f flusher
	if m.QoS == 0 {
		c.s.publish(&f, m, nil)
		f.flush()
		return nil
	}
	w := &waiter{n: 1, done: make(chan struct{})}
	c.s.publish(&f, m, w)
	f.flush()
	f.waitCongested(congestionWait, ctx.Done())
	w.confirm(nil)
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrInvalidProperty: an in-process message carries a property that a
// network client could not have sent (the decoder refuses those).
var ErrInvalidProperty = errors.New("broker: invalid property")

// validPassThrough checks the forwarded properties as the decoder does for
// network clients, so that subscribers are never sent a malformed packet:
// UTF-8 strings without U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2], a response
// topic without wildcards [MQTT-3.3.2-14], a payload format of 0 or 1.
func validPassThrough(p *packet.Properties) error {
	str := func(name, v string) error {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidProperty, name)
		}
		return nil
	}
	if p.Has(packet.PropPayloadFormat) && p.PayloadFormat > 1 {
		return fmt.Errorf("%w: payload format %d", ErrInvalidProperty, p.PayloadFormat)
	}
	if err := str("content type", p.ContentType); err != nil {
		return err
	}
	if p.Has(packet.PropResponseTopic) {
		if err := str("response topic", p.ResponseTopic); err != nil {
			return err
		}
		if err := topic.ValidName(p.ResponseTopic); err != nil {
			return fmt.Errorf("%w: response topic: %w", ErrInvalidProperty, err)
		}
	}
	for _, u := range p.User {
		if err := str("user property", u.Key); err != nil {
			return err
		}
		if err := str("user property", u.Value); err != nil {
			return err
		}
	}
	return nil
}

// waiter is the confirmer of an in-process publish.
type waiter struct {
	mu   sync.Mutex
	n    int
	err  error
	done chan struct{}
}

func (w *waiter) hold() {
	w.mu.Lock()
	w.n++
	w.mu.Unlock()
}

func (w *waiter) confirm(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("%w: %w", ErrQuotaExceeded, err)
		if errors.Is(err, ErrQuotaExceeded) {
			w.err = err
		}
	}
	w.n--
	if w.n == 0 {
		close(w.done)
	}
}

// Subscribe subscribes to filter at qos; h receives the messages, including
// the retained ones that match.
func (c *Client) Subscribe(filter string, qos byte, h Handler) error {
	return c.subscribe(filter, qos, handlerEntry{h: h})
}

// SubscribeDurable subscribes to filter at qos with a durable handler: the
// publishers of matching QoS 1/2 messages are acknowledged only after h
// confirmed them (see DurableHandler). Messages keep the retain flag
// they were published with (MQTT 5 "retain as published"), as a bridge
// needs.
func (c *Client) SubscribeDurable(filter string, qos byte, h DurableHandler) error {
	return c.subscribe(filter, qos, handlerEntry{durable: h})
}

func (c *Client) subscribe(filter string, qos byte, he handlerEntry) error {
	if qos > 2 {
		return fmt.Errorf("broker: subscribe: invalid QoS %d", qos)
	}
	if err := topic.ValidFilter(filter); err != nil {
		return fmt.Errorf("broker: subscribe: %w", err)
	}
	if !utf8.ValidString(filter) { // [MQTT-1.5.4-1]
		return fmt.Errorf("broker: subscribe: %w: not UTF-8", topic.ErrInvalidFilter)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClientClosed
	}
	c.handlers[filter] = he
	c.mu.Unlock()
	so := packet.SubOptions{Filter: filter, QoS: qos, RetainAsPublished: he.durable != nil}
	code, isNew, err := c.s.subscribe(c.sess, so, 0)
	if err != nil {
		return fmt.Errorf("broker: subscribe: %w", err)
	}
	if code.IsError() {
		return fmt.Errorf("broker: subscribe %q: refused (0x%02x)", filter, byte(code))
	}
	var f flusher
	c.s.sendRetained(&f, c.sess, so, 0, isNew)
	return nil
}

// Unsubscribe removes the subscription on filter.
func (c *Client) Unsubscribe(filter string) error {
	if !c.s.unsubscribe(c.sess, filter) {
		return fmt.Errorf("broker: unsubscribe %q: no such subscription", filter)
	}
	c.mu.Lock()
	delete(c.handlers, filter)
	c.mu.Unlock()
	return nil
}

// Close unsubscribes everything and stops the delivery goroutine. Queued
// deliveries are dropped. It is safe to call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.quit)
	c.q.reset()
	c.mu.Unlock()
	s := c.s
	s.mu.Lock()
	c.sess.mu.Lock()
	s.endSessionLocked(c.sess)
	c.sess.mu.Unlock()
	s.mu.Unlock()
	return nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// route hands m to the handler of sub: durable ones synchronously, others
// through the queue. session.mu is not held.
func (c *Client) route(m *Message, sub subscription, durable confirmer) {
	c.mu.Lock()
	he, ok := c.handlers[sub.filter]
	if !ok || c.closed {
		c.mu.Unlock()
		return
	}
	qos := min(m.QoS, sub.qos)
	if qos != m.QoS {
		// The handler sees the delivered QoS, as a network subscriber
		// would [MQTT-3.8.4-6]; m is shared, so copy it.
		mc := *m
		mc.QoS = qos
		m = &mc
	}
	if he.durable != nil {
		c.mu.Unlock()
		done := func(error) {}
		if durable != nil && qos > 0 {
			durable.hold()
			done = durable.confirm
		}
		he.durable(m, done)
		return
	}
	c.enqueueLocked(delivery{m: m, qos: qos, h: he.h})
	c.mu.Unlock()
}

func (c *Client) enqueueLocked(d delivery) {
	if c.q.len() >= c.s.opts.MaxQueuedMessages {
		if d.qos == 0 || !c.q.removeFirst(func(d delivery) bool { return d.qos == 0 }) {
			c.s.stats.dropped.Add(1)
			return
		}
		c.s.stats.dropped.Add(1)
	}
	c.q.push(d)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// loop calls the handlers; it exits on Close or server shutdown.
func (c *Client) loop() {
	for {
		select {
		case <-c.quit:
			return
		case <-c.s.closed:
			c.Close()
			return
		case <-c.wake:
		}
		for {
			c.mu.Lock()
			if c.closed || c.q.len() == 0 {
				c.mu.Unlock()
				break
			}
			d := c.q.pop()
			c.mu.Unlock()
			d.h(d.m)
		}
	}
}
