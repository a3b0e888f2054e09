package mqttcli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// maxInPacket bounds the packets accepted from the broker.
const maxInPacket = 256 << 20

// defaultInflight is the window of unacknowledged QoS 1/2 publishes, as
// mosquitto_pub's -M default.
const defaultInflight = 20

// Options say how to reach and log in to a broker. The zero value is not
// usable: Host and Port are required; use Default for mosquitto's defaults.
type Options struct {
	// Host and Port locate the broker; Port 0 means 1883, or 8883 with
	// a CAFile (TLS), as mosquitto does.
	Host string
	Port int
	// Version is the protocol: packet.Version31, Version311 or Version5.
	Version byte
	// ClientID is sent as is; empty means "edgemq-" and random hex.
	ClientID string
	// KeepAlive is in seconds, 5 to 65535 as mosquitto requires.
	KeepAlive int
	// NoCleanSession asks the broker to keep the session (mosquitto -c).
	NoCleanSession bool
	// SessionExpiry is the MQTT 5 Session Expiry Interval; negative means
	// none sent (0 unless NoCleanSession).
	SessionExpiry int64
	// Username and Password are sent when their Has flag is set.
	Username    string
	HasUsername bool
	Password    string
	HasPassword bool
	// TLS files: a CA file turns TLS on.
	CAFile, CertFile, KeyFile string
	// Insecure verifies the certificate chain but not the host name.
	Insecure bool
	// Debug receives mosquitto-style "Client ID sending CONNECT" lines;
	// nil for none.
	Debug io.Writer
}

// Default returns mosquitto's defaults: localhost, MQTT 3.1.1, keep alive
// 60 s, a clean session, no session expiry.
func Default() Options {
	return Options{Host: "localhost", Version: packet.Version311, KeepAlive: 60, SessionExpiry: -1}
}

// Client is one MQTT connection to a broker. Its methods may be called from
// one goroutine at a time, except Close.
type Client struct {
	conn      net.Conn
	br        *bufio.Reader
	version   byte
	id        string
	keepAlive time.Duration
	debug     io.Writer
	dmu       sync.Mutex // serializes debug lines

	wmu       sync.Mutex
	wbuf      []byte
	lastWrite time.Time // under wmu
	lastRead  time.Time // under wmu, set by the reader

	mu       sync.Mutex
	nextID   uint16
	pending  map[uint16]bool // outgoing QoS 1/2 publishes not yet completed
	inQoS2   map[uint16]bool // incoming QoS 2 awaiting PUBREL
	subacks  map[uint16]chan *packet.Suback
	failures []error // v5 publishes the broker refused

	slots     chan struct{} // one token per publish in flight
	msgs      chan *packet.Publish
	quit      chan struct{} // closed by Close
	dead      chan struct{} // closed when the reader stops
	err       error         // why the reader stopped, set before dead is closed
	wg        sync.WaitGroup
	once      sync.Once // guards err and dead
	closeOnce sync.Once
}

// ConnackError is a broker's refusal of the connection.
type ConnackError struct {
	Code    packet.ReasonCode
	Version byte
}

// Error is the text mosquitto prints after "Connection error: ".
func (e *ConnackError) Error() string {
	if e.Version == packet.Version5 {
		return reasonString(e.Code)
	}
	return connackString(e.Code)
}

// DisconnectError is how a connection ends when the broker sent DISCONNECT
// (MQTT 5) with Code.
type DisconnectError struct {
	Code packet.ReasonCode
}

func (e *DisconnectError) Error() string {
	return "the broker disconnected: " + reasonString(e.Code)
}

