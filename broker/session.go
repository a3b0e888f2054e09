package broker

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// neverExpire is the session expiry interval that means "never" [MQTT-3.1.2-23].
const neverExpire = 0xFFFFFFFF

// subscription is what a session subscribed with, stored in the topic tree.
type subscription struct {
	filter         string // as subscribed, with any $share/group/ prefix
	qos            byte
	noLocal        bool
	rap            bool // retain as published
	retainHandling byte
	id             uint32 // subscription identifier, 0 for none
}

// outMsg is one message on its way to one session.
type outMsg struct {
	m      *Message
	qos    byte
	retain bool
	subIDs []uint32
	pid    uint16
	rel    bool   // QoS 2: PUBREC received, PUBREL sent, waiting for PUBCOMP
	sent   bool   // sent at least once: a resend carries DUP [MQTT-3.3.1-1]
	seq    uint64 // sequence number in the Store; 0: not stored
}

// session is the state of one client identifier, connected or not.
type session struct {
	s   *Server
	id  string
	uid uint64 // unique per session object, orders route results

	mu       sync.Mutex
	conn     *conn   // nil while offline
	inproc   *Client // set for in-process clients instead of conn
	expiry   uint32  // session expiry interval in seconds
	subs     map[string]subscription
	pending  queue[*outMsg] // waiting for a window slot or for the client to return
	inflight []*outMsg
	window   int
	nextPID  uint16
	// inbound QoS 2 packet ids received and not yet released [MQTT-4.3.3-9],
	// with the ack of the publish (see conn.ackDuplicate)
	inbound map[uint16]*pendingAck

	will        *Message
	willDelay   uint32
	willTimer   *time.Timer
	willGen     uint64   // counts arms and cancels of willTimer (see willTimerFired)
	storedWill  *Message // the will of this client id in the WillStore, if any (see syncWillLocked)
	expiryTimer *time.Timer
	ended       bool // removed from the server; no more deliveries

	// The last connection, for Server.Sessions: kept while offline, unset
	// for a session restored from the Store until its client returns.
	cleanStart  bool
	version     byte     // protocol level of the CONNECT; 0 for in-process
	remote      net.Addr // the client's address; nil for in-process
	connectedAt time.Time

	// stored: the session is persistent and kept in Options.Store (see
	// sessionstore.go); nextSeq numbers its stored messages.
	stored  bool
	nextSeq uint64

	// ci is the client of the last network connection, for
	// Authorizer.CanRead; nil for in-process clients.
	ci atomic.Pointer[ClientInfo]

	// Backpressure: while the pending queue of a connected client is over
	// three quarters full, publishers that add QoS 1/2 messages to it pause
	// (bounded) until it drains to half, so that a slow but live subscriber
	// slows its publishers instead of losing acknowledged messages.
	congested chan struct{} // closed when the queue drains; nil when not congested
	stalled   bool          // a publisher waited in vain: no one waits again until it drains
}

func (s *Server) newSession(id string) *session {
	return &session{
		s:    s,
		id:   id,
		uid:  s.uids.Add(1),
		subs: make(map[string]subscription),
	}
}

// stopTimers stops the will and expiry timers.
func (ss *session) stopTimers() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.stopTimersLocked()
}

func (ss *session) stopTimersLocked() {
	ss.willGen++ // a timer that fired already but has not run is void
	if ss.willTimer != nil {
		ss.willTimer.Stop()
		ss.willTimer = nil
	}
	if ss.expiryTimer != nil {
		ss.expiryTimer.Stop()
		ss.expiryTimer = nil
	}
}

// deliver queues or sends om to the session; f collects the connection to
// flush.
//
// om is taken by value so that a QoS 0 message sent at once, the common
// case, costs no allocation; it is copied to the heap only to be kept.
func (ss *session) deliver(f *flusher, om outMsg) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return
	}
	c := ss.conn
	if c == nil {
		if om.qos > 0 { // QoS 0 is not queued for offline clients
			ss.enqueueLocked(om.onHeap())
		}
		return
	}
	if ss.pending.len() == 0 && (om.qos == 0 || len(ss.inflight) < ss.window) {
		if om.qos == 0 {
			if c.writePublish(f, &om) == writeDropped {
				ss.s.stats.dropped.Add(1)
			}
			return
		}
		ss.sendLocked(f, c, om.onHeap())
		return
	}
	ss.enqueueLocked(om.onHeap())
	if om.qos > 0 && !ss.stalled && ss.pending.len() >= ss.s.opts.MaxQueuedMessages*3/4 {
		if ss.congested == nil {
			ss.congested = make(chan struct{})
		}
		f.waitFor(ss, ss.congested)
	}
}

// decongestLocked releases the publishers waiting for the queue.
func (ss *session) decongestLocked() {
	if ss.congested != nil {
		close(ss.congested)
		ss.congested = nil
	}
	ss.stalled = false
}

// markStalled notes that a publisher waited for ch in vain.
func (ss *session) markStalled(ch chan struct{}) {
	ss.mu.Lock()
	if ss.congested == ch {
		ss.stalled = true
	}
	ss.mu.Unlock()
}

// onHeap returns a heap copy of om, for the queues and the window.
func (om outMsg) onHeap() *outMsg { return &om }

// enqueueLocked adds om to the bounded pending queue. When the queue is
// full, QoS 0 goes first: a new QoS 0 message is dropped, and a new QoS 1/2
// message replaces the oldest queued QoS 0 one; with none, it is dropped.
// Every drop is counted.
func (ss *session) enqueueLocked(om *outMsg) {
	if ss.pending.len() < ss.s.opts.MaxQueuedMessages {
		ss.pending.push(om)
		ss.storeMsgLocked(om)
		return
	}
	if om.qos > 0 && ss.pending.removeFirst(isQoS0) {
		ss.pending.push(om)
		ss.storeMsgLocked(om)
	}
	ss.s.stats.dropped.Add(1)
}

