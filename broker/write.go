package broker

import (
	"runtime"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

type writeResult int

const (
	writeOK      writeResult = iota
	writeDropped             // not written: buffer full or over the client's maximum packet size
	writeClosed              // the connection is closed
)

// bufPool holds small write and read buffers so that idle connections hold
// none. A sync.Pool holds pointers: a slice put as it is would be boxed,
// one allocation per put. The empty boxes go round through boxPool, so
// that neither getBuf nor putBuf allocates once the pools are warm.
var (
	bufPool sync.Pool // *[]byte, holding a buffer
	boxPool sync.Pool // *[]byte, empty
)

const (
	newBufSize   = 4096
	maxPooledBuf = 64 << 10
)

func getBuf() []byte {
	p, _ := bufPool.Get().(*[]byte)
	if p == nil {
		return make([]byte, 0, newBufSize)
	}
	b := *p
	*p = nil
	boxPool.Put(p)
	return b[:0]
}

func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf {
		return
	}
	p, _ := boxPool.Get().(*[]byte)
	if p == nil {
		p = new([]byte)
	}
	*p = b[:0]
	bufPool.Put(p)
}

// appendLocked encodes p into the write buffer; c.wmu is held. It reports
// whether the caller became responsible for flushing c.
func (c *conn) appendLocked(p packet.Packet) (flush bool, err error) {
	if c.wbuf == nil {
		c.wbuf = getBuf()
	}
	c.wbuf, err = packet.Append(c.wbuf, p, c.version)
	if err != nil {
		return false, err
	}
	if c.flushPending {
		return false, nil
	}
	c.flushPending = true
	return true, nil
}

// queuePacket queues p; f flushes it at the end of the caller's batch.
// session.mu may be held.
func (c *conn) queuePacket(f *flusher, p packet.Packet) {
	c.wmu.Lock()
	if c.closed || c.final {
		c.wmu.Unlock()
		return
	}
	if len(c.wbuf) > 4*c.s.opts.MaxQueuedBytes {
		// The client keeps sending but does not read what it is sent
		// (acks, PINGRESPs): cut it off rather than buffer without bound.
		c.wmu.Unlock()
		c.s.log.Info("disconnecting client that does not read", "client", c.clientID, "remote", c.nc.RemoteAddr().String())
		c.closeNet()
		return
	}
	flush, err := c.appendLocked(p)
	c.wmu.Unlock()
	if err != nil {
		// No p.Type() here: a method call through the interface would
		// make every packet queued escape to the heap.
		c.s.log.Warn("encode failed", "client", c.clientID, "err", err)
	}
	if flush {
		f.add(c)
	}
}

// writeAck queues a PUBACK, PUBREC, PUBREL or PUBCOMP.
func (c *conn) writeAck(f *flusher, kind packet.Type, pid uint16, rc packet.ReasonCode) {
	c.queuePacket(f, &packet.Ack{Kind: kind, PacketID: pid, ReasonCode: rc})
}

// flusher collects the connections a goroutine wrote to, so that each is
// flushed once at the end of its batch (one syscall for many packets), and
// the congested sessions it should wait for.
type flusher struct {
	conns []*conn
	waits []congestion
	busy  bool // yield before the flush: the broker is busy or on one P (batchRead)
}

type congestion struct {
	ss *session
	ch chan struct{}
}

// waitFor records that the batch filled ss's queue; session.mu is held.
func (f *flusher) waitFor(ss *session, ch chan struct{}) {
	for _, w := range f.waits {
		if w.ch == ch {
			return
		}
	}
	f.waits = append(f.waits, congestion{ss, ch})
}

// waitCongested pauses the caller (a publisher) until the congested
// sessions drain, for at most maxWait in all. A session that does not
// drain in time is marked stalled, so that no publisher waits for it again
// until it drains: a stalled client costs each publisher one wait at most.
func (f *flusher) waitCongested(maxWait time.Duration, quit <-chan struct{}) {
	if len(f.waits) == 0 {
		return
	}
	t := time.NewTimer(maxWait)
	defer t.Stop()
	expired := false
	for i, w := range f.waits {
		if !expired {
			select {
			case <-w.ch:
			case <-quit:
				expired = true
			case <-t.C:
				expired = true
			}
		}
		if expired {
			select {
			case <-w.ch:
			default:
				w.ss.markStalled(w.ch)
			}
		}
		f.waits[i] = congestion{}
	}
	f.waits = f.waits[:0]
}

