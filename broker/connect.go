package broker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
)

// allowAnonymous tells whether the listener at local accepts clients
// without credentials.
func (s *Server) allowAnonymous(local net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ln := range s.listeners {
		if ln.Addr().String() == local.String() || sameTCPPort(ln.Addr(), local) {
			if a := s.opts.Listeners[i].AllowAnonymous; a != nil {
				return *a
			}
			return isLoopback(ln.Addr())
		}
	}
	return isLoopback(local)
}

// sameTCPPort matches a wildcard listener address to a connection's local
// address.
func sameTCPPort(ln, local net.Addr) bool {
	la, ok1 := ln.(*net.TCPAddr)
	ca, ok2 := local.(*net.TCPAddr)
	return ok1 && ok2 && la.Port == ca.Port && la.IP.IsUnspecified()
}

// refuse answers CONNECT with a failure code and ends the connection. v5
// codes are mapped to 3.1.1 return codes for older clients.
func (c *conn) refuse(code packet.ReasonCode, reason string) error {
	ack := &packet.Connack{ReasonCode: code}
	if c.version < packet.Version5 {
		ack.ReasonCode = v3ConnackCode(code)
	} else if reason != "" {
		ack.Properties.ReasonString = reason
		ack.Properties.Set(packet.PropReasonString)
	}
	c.queuePacket(&c.f, ack)
	c.stop = true
	c.s.log.Info("connection refused", "client", c.clientID, "remote", c.nc.RemoteAddr().String(), "code", code, "reason", reason)
	return nil
}

func v3ConnackCode(code packet.ReasonCode) packet.ReasonCode {
	switch code {
	case packet.UnsupportedProtocolVersion:
		return packet.V3BadProtocolVersion
	case packet.ClientIDNotValid:
		return packet.V3IdentifierRejected
	case packet.BadUsernameOrPassword:
		return packet.V3BadUsernamePassword
	case packet.NotAuthorized:
		return packet.V3NotAuthorized
	default:
		return packet.V3ServerUnavailable
	}
}