// sendLocked writes om to c, taking a window slot for QoS 1 and 2.
func (ss *session) sendLocked(f *flusher, c *conn, om *outMsg) {
	if om.qos > 0 && !om.sent {
		om.pid = ss.allocPIDLocked()
	}
	switch c.writePublish(f, om) {
	case writeOK, writeClosed: // a closed connection's message is resent on resume
		if om.qos > 0 {
			fresh := !om.sent
			om.sent = true
			ss.inflight = append(ss.inflight, om)
			if fresh {
				ss.storeMsgLocked(om)
			}
		}
	case writeDropped:
		ss.s.stats.dropped.Add(1)
		ss.unstoreMsgLocked(om)
	}
}

// allocPIDLocked returns a packet identifier not in flight [MQTT-2.2.1-3].
func (ss *session) allocPIDLocked() uint16 {
	for {
		ss.nextPID++
		if ss.nextPID == 0 {
			ss.nextPID = 1
		}
		if ss.findInflight(ss.nextPID) < 0 {
			return ss.nextPID
		}
	}
}

func (ss *session) findInflight(pid uint16) int {
	for i, om := range ss.inflight {
		if om.pid == pid {
			return i
		}
	}
	return -1
}

// pumpLocked moves pending messages into the window while there is room.
func (ss *session) pumpLocked(f *flusher, c *conn, now time.Time) {
	for ss.pending.len() > 0 {
		om := ss.pending.peek()
		if om.qos > 0 && len(ss.inflight) >= ss.window {
			return
		}
		ss.pending.pop()
		if ss.congested != nil && ss.pending.len() <= ss.s.opts.MaxQueuedMessages/2 {
			ss.decongestLocked()
		}
		if om.m.expired(now) {
			ss.unstoreMsgLocked(om)
			continue // [MQTT-3.3.2-5]
		}
		ss.sendLocked(f, c, om)
	}
}

// ack handles PUBACK (kind PUBACK) and PUBCOMP for outbound messages, and
// PUBREC. It reports whether pid was in flight.
func (ss *session) ack(f *flusher, c *conn, kind packet.Type, pid uint16) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	i := ss.findInflight(pid)
	if i < 0 {
		return false
	}
	om := ss.inflight[i]
	switch kind {
	case packet.PUBACK:
		if om.qos != 1 {
			return false
		}
	case packet.PUBREC:
		if om.qos != 2 {
			return false
		}
		om.rel = true
		ss.storeMsgLocked(om)
		return true
	case packet.PUBCOMP:
		if om.qos != 2 || !om.rel {
			return false
		}
	}
	ss.inflight = append(ss.inflight[:i], ss.inflight[i+1:]...)
	ss.unstoreMsgLocked(om)
	if ss.conn == c {
		ss.pumpLocked(f, c, time.Now())
	}
	return true
}

// resumeLocked resends what was in flight (PUBLISH with DUP, or PUBREL) and
// then the pending queue, after a reconnect [MQTT-4.4.0-1]. PUBLISHes
// beyond the window (the client's Receive Maximum may be smaller now)
// go back to the head of the queue, for when acks free the window
// [MQTT-3.3.4-9]; they keep their packet identifiers and DUP.
func (ss *session) resumeLocked(f *flusher, c *conn) {
	now := time.Now()
	var held []*outMsg
	kept := ss.inflight[:0]
	for _, om := range ss.inflight {
		switch {
		case om.rel:
			c.writeAck(f, packet.PUBREL, om.pid, packet.Success)
		case len(kept) >= ss.window:
			held = append(held, om)
			continue
		case c.writePublish(f, om) == writeDropped:
			// Too large for the new connection: discarded as if
			// delivered [MQTT-3.1.2-25], it frees its slot.
			ss.s.stats.dropped.Add(1)
			ss.unstoreMsgLocked(om)
			continue
		}
		kept = append(kept, om)
	}
	clear(ss.inflight[len(kept):])
	ss.inflight = kept
	if len(held) > 0 {
		ss.pending.items = append(held, ss.pending.items[ss.pending.head:]...)
		ss.pending.head = 0
	}
	ss.pumpLocked(f, c, now)
}

// queue is a FIFO with amortised O(1) push and pop.
type queue[T any] struct {
	items []T
	head  int
}

func (q *queue[T]) len() int { return len(q.items) - q.head }
func (q *queue[T]) peek() T  { return q.items[q.head] }
func (q *queue[T]) push(v T) { q.items = append(q.items, v) }
func (q *queue[T]) reset()   { clear(q.items); q.items, q.head = nil, 0 }

func (q *queue[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 64 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}

// removeFirst removes the oldest item for which drop is true; false if
// there is none.
func (q *queue[T]) removeFirst(drop func(T) bool) bool {
	var zero T
	for i := q.head; i < len(q.items); i++ {
		if drop(q.items[i]) {
			copy(q.items[i:], q.items[i+1:])
			q.items[len(q.items)-1] = zero
			q.items = q.items[:len(q.items)-1]
			return true
		}
	}
	return false
}

func isQoS0(om *outMsg) bool { return om.qos == 0 }

// ackFailed ends the exchange of a QoS 2 message the client refused with
// a PUBREC error code.
func (ss *session) ackFailed(f *flusher, c *conn, pid uint16) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if i := ss.findInflight(pid); i >= 0 && ss.inflight[i].qos == 2 {
		ss.unstoreMsgLocked(ss.inflight[i])
		ss.inflight = append(ss.inflight[:i], ss.inflight[i+1:]...)
		if ss.conn == c {
			ss.pumpLocked(f, c, time.Now())
		}
	}
}