func (f *flusher) add(c *conn) { f.conns = append(f.conns, c) }

// flushBatch flushes the output of a batch read from c. When the batch
// has output for other connections and f.busy is set (the broker is busy,
// or runs on one P: see batchRead), the reader first yields: the readers
// that are ready to run then handle their batches, add to the same
// buffers (many publishers, one subscriber) and find a flush pending, so
// that one write carries what would have taken one per batch. A quiet
// broker on several Ps flushes at once: nobody else is about to add to
// the buffers, and a yield would wake an idle P for nothing (in a load
// paced at 2,000 QoS 1 messages/s, a fifth of the broker's thread runs).
func (f *flusher) flushBatch(c *conn) {
	if f.busy {
		for _, o := range f.conns {
			if o != c {
				runtime.Gosched()
				break
			}
		}
	}
	f.flush()
}

// busyGap is how close two batches must be read for the broker to count
// as busy: under a heavy load readers run back to back, microseconds
// apart; a paced load reads a batch every few hundred microseconds.
const busyGap = 20 * time.Microsecond

// procsEvery is how often batchRead looks at GOMAXPROCS again (the
// runtime takes a lock for it; internal/cpugov changes it now and then).
const procsEvery = 100 * time.Millisecond

// batchRead records that a connection read a batch at t, and reports
// whether its reader should yield before the flush: when another batch was
// read less than busyGap before (or at the same time, on another P), or
// when the process runs on one P. There a yield wakes no other thread,
// and the readers that the network poller readied together with this one
// wait in the run queue, to add to the same buffers.
func (s *Server) batchRead(t time.Time) bool {
	now := int64(t.Sub(s.started))
	prev := s.lastRead.Swap(now)
	if now-prev < int64(busyGap) {
		return true
	}
	if at := s.procsAt.Load(); now-at >= int64(procsEvery) && s.procsAt.CompareAndSwap(at, now) {
		s.procs.Store(int32(runtime.GOMAXPROCS(0)))
	}
	return s.procs.Load() <= 1
}

func (f *flusher) flush() {
	for i, c := range f.conns {
		c.flush()
		f.conns[i] = nil
	}
	f.conns = f.conns[:0]
}

// writePublish encodes om for this connection: QoS, retain flag, topic
// alias, subscription identifiers, remaining expiry. session.mu is held.
func (c *conn) writePublish(f *flusher, om *outMsg) writeResult {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed || c.final {
		return writeClosed
	}
	if om.qos == 0 && len(c.wbuf) >= c.s.opts.MaxQueuedBytes {
		return writeDropped // slow consumer: QoS 0 goes first
	}
	m := om.m
	p := packet.Publish{
		Dup:      om.sent && om.qos > 0,
		QoS:      om.qos,
		Retain:   om.retain,
		Topic:    m.Topic,
		PacketID: om.pid,
		Payload:  m.Payload,
	}
	if c.version == packet.Version5 {
		if m.Properties != nil {
			p.Properties = *m.Properties
		}
		if !m.expires.IsZero() {
			p.Properties.MessageExpiry = m.remainingExpiry(time.Now())
			p.Properties.Set(packet.PropMessageExpiry)
		}
		p.Properties.SubscriptionIDs = om.subIDs
		c.outAliasLocked(&p)
	}
	start := len(c.wbuf)
	if c.wbuf == nil {
		c.wbuf = getBuf()
	}
	var err error
	c.wbuf, err = packet.Append(c.wbuf, &p, c.version)
	if err != nil || (c.maxOut > 0 && len(c.wbuf)-start > c.maxOut) {
		// [MQTT-3.1.2-25]: never send more than the client's maximum
		// packet size; the message is discarded as if delivered.
		c.wbuf = c.wbuf[:start]
		if p.Properties.TopicAlias != 0 && p.Topic != "" {
			delete(c.outAliases, m.Topic)
		}
		return writeDropped
	}
	c.s.stats.msgSent(len(c.wbuf) - start)
	if !c.flushPending {
		c.flushPending = true
		f.add(c)
	}
	return writeOK
}

