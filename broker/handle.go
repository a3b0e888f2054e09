package broker

import (
	"strings"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
)

// pendingAck is a QoS 1/2 publish whose PUBACK/PUBREC waits for durable
// subscribers. Acks leave in arrival order [MQTT-4.6.0-2], [MQTT-4.6.0-3].
type pendingAck struct {
	kind    packet.Type // PUBACK or PUBREC
	pid     uint16
	rc      packet.ReasonCode
	waiting int // confirmations outstanding, guarded by conn.ackMu
	failed  bool
	c       *conn
	// Guarded by c.ackMu: sent once the ack left the queue, and the acks
	// of resent duplicates (QoS 2, on a later connection) that wait for it.
	sent      bool
	followers []*pendingAck
}

// hold implements confirmer.
func (a *pendingAck) hold() {
	a.c.ackMu.Lock()
	a.waiting++
	a.c.ackMu.Unlock()
}

// confirm implements confirmer.
func (a *pendingAck) confirm(err error) { a.c.ackDone(nil, a, err) }

// handlePublish routes a PUBLISH from the client [MQTT-3.3.4].
func (c *conn) handlePublish(p *packet.Publish) error {
	if c.version == packet.Version5 {
		if len(p.Properties.SubscriptionIDs) > 0 {
			return protocolError("subscription identifier in a client's PUBLISH") // [MQTT-3.3.4-6]
		}
		if err := c.resolveAlias(p); err != nil {
			return err
		}
	}
	if err := topic.ValidName(p.Topic); err != nil {
		return &packet.Error{Code: packet.TopicNameInvalid, Reason: err.Error()}
	}
	if a := c.s.authorizer(); a != nil && !a.CanPublish(c.ci, p.Topic) {
		return c.denyPublish(p)
	}
	ss := c.sess
	var a *pendingAck
	if p.QoS > 0 {
		a = &pendingAck{kind: packet.PUBACK, pid: p.PacketID, waiting: 1, c: c}
	}
	if p.QoS == 2 {
		a.kind = packet.PUBREC
		// Counted before taking ss.mu: ackDone takes ss.mu under ackMu.
		pubacks := c.pendingPubacks()
		ss.mu.Lock()
		orig, dup := ss.inbound[p.PacketID]
		if !dup {
			// [MQTT-3.3.4-8]: a QoS 2 publish counts until PUBCOMP (it is in
			// inbound until PUBREL, also while its PUBREC is pending), a
			// QoS 1 publish until its PUBACK.
			if c.version == packet.Version5 && len(ss.inbound)+pubacks >= c.s.opts.ReceiveMaximum {
				ss.mu.Unlock()
				return &packet.Error{Code: packet.ReceiveMaximumExceeded, Reason: "receive maximum exceeded"}
			}
			if ss.inbound == nil {
				ss.inbound = make(map[uint16]*pendingAck)
			}
			ss.inbound[p.PacketID] = a
			// Written before routing, so the PUBREC's commit covers it.
			ss.storeInboundLocked(p.PacketID)
		}
		ss.mu.Unlock()
		if dup {
			// Already routed, not yet released: only acknowledge again
			// [MQTT-4.3.3-10].
			c.ackDuplicate(a, orig)
			return nil
		}
	} else if p.QoS == 1 && c.version == packet.Version5 {
		ss.mu.Lock()
		n := len(ss.inbound)
		ss.mu.Unlock()
		if n+c.pendingPubacks() >= c.s.opts.ReceiveMaximum { // [MQTT-3.3.4-8]
			return &packet.Error{Code: packet.ReceiveMaximumExceeded, Reason: "receive maximum exceeded"}
		}
	}

	c.s.stats.msgReceived(len(p.Payload))
	// Received when the batch holding it was read: one clock read per batch.
	m := newMessage(p, c.clientID, c.lastPacket)
	if strings.HasPrefix(m.Topic, "$SYS/") {
		// $SYS is the broker's own; clients' publishes there are ignored.
		m = nil
	}
	if p.QoS == 0 {
		if m != nil {
			c.s.publish(&c.f, m, nil)
		}
		return nil
	}
	c.ackMu.Lock()
	c.acks.push(a)
	c.ackMu.Unlock()
	matched := true
	if m != nil {
		matched = c.s.publish(&c.f, m, a)
	}
	if !matched && c.version == packet.Version5 {
		a.rc = packet.NoMatchingSubscribers
	}
	c.ackDone(&c.f, a, nil)
	return nil
}