// handleConnect validates CONNECT, attaches the session and answers with
// CONNACK.
func (c *conn) handleConnect(p *packet.Connect) error {
	o := &c.s.opts
	// Under wmu: a server shutdown reads it (sendFinal) from another
	// goroutine, possibly while the connection is parked, with no other
	// lock in common.
	c.wmu.Lock()
	c.version = p.ProtocolVersion
	c.wmu.Unlock()
	c.clientID = p.ClientID
	c.problemInfo = true
	if c.version == packet.Version5 {
		if p.Properties.Has(packet.PropAuthMethod) {
			return c.refuse(packet.BadAuthMethod, "enhanced authentication is not supported")
		}
		if p.Properties.Has(packet.PropRequestProblemInfo) {
			c.problemInfo = p.Properties.RequestProblemInfo == 1
		}
	}
	assigned := false
	if p.ClientID == "" {
		// [MQTT-3.1.3-7], [MQTT-3.1.3-8]: an empty id needs a clean
		// session before 5.0; 3.1 requires an id.
		if c.version == packet.Version31 || (c.version == packet.Version311 && !p.CleanStart) {
			return c.refuse(packet.ClientIDNotValid, "empty client identifier")
		}
		c.clientID = newClientID()
		assigned = true
	}
	c.ci = ClientInfo{ClientID: c.clientID, Username: p.Username, Anonymous: !p.UsernameFlag}
	if c.useIdentity {
		// use_identity_as_username: the verified client certificate is
		// the credential, as in Mosquitto; a password is not checked.
		if c.certUser == "" {
			return c.refuse(packet.NotAuthorized, "no identity in the client certificate")
		}
		c.ci.Username, c.ci.Anonymous = c.certUser, false
	}
	if a := c.s.authorizer(); a != nil {
		if c.ci.Anonymous && !c.allowAnon {
			return c.refuse(packet.NotAuthorized, "anonymous access is not allowed on this listener")
		}
		if !c.useIdentity {
			if code, reason := c.authenticate(a, c.ci, p.Password, p.PasswordFlag); code != 0 {
				return c.refuse(code, reason)
			}
		}
		if p.WillFlag && !a.CanPublish(c.ci, p.WillTopic) {
			return c.refuse(packet.NotAuthorized, "will topic not authorized")
		}
	} else if !c.allowAnon && !c.useIdentity {
		if p.UsernameFlag {
			return c.refuse(packet.BadUsernameOrPassword, "no password file configured")
		}
		return c.refuse(packet.NotAuthorized, "anonymous access is not allowed on this listener")
	}
	if int(c.s.stats.connected.Load()) >= o.MaxConnections {
		return c.refuse(packet.QuotaExceeded, "too many connections")
	}

	ka := time.Duration(p.KeepAlive) * time.Second
	serverKA := false
	if o.MaxKeepAlive > 0 && (ka == 0 || ka > o.MaxKeepAlive) {
		if c.version < packet.Version5 {
			// Like Mosquitto: a 3.1.1 client cannot be told a shorter
			// keep alive, so it is refused.
			return c.refuse(packet.ClientIDNotValid, "keep alive exceeds the maximum")
		}
		ka, serverKA = o.MaxKeepAlive, true // [MQTT-3.2.2-21]
	}
	c.keepAlive = ka

	window := o.MaxInflight
	var expiry uint32
	if c.version == packet.Version5 {
		if p.Properties.Has(packet.PropReceiveMaximum) {
			window = min(window, int(p.Properties.ReceiveMaximum))
		}
		if p.Properties.Has(packet.PropMaximumPacketSize) {
			c.maxOut = int(p.Properties.MaximumPacketSize)
		}
		c.aliasMaxOut = p.Properties.TopicAliasMaximum
		expiry = p.Properties.SessionExpiry
	} else if !p.CleanStart {
		expiry = neverExpire
	}

	var will *Message
	var willDelay uint32
	if p.WillFlag {
		if err := topic.ValidName(p.WillTopic); err != nil {
			return c.refuse(packet.TopicNameInvalid, "invalid will topic")
		}
		will = newMessage(&packet.Publish{
			QoS: p.WillQoS, Retain: p.WillRetain, Topic: p.WillTopic,
			Payload: p.WillPayload, Properties: p.WillProperties,
		}, c.clientID, time.Now())
		willDelay = p.WillProperties.WillDelay
	}

	ack := &packet.Connack{}
	if c.version == packet.Version5 {
		pr := &ack.Properties
		if assigned {
			pr.AssignedClientID = c.clientID
			pr.Set(packet.PropAssignedClientID)
		}
		if o.ReceiveMaximum < 65535 {
			pr.ReceiveMaximum = uint16(o.ReceiveMaximum)
			pr.Set(packet.PropReceiveMaximum)
		}
		pr.MaximumPacketSize = uint32(o.MaxPacketSize)
		pr.Set(packet.PropMaximumPacketSize)
		pr.TopicAliasMaximum = uint16(o.TopicAliasMaximum)
		pr.Set(packet.PropTopicAliasMaximum)
		if serverKA {
			pr.ServerKeepAlive = uint16(ka / time.Second)
			pr.Set(packet.PropServerKeepAlive)
		}
	}
	if err := c.s.attach(c, p.CleanStart, expiry, window, will, willDelay, ack); err != nil {
		if errors.Is(err, ErrClientIDInUse) {
			return c.refuse(packet.ClientIDNotValid, "client identifier in use by the gateway")
		}
		return c.refuse(packet.ServerUnavailable, "server shutting down")
	}
	c.connected = true
	c.lastPacket = time.Now()
	c.armKeepAlive(c.lastPacket, true) // replaces the CONNECT deadline
	c.s.stats.connected.Add(1)
	c.s.stats.connectedTotal.Add(1)
	c.s.stats.noteMaxConnected()
	c.s.log.Debug("client connected", "client", c.clientID, "remote", c.nc.RemoteAddr().String(), "version", c.version)
	return nil
}

func newClientID() string {
	var b [12]byte
	rand.Read(b[:])
	return "auto-" + hex.EncodeToString(b[:])
}

