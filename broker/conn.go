package broker

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// conn is one network client. Its read loop (serve) runs in one goroutine
// that owns the read side; the write side is shared under wmu.
type conn struct {
	s         *Server
	nc        net.Conn
	rc        syscall.RawConn
	allowAnon bool

	// useIdentity is the listener's UseIdentityAsUsername. certUser is the
	// identity of the client certificate (see certIdentity) when the
	// listener uses it as the username, "" otherwise; set before the read
	// loop starts, for the CONNECT handling to use as the username.
	useIdentity bool
	lc          *listenerConns // the listener's connection count
	certUser    string

	// Set by the handshake; read-only afterwards.
	version     byte
	clientID    string
	ci          ClientInfo // for the Authorizer
	sess        *session
	keepAlive   time.Duration
	maxOut      int    // client's maximum packet size; 0: none
	aliasMaxOut uint16 // topic aliases the client accepts from us
	problemInfo bool   // client accepts reason strings and user properties

	// Read side, owned by serve.
	rbuf       []byte // full capacity; rbuf[:rlen] holds unread input
	rlen       int
	inAliases  map[uint16]string
	f          flusher
	connected  bool
	stop       bool      // serve returns after this batch
	graceful   bool      // DISCONNECT received: no will (unless reason 0x04)
	armed      time.Time // when the read deadline was last set
	lastPacket time.Time // when the last batch of packets was read
	fd         int       // the socket, while parked
	deadline   time.Time // while parked: when the connection times out; zero: never

	// Publishes waiting for durable subscribers, in arrival order.
	ackMu    sync.Mutex
	acks     ackQueue
	ackSpace chan struct{} // closed when acks shrinks below ReceiveMaximum (pre-5 clients)

	// Write side.
	wmu          sync.Mutex
	wbuf         []byte
	writing      bool // a flush or the writer goroutine owns the socket
	flushPending bool // someone will flush wbuf
	closed       bool
	readDone     bool // the read side finished: closing the socket is safe
	final        bool // wbuf ends with a server DISCONNECT, queued while a writer owned the socket: nothing goes after it and the writer closes the connection
	outAliases   map[string]uint16
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, rc: rawConnOf(nc)}
}

// serve runs the handshake, then hands the connection to a fresh
// goroutine for the read loop: the handshake's deep call chain grows the
// stack, and a new goroutine starts small, which is what an idle
// connection keeps.
func (c *conn) serve() {
	c.allowAnon = c.s.allowAnonymous(c.nc.LocalAddr())
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ConnectTimeout))
	if err := c.tlsHandshake(); err != nil {
		c.s.log.Debug("connection refused", "remote", c.nc.RemoteAddr().String(), "err", err)
		c.finish()
		return
	}
	if c.readLoop(true) != readHandshakeDone {
		c.finish()
		return
	}
	// Nothing more read: park at once rather than after parkAfter. A
	// client that connects and then waits (most sensors, every idle
	// connection) never has a read loop goroutine, so a burst of
	// connections does not leave thousands of goroutine structs behind
	// (the runtime keeps them for reuse). One that sends at once is
	// unparked by the poller's first event.
	if c.rlen == 0 && c.s.rx != nil {
		c.idle() // a parked connection holds no buffer
		if c.s.rx.park(c) {
			return
		}
	}
	// Exits when the connection ends or parks.
	if !c.s.goFunc(c.loop) {
		c.finish()
	}
}

// loop runs the read loop until the connection ends (then finish runs) or
// parks: an idle connection is handed to a poller and its goroutine
// exits; the poller starts a new loop when the client sends again.
func (c *conn) loop() {
	if c.readLoop(false) == readParked {
		return
	}
	c.finish()
}

// Outcomes of readLoop.
const (
	readEnded = iota
	readHandshakeDone
	readParked
)