// denyPublish drops a PUBLISH the Authorizer refused. QoS 1/2 are
// acknowledged in order with the other acks: with "not authorized" for a
// v5 client [MQTT-3.4.2-1], as a success for a 3.1.1 client, which has no
// way to be told (as Mosquitto does). A refused QoS 2 exchange ends with
// the PUBREC; a 3.1.1 client's PUBREL then gets its PUBCOMP anyway.
func (c *conn) denyPublish(p *packet.Publish) error {
	c.s.log.Debug("publish not authorized", "client", c.clientID, "topic", p.Topic)
	if p.QoS == 0 {
		return nil
	}
	a := &pendingAck{kind: packet.PUBACK, pid: p.PacketID, waiting: 1, c: c}
	if p.QoS == 2 {
		a.kind = packet.PUBREC
	}
	if c.version == packet.Version5 {
		a.rc = packet.NotAuthorized
	}
	c.ackMu.Lock()
	c.acks.push(a)
	c.ackMu.Unlock()
	c.ackDone(&c.f, a, nil)
	return nil
}

// ackDuplicate queues the PUBREC a of a resent QoS 2 PUBLISH that was
// routed already. If the first PUBREC still waits for durable subscribers
// (the first copy came on an earlier connection, whose PUBREC is lost), a
// waits for it and takes its outcome: PUBREC Success only once the message
// is stored.
func (c *conn) ackDuplicate(a, orig *pendingAck) {
	// orig.c is nil for a state restored after a restart: its PUBREC was
	// sent by the broker that stored it.
	if orig != nil && orig != a && orig.c != nil {
		oc := orig.c
		oc.ackMu.Lock()
		if !orig.sent {
			a.waiting++
			orig.followers = append(orig.followers, a)
		} else {
			a.failed = orig.failed
		}
		oc.ackMu.Unlock()
	}
	c.ackMu.Lock()
	c.acks.push(a)
	c.ackMu.Unlock()
	c.ackDone(&c.f, a, nil)
}

// waitAckSpace holds the read loop of a client older than MQTT 5, which
// has no receive maximum, while ReceiveMaximum of its publishes wait for
// durable subscribers: TCP then slows the publisher down, and the queue
// of pending acknowledgements stays bounded. It gives up when the
// connection closes or the server shuts down.
func (c *conn) waitAckSpace() {
	if c.version >= packet.Version5 {
		return
	}
	c.ackMu.Lock()
	if c.acks.len() < c.s.opts.ReceiveMaximum {
		c.ackMu.Unlock()
		return
	}
	if c.ackSpace == nil {
		c.ackSpace = make(chan struct{})
	}
	ch := c.ackSpace
	c.ackMu.Unlock()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ch:
			return
		case <-c.s.closed:
			return
		case <-t.C:
			c.wmu.Lock()
			closed := c.closed
			c.wmu.Unlock()
			if closed {
				return
			}
		}
	}
}

// pendingPubacks is the number of QoS 1 publishes whose PUBACK waits for
// durable subscribers; QoS 2 ones are counted in session.inbound.
func (c *conn) pendingPubacks() int {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	n := 0
	for _, a := range c.acks.all() {
		if a.kind == packet.PUBACK {
			n++
		}
	}
	return n
}