// attach binds c to the session of its client id: a new one, or the
// existing one unless cleanStart. An existing connection of the same client
// is taken over [MQTT-3.1.4-3]. The CONNACK is queued under the session
// lock, so that no delivery can overtake it, followed by what the session
// had in flight and queued.
func (s *Server) attach(c *conn, cleanStart bool, expiry uint32, window int,
	will *Message, willDelay uint32, ack *packet.Connack) error {
	var old *conn
	var oldWill, storedWill *Message
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	ss := s.sessions[c.clientID]
	present := false
	if ss != nil && ss.inproc != nil {
		s.mu.Unlock()
		return ErrClientIDInUse
	}
	if ss != nil {
		ss.mu.Lock()
		old = ss.conn
		ss.conn = nil
		// A will still waiting (delay) or the will of the connection being
		// taken over: sent if the session ends now or it had no delay
		// [MQTT-3.1.3-9], otherwise cancelled.
		if ss.will != nil && (cleanStart || ss.willDelay == 0) {
			oldWill = ss.will
		}
		ss.will = nil
		ss.stopTimersLocked()
		if cleanStart {
			storedWill = ss.storedWill // the new session replaces or deletes it
			s.endSessionLocked(ss)
			ss.mu.Unlock()
			ss = nil
		} else {
			present = true
			ss.mu.Unlock()
		}
	}
	if ss == nil {
		ss = s.newSession(c.clientID)
		ss.storedWill = storedWill
		s.sessions[c.clientID] = ss
	}
	ss.mu.Lock()
	s.mu.Unlock()

	c.sess = ss
	ss.conn = c
	ss.ci.Store(&c.ci)
	ss.expiry = expiry
	ss.window = window
	ss.cleanStart = cleanStart
	ss.version = c.version
	ss.remote = c.nc.RemoteAddr()
	ss.connectedAt = time.Now()
	ss.will = will
	ss.willDelay = willDelay
	ss.syncWillLocked()
	ss.setStoredLocked()
	// [MQTT-3.2.2-2], [MQTT-3.2.2-3]; in 3.1 the acknowledge flags byte is
	// reserved, so it stays 0 (as in Mosquitto).
	ack.SessionPresent = present && c.version != packet.Version31
	c.queuePacket(&c.f, ack)
	ss.resumeLocked(&c.f, c)
	ss.mu.Unlock()

	if old != nil {
		old.s.log.Info("session taken over", "client", c.clientID)
		old.sendFinal(&packet.Disconnect{ReasonCode: packet.SessionTakenOver})
	}
	if oldWill != nil {
		s.publishWill(oldWill)
	}
	return nil
}

// detach runs when c's connection ends: the will goes out (now, or after
// its delay) and the session expires (now, or after its interval).
func (s *Server) detach(c *conn) {
	ss := c.sess
	s.mu.Lock()
	ss.mu.Lock()
	if ss.conn != c {
		ss.mu.Unlock()
		s.mu.Unlock()
		return // taken over
	}
	ss.conn = nil
	ss.decongestLocked() // offline: the queue's own bound applies
	will := ss.will
	if c.graceful {
		will = nil // [MQTT-3.1.2-10]
	}
	ss.will = nil
	var now *Message
	if will != nil {
		if ss.willDelay == 0 || ss.expiry == 0 {
			now = will
		} else {
			ss.will = will
			s.armWillLocked(ss)
		}
	}
	closing := s.closing
	if !closing {
		// At a shutdown the will stays in the WillStore: the next Start
		// sends it, as after a crash.
		ss.syncWillLocked()
	}
	switch {
	case closing:
		// Sessions stay as they are for the store; nothing is scheduled.
		ss.stopTimersLocked()
		if ss.expiry != 0 && ss.expiry != neverExpire {
			ss.saveLocked(time.Now().Add(time.Duration(ss.expiry) * time.Second))
		}
	case ss.expiry == 0:
		s.endSessionLocked(ss)
	case ss.expiry != neverExpire:
		d := time.Duration(ss.expiry) * time.Second
		ss.saveLocked(time.Now().Add(d))
		ss.expiryTimer = time.AfterFunc(d, func() { s.run(func() { s.expireSession(ss) }) })
	}
	ss.mu.Unlock()
	s.mu.Unlock()
	if now != nil && !closing {
		s.publishWill(now)
	}
}