// readLoop reads what the socket has, handles every whole packet, flushes
// the output of the batch, and repeats. It returns readEnded when the
// client disconnects, breaks the protocol, times out, or the server shuts
// down; readParked when the connection was idle for parkAfter and is now
// the poller's; with handshake set, readHandshakeDone once the client is
// connected.
func (c *conn) readLoop(handshake bool) int {
	out := readEnded
	got := func(n int) bool {
		now := time.Now()
		c.lastPacket = now
		if !c.afterRead(n) {
			return false // out stays readEnded
		}
		c.f.waitCongested(congestionWait, c.s.closed)
		c.waitAckSpace()
		if handshake && c.connected {
			out = readHandshakeDone
			return false
		}
		c.armKeepAlive(now, false)
		return true
	}
	// A connection that may park always has a read deadline (see
	// armKeepAlive), which bounds readInto's trust in short reads.
	trustShort := !handshake && c.s.rx != nil
	for {
		err := readInto(c.nc, c.rc, c.readBuf, c.idle, got, trustShort)
		if err == nil {
			return out
		}
		if c.connected && errors.Is(err, os.ErrDeadlineExceeded) && !c.keepAliveExpired(time.Now()) {
			if c.rlen == 0 && c.s.rx != nil && c.s.rx.park(c) {
				return readParked
			}
			c.armKeepAlive(time.Now(), true)
			continue
		}
		c.s.log.Debug("read ended", "client", c.clientID, "remote", c.nc.RemoteAddr().String(), "err", err)
		return readEnded
	}
}

// parkAfter is how long a connection stays silent before its goroutine
// hands it to a poller (where it costs no goroutine and no stack).
const parkAfter = 300 * time.Millisecond

// congestionWait bounds how long a publisher pauses for the congested
// queues of the subscribers its last batch reached.
const congestionWait = time.Second

// afterRead handles the n bytes just read into the read buffer: every
// whole packet, then one flush for the batch. It returns false when the
// connection must end.
func (c *conn) afterRead(n int) bool {
	c.rlen += n
	c.s.stats.bytesIn.Add(uint64(n))
	c.f.busy = c.s.batchRead(c.lastPacket)
	err := c.process()
	c.f.flushBatch(c)
	if err != nil {
		c.fail(err)
		return false
	}
	return !c.stop
}

// armKeepAlive sets the read deadline: one and a half keep alive periods
// after the last packet [MQTT-3.1.2-24], or parkAfter from now when that
// comes first and connections can park. Re-arming costs a timer update, so
// a busy connection re-arms only when 1% of the period has passed since
// the last time: the deadline stays at least 1.49 periods after the last
// packet.
func (c *conn) armKeepAlive(now time.Time, force bool) {
	var dl time.Time
	var slop time.Duration
	if c.keepAlive > 0 {
		dl = c.lastPacket.Add(c.keepAlive * 3 / 2)
		slop = c.keepAlive * 3 / 200
	}
	if c.rc == nil {
		// TLS and WebSocket connections never park, and a read that times
		// out may break a WebSocket: the deadline is exact and final.
		slop = 0
	} else if c.s.rx != nil {
		if p := now.Add(parkAfter); dl.IsZero() || p.Before(dl) {
			// Parking a bit late costs nothing: 10% slop.
			dl, slop = p, parkAfter/10
		}
	}
	if dl.IsZero() {
		if force {
			c.nc.SetReadDeadline(time.Time{})
		}
		return
	}
	if force || slop == 0 || now.Sub(c.armed) >= slop {
		c.armed = now
		c.nc.SetReadDeadline(dl)
	}
}

// keepAliveExpired reports whether 1.5 keep alive periods have passed
// since the last packet.
func (c *conn) keepAliveExpired(now time.Time) bool {
	return c.keepAlive > 0 && now.Sub(c.lastPacket) >= c.keepAlive*3/2
}

// keepAliveDeadline is when a parked connection times out; zero: never.
func (c *conn) keepAliveDeadline() time.Time {
	if c.keepAlive == 0 {
		return time.Time{}
	}
	return c.lastPacket.Add(c.keepAlive * 3 / 2)
}