// ackDone records one confirmation of a (nil: taken, else refused) and
// sends every acknowledgement at the head of the queue that is complete.
// The read loop passes its flusher; a durable subscriber's confirmation,
// from any goroutine, passes nil and the acks are flushed at once.
func (c *conn) ackDone(f *flusher, a *pendingAck, err error) {
	c.ackMu.Lock()
	if err != nil {
		a.failed = true
	}
	a.waiting--
	if a.waiting > 0 || c.acks.front() != a {
		c.ackMu.Unlock()
		return
	}
	var own flusher
	if f == nil {
		f = &own
	}
	type wake struct {
		a   *pendingAck
		err error
	}
	var wakes []wake
	for h := c.acks.front(); h != nil && h.waiting == 0; h = c.acks.front() {
		c.acks.pop()
		if h.failed {
			if c.version < packet.Version5 {
				// A 3.1.1 publisher cannot be told; it is disconnected
				// so that it resends to a broker that takes it. The
				// acks behind it are dropped with the connection.
				c.closeNet()
			}
			h.rc = packet.QuotaExceeded
			if h.kind == packet.PUBREC {
				// The exchange ends here: a resent copy is a new message.
				c.sess.mu.Lock()
				if c.sess.inbound[h.pid] == h {
					c.sess.releaseInboundLocked(h.pid)
				}
				c.sess.mu.Unlock()
			}
		}
		c.writeAck(f, h.kind, h.pid, h.rc)
		h.sent = true
		for _, fa := range h.followers {
			w := wake{a: fa}
			if h.failed {
				w.err = ErrQuotaExceeded
			}
			wakes = append(wakes, w)
		}
		h.followers = nil
	}
	if c.ackSpace != nil && c.acks.len() < c.s.opts.ReceiveMaximum {
		close(c.ackSpace)
		c.ackSpace = nil
	}
	c.ackMu.Unlock()
	c.s.flushLater(&own) // a confirmation from another goroutine (lateflush.go)
	// Outside ackMu: a follower may be on this connection.
	for _, w := range wakes {
		w.a.confirm(w.err)
	}
}

// resolveAlias applies an MQTT 5 topic alias from the client
// [MQTT-3.3.2-10] .. [MQTT-3.3.2-12].
func (c *conn) resolveAlias(p *packet.Publish) error {
	if !p.Properties.Has(packet.PropTopicAlias) {
		if p.Topic == "" {
			return protocolError("empty topic without topic alias")
		}
		return nil
	}
	a := p.Properties.TopicAlias
	if a == 0 || int(a) > c.s.opts.TopicAliasMaximum {
		return &packet.Error{Code: packet.TopicAliasInvalid, Reason: "topic alias out of range"}
	}
	if p.Topic == "" {
		t, ok := c.inAliases[a]
		if !ok {
			return protocolError("unknown topic alias")
		}
		p.Topic = t
		return nil
	}
	if c.inAliases == nil {
		c.inAliases = make(map[uint16]string)
	}
	c.inAliases[a] = p.Topic
	return nil
}

// handleAck handles PUBACK, PUBREC, PUBCOMP for messages we sent and
// PUBREL for messages we received.
func (c *conn) handleAck(p *packet.Ack) error {
	ss := c.sess
	switch p.Kind {
	case packet.PUBREL:
		ss.mu.Lock()
		_, ok := ss.inbound[p.PacketID]
		if ok {
			ss.releaseInboundLocked(p.PacketID)
		}
		ss.mu.Unlock()
		rc := packet.Success
		if !ok {
			rc = packet.PacketIDNotFound // [MQTT-3.6.4-1]: answer anyway
		}
		c.writeAck(&c.f, packet.PUBCOMP, p.PacketID, rc)
	case packet.PUBREC:
		if p.ReasonCode.IsError() {
			// The receiver refused it: the exchange ends [MQTT-4.3.3-4].
			ss.ackFailed(&c.f, c, p.PacketID)
			return nil
		}
		if ss.ack(&c.f, c, packet.PUBREC, p.PacketID) {
			// The stored message is now "released": say so only once that
			// is written, or a restart would send the PUBLISH again.
			pid := p.PacketID // p stays on the caller's stack
			c.afterCommit(&c.f, func(f *flusher) { c.writeAck(f, packet.PUBREL, pid, packet.Success) })
		} else if c.version == packet.Version5 {
			c.writeAck(&c.f, packet.PUBREL, p.PacketID, packet.PacketIDNotFound)
		}
	case packet.PUBACK, packet.PUBCOMP:
		ss.ack(&c.f, c, p.Kind, p.PacketID)
	}
	return nil
}