// Dial connects, sends CONNECT and waits for CONNACK. A refusal is a
// *ConnackError. The client's goroutines (a reader and a keep-alive
// pinger) run until Close.
func Dial(ctx context.Context, o Options) (*Client, error) {
	if o.ClientID == "" {
		var b [8]byte
		rand.Read(b[:])
		o.ClientID = "edgemq-" + hex.EncodeToString(b[:])
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 60
	}
	if o.Version == 0 {
		o.Version = packet.Version311
	}
	if o.Port == 0 {
		o.Port = 1883
		if o.CAFile != "" {
			o.Port = 8883
		}
	}
	c := &Client{
		version: o.Version, id: o.ClientID, debug: o.Debug,
		keepAlive: time.Duration(o.KeepAlive) * time.Second,
		nextID:    1,
		pending:   make(map[uint16]bool), inQoS2: make(map[uint16]bool),
		subacks: make(map[uint16]chan *packet.Suback),
		msgs:    make(chan *packet.Publish, 16),
		quit:    make(chan struct{}), dead: make(chan struct{}),
	}
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	dctx, cancel := context.WithTimeout(ctx, c.keepAlive)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		tconn := tlsClient(conn, tc)
		conn.SetDeadline(time.Now().Add(c.keepAlive))
		if err := tconn.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tconn
	}
	c.conn, c.br = conn, bufio.NewReader(conn)
	// The end of ctx (SIGINT, -W) unblocks the wait for CONNACK.
	stop := context.AfterFunc(dctx, func() { conn.SetDeadline(time.Now()) })
	ack, err := c.connect(&o)
	if !stop() && err == nil {
		err = dctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	window := defaultInflight
	if ack.Properties.Has(packet.PropReceiveMaximum) && ack.Properties.ReceiveMaximum > 0 {
		window = min(window, int(ack.Properties.ReceiveMaximum))
	}
	if ack.Properties.Has(packet.PropServerKeepAlive) && ack.Properties.ServerKeepAlive > 0 {
		c.keepAlive = time.Duration(ack.Properties.ServerKeepAlive) * time.Second
	}
	c.slots = make(chan struct{}, window)
	c.wg.Add(2)
	// Both exit when Close closes quit (the connection is closed then,
	// which ends the reader's blocking read) or the connection fails.
	go func() { defer c.wg.Done(); c.reader() }()
	go func() { defer c.wg.Done(); c.keeper() }()
	return c, nil
}

// connect sends CONNECT and reads CONNACK.
func (c *Client) connect(o *Options) (*packet.Connack, error) {
	p := &packet.Connect{
		ProtocolVersion: o.Version, CleanStart: !o.NoCleanSession,
		KeepAlive: uint16(o.KeepAlive), ClientID: o.ClientID,
		UsernameFlag: o.HasUsername, Username: o.Username,
		PasswordFlag: o.HasPassword, Password: []byte(o.Password),
	}
	if o.Version == packet.Version5 {
		exp := o.SessionExpiry
		if exp < 0 && o.NoCleanSession {
			exp = 0xFFFFFFFF // mosquitto: -c without -x never expires
		}
		if exp > 0 {
			p.Properties.SessionExpiry = uint32(min(exp, 0xFFFFFFFF))
			p.Properties.Set(packet.PropSessionExpiry)
		}
	}
	if err := c.write(p); err != nil {
		return nil, err
	}
	c.conn.SetReadDeadline(time.Now().Add(c.keepAlive))
	pk, err := packet.Read(c.br, maxInPacket, c.version)
	if err != nil {
		return nil, fmt.Errorf("read CONNACK: %w", err)
	}
	ack, ok := pk.(*packet.Connack)
	if !ok {
		return nil, fmt.Errorf("got %s instead of CONNACK", pk.Type())
	}
	c.wmu.Lock()
	c.lastRead = time.Now()
	c.wmu.Unlock()
	c.debugf("received CONNACK (%d)", byte(ack.ReasonCode))
	if ack.ReasonCode != 0 {
		return nil, &ConnackError{Code: ack.ReasonCode, Version: c.version}
	}
	return ack, nil
}

// write encodes and sends p, with a keep-alive based deadline.
func (c *Client) write(p packet.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	c.wbuf, err = packet.Append(c.wbuf[:0], p, c.version)
	if err != nil {
		return fmt.Errorf("encode %s: %w", p.Type(), err)
	}
	if _, sub := p.(*packet.Subscribe); c.debug != nil && !sub {
		c.debugf("%s", sendLine(p)) // Subscribe logs one line per filter
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.keepAlive))
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return fmt.Errorf("write %s: %w", p.Type(), err)
	}
	c.lastWrite = time.Now()
	return nil
}

func (c *Client) debugf(format string, args ...any) {
	if c.debug != nil {
		c.debugLine(fmt.Sprintf("Client %s "+format, append([]any{c.id}, args...)...))
	}
}