// readBuf returns the free part of the read buffer, taking one from the
// pool if the connection holds none.
func (c *conn) readBuf() []byte {
	if c.rbuf == nil {
		b := getBuf()
		c.rbuf = b[:cap(b)]
	}
	return c.rbuf[c.rlen:]
}

// idle gives the read buffer back while the socket has nothing to read.
func (c *conn) idle() {
	if c.rlen == 0 && c.rbuf != nil {
		putBuf(c.rbuf)
		c.rbuf = nil
	}
}

// process handles every whole packet in the read buffer and keeps a
// partial one for the next read.
func (c *conn) process() error {
	off := 0
	defer func() {
		if off > 0 {
			c.rlen = copy(c.rbuf, c.rbuf[off:c.rlen])
		}
	}()
	for !c.stop {
		b := c.rbuf[off:c.rlen]
		fh, hl, err := packet.DecodeFixedHeader(b)
		if errors.Is(err, packet.ErrIncomplete) {
			return nil
		}
		if err != nil {
			return err
		}
		total := hl + fh.Remaining
		if total > c.s.opts.MaxPacketSize {
			return &packet.Error{Code: packet.PacketTooLarge, Reason: "packet exceeds maximum packet size"}
		}
		if len(b) < total {
			if cap(c.rbuf)-off < total {
				nb := make([]byte, max(total, 4096))
				c.rlen = copy(nb, b)
				putBuf(c.rbuf)
				c.rbuf, off = nb, 0
			}
			return nil
		}
		if fh.Type == packet.PUBLISH && c.connected {
			// The hot path: decoded on the stack, no Publish allocated.
			var p packet.Publish
			err := packet.DecodePublishInto(fh, b[hl:total], c.version, &p)
			off += total
			if err == nil {
				err = c.handlePublish(&p)
			}
			if err != nil {
				return err
			}
			continue
		}
		if isAck(fh.Type) && c.connected {
			// The other half of the hot path: no Ack allocated either.
			var a packet.Ack
			err := packet.DecodeAckInto(fh, b[hl:total], c.version, &a)
			off += total
			if err == nil {
				err = c.handleAck(&a)
			}
			if err != nil {
				return err
			}
			continue
		}
		pkt, err := packet.Decode(fh, b[hl:total], c.version)
		off += total
		if err != nil {
			return err
		}
		if err := c.handle(pkt); err != nil {
			return err
		}
	}
	return nil
}

// readPlain is readInto for a connection without a raw socket (TLS,
// WebSocket, not Unix): blocking reads into get's buffer, each handed to
// got, until got returns false or a read fails.
func readPlain(nc net.Conn, get func() []byte, got func(n int) bool) error {
	for {
		n, err := nc.Read(get())
		if err != nil {
			return err
		}
		if !got(n) {
			return nil
		}
	}
}

func isAck(t packet.Type) bool {
	return t == packet.PUBACK || t == packet.PUBREC || t == packet.PUBREL || t == packet.PUBCOMP
}

// handle dispatches one decoded packet.
func (c *conn) handle(pkt packet.Packet) error {
	if !c.connected {
		p, ok := pkt.(*packet.Connect)
		if !ok {
			// [MQTT-3.1.0-1]: the first packet must be CONNECT.
			c.stop = true
			return nil
		}
		return c.handleConnect(p)
	}
	switch p := pkt.(type) {
	case *packet.Publish:
		return c.handlePublish(p)
	case *packet.Ack:
		return c.handleAck(p)
	case *packet.Subscribe:
		return c.handleSubscribe(p)
	case *packet.Unsubscribe:
		return c.handleUnsubscribe(p)
	case *packet.Pingreq:
		c.queuePacket(&c.f, &packet.Pingresp{}) // [MQTT-3.12.4-1]
		return nil
	case *packet.Disconnect:
		return c.handleDisconnect(p)
	case *packet.Connect:
		return protocolError("second CONNECT") // [MQTT-3.1.0-2]
	case *packet.Auth:
		return protocolError("AUTH without an authentication method")
	default:
		return protocolError("unexpected " + pkt.Type().String() + " from client")
	}
}