// handleSubscribe adds subscriptions and answers SUBACK, then sends the
// matching retained messages [MQTT-3.8.4].
func (c *conn) handleSubscribe(p *packet.Subscribe) error {
	var subID uint32
	if len(p.Properties.SubscriptionIDs) > 0 {
		subID = p.Properties.SubscriptionIDs[0]
	}
	codes := make([]packet.ReasonCode, len(p.Subscriptions))
	added := make([]bool, len(p.Subscriptions))
	a := c.s.authorizer()
	for i, so := range p.Subscriptions {
		if a != nil && topic.ValidFilter(so.Filter) == nil && !a.CanSubscribe(c.ci, so.Filter) {
			c.s.log.Debug("subscribe not authorized", "client", c.clientID, "filter", so.Filter)
			codes[i] = packet.NotAuthorized
			if c.version < packet.Version5 {
				codes[i] = packet.V3SubackFailure // [MQTT-3.9.3-2]
			}
			continue
		}
		code, isNew, err := c.s.subscribe(c.sess, so, subID)
		if err != nil {
			return err
		}
		if code.IsError() && c.version < packet.Version5 {
			code = packet.V3SubackFailure // [MQTT-3.9.3-2]: 3.1.1 has only 0x80
		}
		codes[i], added[i] = code, isNew
	}
	// A persistent session's subscriptions are acknowledged once stored
	// (MQTT 3.1.1 section 3.8.4 lets matching messages go out first).
	c.afterCommit(&c.f, func(f *flusher) {
		c.queuePacket(f, &packet.Suback{PacketID: p.PacketID, ReasonCodes: codes})
		for i, so := range p.Subscriptions {
			if !codes[i].IsError() {
				c.s.sendRetained(f, c.sess, so, subID, added[i])
			}
		}
	})
	return nil
}

// afterCommit runs send, which writes an acknowledgement of a change to a
// persistent session, once the Store has that change on disk: at once
// when nothing is pending (or the session is not stored), else from the
// commit's callback.
func (c *conn) afterCommit(f *flusher, send func(f *flusher)) {
	ss := c.sess
	ss.mu.Lock()
	stored := ss.stored
	ss.mu.Unlock()
	if !stored || c.s.commit == nil || !c.s.commit.Uncommitted() {
		send(f)
		return
	}
	c.s.commit.Commit(func(error) {
		// A failed write was logged by the Store; the change holds in
		// memory and the client is answered.
		var own flusher
		send(&own)
		c.s.flushLater(&own)
	})
}

// handleUnsubscribe removes subscriptions and answers UNSUBACK.
func (c *conn) handleUnsubscribe(p *packet.Unsubscribe) error {
	ack := &packet.Unsuback{PacketID: p.PacketID}
	for _, f := range p.Filters {
		code := packet.Success
		if topic.ValidFilter(f) != nil {
			code = packet.TopicFilterInvalid
		} else if !c.s.unsubscribe(c.sess, f) {
			code = packet.NoSubscriptionExisted
		}
		if c.version == packet.Version5 {
			ack.ReasonCodes = append(ack.ReasonCodes, code)
		}
	}
	c.afterCommit(&c.f, func(f *flusher) { c.queuePacket(f, ack) })
	return nil
}

// handleDisconnect ends the connection at the client's request.
func (c *conn) handleDisconnect(p *packet.Disconnect) error {
	ss := c.sess
	if c.version == packet.Version5 && p.Properties.Has(packet.PropSessionExpiry) {
		ss.mu.Lock()
		was := ss.expiry
		if was == 0 && p.Properties.SessionExpiry != 0 {
			ss.mu.Unlock()
			return protocolError("session expiry set on DISCONNECT after zero on CONNECT") // [MQTT-3.14.2-2]
		}
		ss.expiry = p.Properties.SessionExpiry
		ss.mu.Unlock()
	}
	c.graceful = p.ReasonCode != packet.DisconnectWithWill
	c.stop = true
	return nil
}