// debugLine writes one line to the debug writer; the reader and the
// writers log concurrently.
func (c *Client) debugLine(s string) {
	if c.debug != nil {
		c.dmu.Lock()
		io.WriteString(c.debug, s+"\n")
		c.dmu.Unlock()
	}
}

// sendLine is the debug text for an outgoing packet, as mosquitto logs it.
func sendLine(p packet.Packet) string {
	switch p := p.(type) {
	case *packet.Publish:
		return fmt.Sprintf("sending PUBLISH (d%d, q%d, r%d, m%d, '%s', ... (%d bytes))", b2i(p.Dup), p.QoS, b2i(p.Retain), p.PacketID, p.Topic, len(p.Payload))
	case *packet.Ack:
		switch p.Kind {
		case packet.PUBACK, packet.PUBREC:
			return fmt.Sprintf("sending %s (m%d, rc%d)", p.Kind, p.PacketID, byte(p.ReasonCode))
		}
		return fmt.Sprintf("sending %s (m%d)", p.Kind, p.PacketID)
	}
	return "sending " + p.Type().String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fail records why the connection ended; the first reason wins.
func (c *Client) fail(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.dead)
		c.conn.Close()
	})
}

// reader handles what the broker sends until the connection fails or is
// closed. Each read has a deadline of one and a half keep-alive periods;
// the keeper makes sure something arrives before.
func (c *Client) reader() {
	for {
		c.conn.SetReadDeadline(time.Now().Add(c.keepAlive * 3 / 2))
		p, err := packet.Read(c.br, maxInPacket, c.version)
		if err != nil {
			c.fail(fmt.Errorf("connection lost: %w", err))
			return
		}
		c.wmu.Lock()
		c.lastRead = time.Now()
		c.wmu.Unlock()
		if err := c.handle(p); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *Client) handle(p packet.Packet) error {
	switch p := p.(type) {
	case *packet.Publish:
		c.debugf("received PUBLISH (d%d, q%d, r%d, m%d, '%s', ... (%d bytes))", b2i(p.Dup), p.QoS, b2i(p.Retain), p.PacketID, p.Topic, len(p.Payload))
		deliver := true
		if p.QoS == 2 {
			c.mu.Lock()
			deliver = !c.inQoS2[p.PacketID]
			c.inQoS2[p.PacketID] = true
			c.mu.Unlock()
		}
		if deliver {
			select {
			case c.msgs <- p:
			case <-c.quit:
				return errClosed
			}
		}
		switch p.QoS {
		case 1:
			return c.write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
		case 2:
			return c.write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
		}
	case *packet.Ack:
		switch p.Kind {
		case packet.PUBACK, packet.PUBCOMP:
			c.debugf("received %s (Mid: %d, RC:%d)", p.Kind, p.PacketID, byte(p.ReasonCode))
			c.complete(p.PacketID, p.ReasonCode)
		case packet.PUBREC:
			c.debugf("received PUBREC (Mid: %d)", p.PacketID)
			if p.ReasonCode.IsError() {
				c.complete(p.PacketID, p.ReasonCode)
				return nil
			}
			return c.write(&packet.Ack{Kind: packet.PUBREL, PacketID: p.PacketID})
		case packet.PUBREL:
			c.debugf("received PUBREL (Mid: %d)", p.PacketID)
			c.mu.Lock()
			delete(c.inQoS2, p.PacketID)
			c.mu.Unlock()
			return c.write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
		}
	case *packet.Suback:
		c.debugf("received SUBACK")
		c.mu.Lock()
		ch := c.subacks[p.PacketID]
		delete(c.subacks, p.PacketID)
		c.mu.Unlock()
		if ch != nil {
			ch <- p // buffered
		}
	case *packet.Pingresp:
		c.debugf("received PINGRESP")
	case *packet.Disconnect:
		return &DisconnectError{Code: p.ReasonCode}
	case *packet.Unsuback, *packet.Auth:
	default:
		return fmt.Errorf("unexpected %s from the broker", p.Type())
	}
	return nil
}

// complete ends the flight of an outgoing publish.
func (c *Client) complete(pid uint16, code packet.ReasonCode) {
	c.mu.Lock()
	ok := c.pending[pid]
	delete(c.pending, pid)
	if ok && code.IsError() {
		c.failures = append(c.failures, &publishError{pid: pid, code: code})
	}
	c.mu.Unlock()
	if ok {
		<-c.slots
	}
}

// keeper sends PINGREQ when nothing was written, or nothing read, for half
// the keep alive period, so that the reader's deadline does not pass on an idle
// but healthy connection. It exits when quit or dead is closed.
func (c *Client) keeper() {
	t := time.NewTicker(c.keepAlive / 4)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.dead:
			return
		case <-t.C:
		}
		c.wmu.Lock()
		// The broker wants a packet within its keep alive, the reader
		// one within its deadline: ping when either side is quiet.
		idle := max(time.Since(c.lastWrite), time.Since(c.lastRead))
		c.wmu.Unlock()
		if idle >= c.keepAlive/2 {
			if err := c.write(&packet.Pingreq{}); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

// publishError is an MQTT 5 broker's refusal of one publish.
type publishError struct {
	pid  uint16
	code packet.ReasonCode
}

func (e *publishError) Error() string {
	return fmt.Sprintf("Warning: Publish %d failed: %s.", e.pid, reasonString(e.code))
}

var errClosed = errors.New("mqttcli: client closed")

// Publish sends one message. For QoS 1 and 2 it returns once the message
// is sent and waits only when the in-flight window is full; Wait waits for
// the acknowledgements.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	p := &packet.Publish{Topic: topic, Payload: payload, QoS: qos, Retain: retain}
	if qos > 0 {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.dead:
			return c.err
		}
		c.mu.Lock()
		for c.nextID == 0 || c.pending[c.nextID] {
			c.nextID++
		}
		p.PacketID = c.nextID
		c.nextID++
		c.pending[p.PacketID] = true
		c.mu.Unlock()
	}
	return c.write(p)
}