func protocolError(reason string) error {
	return &packet.Error{Code: packet.ProtocolError, Reason: reason}
}

// fail ends the connection after a protocol violation: an MQTT 5 client is
// told the reason code in a DISCONNECT [MQTT-4.13.1-1].
func (c *conn) fail(err error) {
	code := packet.UnspecifiedError
	var pe *packet.Error
	if errors.As(err, &pe) {
		code = pe.Code
	}
	c.s.log.Info("disconnecting client", "client", c.clientID, "remote", c.nc.RemoteAddr().String(), "err", err)
	if !c.connected {
		if code == packet.UnsupportedProtocolVersion && c.version == 0 {
			// [MQTT-3.1.2-2]: CONNACK 0x01 (unacceptable protocol level),
			// in the 3.1.1 form since the client's level is unknown, then
			// close.
			b, _ := packet.Append(nil, &packet.Connack{ReasonCode: packet.V3BadProtocolVersion}, packet.Version311)
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			c.nc.Write(b)
		}
		c.stop = true
		return
	}
	d := &packet.Disconnect{ReasonCode: code}
	if pe != nil && c.problemInfo {
		d.Properties.ReasonString = pe.Reason
		d.Properties.Set(packet.PropReasonString)
	}
	c.sendFinal(d)
}

// sendFinal writes p (v5 only, a server DISCONNECT) as the last packet and
// closes the connection.
func (c *conn) sendFinal(p packet.Packet) {
	c.wmu.Lock()
	if c.version != packet.Version5 {
		c.wmu.Unlock()
	} else {
		if c.writing && !c.closed && !c.final {
			// A flush or the writer goroutine owns the socket: it sends p
			// after what it holds and then closes the connection.
			c.wbuf, _ = packet.Append(c.wbuf, p, c.version)
			c.final = true
			c.wmu.Unlock()
			// Bounded like the direct write below, whatever the writer's
			// deadline: a client that does not read is cut off.
			time.AfterFunc(time.Second, c.closeNet)
			return
		}
		var buf []byte
		if !c.closed && !c.writing {
			buf, _ = packet.Append(c.wbuf, p, c.version)
			c.wbuf = nil
			c.writing = true
		}
		c.wmu.Unlock()
		if buf != nil {
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			c.nc.Write(buf)
			putBuf(buf)
		}
	}
	c.closeNet()
}

// shutdown disconnects the client because the server stops.
func (c *conn) shutdown() {
	c.sendFinal(&packet.Disconnect{ReasonCode: packet.ServerShuttingDown})
}

// closeNet closes the socket once; the read loop then ends.
func (c *conn) closeNet() {
	c.wmu.Lock()
	if c.closed {
		done := c.readDone
		c.wmu.Unlock()
		if done {
			c.nc.Close()
		}
		return
	}
	c.closed = true
	if !c.writing {
		putBuf(c.wbuf)
	}
	c.wbuf = nil
	done := c.readDone
	c.wmu.Unlock()
	// Shut the socket down rather than close it while the read side may
	// still use it: the reader (goroutine or poller) then sees end of file
	// and runs finish, which closes it.
	// A shutdown error (ENOTCONN after a reset) is fine: the reader sees
	// the end all the same. Closing here instead would take the socket out
	// of the poller's epoll set without the poller knowing.
	if done || c.rc == nil {
		c.nc.Close()
		return
	}
	shutdownSocket(c.rc)
}

// finish runs when the read loop ends.
func (c *conn) finish() {
	c.wmu.Lock()
	c.readDone = true
	final := c.final && c.writing // the writer closes after the DISCONNECT
	c.wmu.Unlock()
	if !final {
		c.closeNet()
		c.nc.Close()
	}
	if c.rbuf != nil {
		putBuf(c.rbuf)
		c.rbuf = nil
	}
	c.s.removeConn(c)
	if c.sess != nil {
		c.s.stats.connected.Add(-1)
		c.s.detach(c)
	}
}