// armWillLocked schedules ss.will to go out after its delay, or when the
// session expires if that comes first; ss.mu is held.
func (s *Server) armWillLocked(ss *session) {
	ss.willGen++
	gen := ss.willGen
	d := time.Duration(min(ss.willDelay, ss.expiry)) * time.Second
	ss.willTimer = time.AfterFunc(d, func() { s.run(func() { s.willTimerFired(ss, gen) }) })
}

// willTimerFired publishes a delayed will unless the client came back: a
// timer stopped after it fired (gen no longer current) does nothing, so
// that it cannot take the will of the connection that came back.
func (s *Server) willTimerFired(ss *session, gen uint64) {
	ss.mu.Lock()
	var will *Message
	if gen == ss.willGen && ss.conn == nil && !ss.ended {
		will = ss.will
		ss.will = nil
		ss.willTimer = nil
		ss.syncWillLocked()
	}
	ss.mu.Unlock()
	if will != nil {
		s.publishWill(will)
	}
}

// expireSession ends an offline session whose expiry interval passed.
func (s *Server) expireSession(ss *session) {
	s.mu.Lock()
	ss.mu.Lock()
	var will *Message
	if ss.conn == nil && !ss.ended && !s.closing {
		will = ss.will // the session ends before the will delay [MQTT-3.1.3-9]
		ss.will = nil
		ss.syncWillLocked()
		s.endSessionLocked(ss)
	}
	ss.mu.Unlock()
	s.mu.Unlock()
	if will != nil {
		s.publishWill(will)
	}
}

// endSessionLocked removes ss and its subscriptions; s.mu and ss.mu are held.
func (s *Server) endSessionLocked(ss *session) {
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	ss.ended = true
	ss.dropStoredLocked()
	ss.decongestLocked()
	ss.stopTimersLocked()
	for f := range ss.subs {
		s.subs.Unsubscribe(f, ss)
	}
	clear(ss.subs)
	ss.pending.reset()
	ss.inflight = nil
	ss.inbound = nil
}

// restoredWill is a will loaded from the WillStore by New.
type restoredWill struct {
	clientID string
	w        *StoredWill
}

// releaseWills handles the wills loaded from the WillStore: their
// connections ended with the last run. A will with a delay whose
// persistent session was restored waits for its delay (counted from now),
// in which its client may come back and cancel it; every other goes out
// now [MQTT-3.1.2-8].
func (s *Server) releaseWills() {
	s.mu.Lock()
	restored := s.restored
	s.restored = nil
	var now []*Message
	for _, r := range restored {
		if ss := s.sessions[r.clientID]; ss != nil {
			ss.mu.Lock()
			wait := ss.conn == nil && ss.inproc == nil && !ss.ended && r.w.Delay > 0 && ss.expiry > 0
			if wait {
				ss.will, ss.willDelay, ss.storedWill = r.w.Message, r.w.Delay, r.w.Message
				s.armWillLocked(ss)
			}
			ss.mu.Unlock()
			if wait {
				continue
			}
		}
		now = append(now, r.w.Message)
		if err := s.wills.DeleteWill(r.clientID); err != nil {
			s.log.Error("delete will", "client", r.clientID, "err", err)
		}
	}
	s.mu.Unlock()
	for _, m := range now {
		s.publishWill(m)
	}
	if len(restored) > 0 {
		s.log.Info("wills of the last run's connections", "sent", len(now), "delayed", len(restored)-len(now))
	}
}

func (s *Server) publishWill(m *Message) {
	var f flusher
	now := time.Now()
	if !m.expires.IsZero() {
		// The will's lifetime starts when it is published, not at CONNECT
		// (3.1.3.2.4): newMessage set expires from Created.
		m.expires = now.Add(m.expires.Sub(m.Created))
	}
	m.Created = now
	s.publish(&f, m, nil)
	f.flush()
}