// Wait blocks until every QoS 1 and 2 publish is acknowledged (PUBACK or
// PUBCOMP). It returns the publishes an MQTT 5 broker refused, joined.
func (c *Client) Wait(ctx context.Context) error {
	n := cap(c.slots)
	for i := range n {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			c.drain(i)
			return ctx.Err()
		case <-c.dead:
			c.drain(i)
			return c.err
		}
	}
	c.drain(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.failures...)
}

func (c *Client) drain(n int) {
	for range n {
		<-c.slots
	}
}

// Subscribe subscribes to filters with qos and waits for SUBACK; it returns
// the granted QoS (or failure) codes.
func (c *Client) Subscribe(ctx context.Context, qos byte, filters ...string) ([]packet.ReasonCode, error) {
	s := &packet.Subscribe{}
	for _, f := range filters {
		s.Subscriptions = append(s.Subscriptions, packet.SubOptions{Filter: f, QoS: qos})
	}
	ch := make(chan *packet.Suback, 1)
	c.mu.Lock()
	s.PacketID = c.nextID
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1
	}
	c.subacks[s.PacketID] = ch
	c.mu.Unlock()
	if c.debug != nil {
		for _, f := range filters {
			c.debugf("sending SUBSCRIBE (Mid: %d, Topic: %s, QoS: %d, Options: 0x%02x)", s.PacketID, f, qos, 0)
		}
	}
	if err := c.write(s); err != nil {
		return nil, err
	}
	select {
	case ack := <-ch:
		return ack.ReasonCodes, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.dead:
		return nil, c.err
	}
}

// Messages delivers the messages the broker sends. It is not closed; use
// Done to learn that the connection ended.
func (c *Client) Messages() <-chan *packet.Publish { return c.msgs }

// Done is closed when the connection has ended; Err says why.
func (c *Client) Done() <-chan struct{} { return c.dead }

// Err is why the connection ended, once Done is closed.
func (c *Client) Err() error {
	select {
	case <-c.dead:
		return c.err
	default:
		return nil
	}
}

// Disconnect sends DISCONNECT (the will is not published) and closes.
func (c *Client) Disconnect() error {
	var err error
	select {
	case <-c.dead:
		err = c.err
	default:
		err = c.write(&packet.Disconnect{})
	}
	c.Close()
	return err
}

// Close closes the connection and waits for the client's goroutines.
func (c *Client) Close() {
	c.closeOnce.Do(func() { close(c.quit) })
	c.fail(errClosed)
	c.wg.Wait()
}