// outAliasLocked assigns a topic alias towards a v5 client that allows
// them [MQTT-3.3.2-8]: the first PUBLISH on a topic carries topic and
// alias, the next ones the alias alone.
func (c *conn) outAliasLocked(p *packet.Publish) {
	if c.aliasMaxOut == 0 {
		return
	}
	if a, ok := c.outAliases[p.Topic]; ok {
		p.Topic = ""
		p.Properties.TopicAlias = a
		p.Properties.Set(packet.PropTopicAlias)
		return
	}
	if len(c.outAliases) >= int(c.aliasMaxOut) {
		return
	}
	if c.outAliases == nil {
		c.outAliases = make(map[string]uint16)
	}
	a := uint16(len(c.outAliases) + 1)
	c.outAliases[p.Topic] = a
	p.Properties.TopicAlias = a
	p.Properties.Set(packet.PropTopicAlias)
}

// flush writes the buffered output. It first tries a non-blocking write
// from the calling goroutine; what the socket does not take at once goes to
// a writer goroutine that lives only while there is output, so an idle
// connection has no writer goroutine and no buffer. After two writes with
// still more output (producers keep adding), a writer goroutine takes over
// rather than keep the caller, perhaps another client's reader, busy.
func (c *conn) flush() {
	for i := 0; ; i++ {
		buf, ok := c.takeOutput()
		if !ok {
			return
		}
		if i == 2 {
			c.startWriter(buf, buf)
			return
		}
		n, err := tryWrite(c.rc, buf)
		if err != nil {
			putBuf(buf)
			c.releaseSocket()
			c.closeNet()
			return
		}
		if n < len(buf) {
			c.startWriter(buf, buf[n:])
			return
		}
		putBuf(buf)
		c.releaseSocket()
	}
}

// takeOutput claims the socket and the buffered output. It returns false
// when there is nothing to write, or another goroutine writes; then, if a
// final DISCONNECT has been written, it closes the connection.
func (c *conn) takeOutput() ([]byte, bool) {
	c.wmu.Lock()
	c.flushPending = false
	if c.writing || c.closed || len(c.wbuf) == 0 {
		final := c.final && !c.writing && !c.closed // written
		c.wmu.Unlock()
		if final {
			c.closeNet()
		}
		return nil, false
	}
	c.writing = true
	buf := c.wbuf
	c.wbuf = nil
	c.wmu.Unlock()
	return buf, true
}

// releaseSocket ends a write begun with takeOutput.
func (c *conn) releaseSocket() {
	c.wmu.Lock()
	c.writing = false
	c.wmu.Unlock()
}

// startWriter hands rest (a tail of buf) to a writer goroutine.
func (c *conn) startWriter(buf, rest []byte) {
	// Exits when the output is written or the connection fails.
	if !c.s.goFunc(func() { c.writeLoop(buf, rest) }) {
		c.closeNet()
	}
}

// writeLoop writes rest (a tail of buf) with blocking writes bounded by
// WriteTimeout, then whatever was queued meanwhile. It exits when the
// buffer is empty or the connection fails.
func (c *conn) writeLoop(buf, rest []byte) {
	for {
		c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
		_, err := c.nc.Write(rest)
		putBuf(buf)
		c.wmu.Lock()
		if err != nil || c.closed || len(c.wbuf) == 0 {
			c.writing = false
			final := c.final && !c.closed // the final DISCONNECT is written
			c.wmu.Unlock()
			if err != nil {
				c.s.log.Debug("write failed", "client", c.clientID, "err", err)
			}
			if err != nil || final {
				c.closeNet()
			}
			return
		}
		buf = c.wbuf
		rest = buf
		c.wbuf = nil
		c.wmu.Unlock()
	}
}
