package broker

import (
	"sort"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// This file connects sessions to Options.Store. A session is stored while
// it is persistent (session.stored); its QoS 1/2 messages are written when
// queued, when given a packet identifier, when released (QoS 2) and
// deleted when acknowledged, dropped or expired. Sessions that are not
// stored pay one boolean test per change.

// storedRecordLocked returns the stored form of ss (without messages).
func (ss *session) storedRecordLocked(deadline time.Time) *StoredSession {
	rec := &StoredSession{ClientID: ss.id, Expiry: ss.expiry, Deadline: deadline}
	if ci := ss.ci.Load(); ci != nil {
		rec.Client = &ClientInfo{Username: ci.Username, Anonymous: ci.Anonymous}
	}
	for _, sub := range ss.subs {
		rec.Subscriptions = append(rec.Subscriptions, StoredSubscription{
			Filter: sub.filter, QoS: sub.qos, NoLocal: sub.noLocal,
			RetainAsPublished: sub.rap, RetainHandling: sub.retainHandling, ID: sub.id,
		})
	}
	return rec
}

// syncWillLocked makes the WillStore hold ss.will, or nothing, for ss's
// client id.
func (ss *session) syncWillLocked() {
	ws := ss.s.wills
	if ws == nil || ss.storedWill == ss.will {
		return
	}
	var err error
	if ss.will != nil {
		err = ws.SetWill(ss.id, &StoredWill{Message: ss.will, Delay: ss.willDelay})
	} else {
		err = ws.DeleteWill(ss.id)
	}
	if err != nil {
		ss.s.log.Error("store will", "client", ss.id, "err", err)
	}
	ss.storedWill = ss.will
}

// saveLocked writes ss's record if it is stored.
func (ss *session) saveLocked(deadline time.Time) {
	if !ss.stored {
		return
	}
	if err := ss.s.opts.Store.SaveSession(ss.storedRecordLocked(deadline)); err != nil {
		ss.s.log.Error("store session", "client", ss.id, "err", err)
	}
}

// setStoredLocked makes ss stored or not, as its expiry says, after a
// CONNECT. A session that becomes stored writes what it already queued.
func (ss *session) setStoredLocked() {
	want := ss.expiry != 0
	switch {
	case want:
		was := ss.stored
		ss.stored = true
		ss.saveLocked(time.Time{})
		if !was {
			for _, om := range ss.inflight {
				ss.storeMsgLocked(om)
			}
			for i := ss.pending.head; i < len(ss.pending.items); i++ {
				ss.storeMsgLocked(ss.pending.items[i])
			}
			for pid := range ss.inbound {
				ss.storeInboundLocked(pid)
			}
		}
	case ss.stored:
		ss.dropStoredLocked()
	}
}

// dropStoredLocked deletes ss from the store.
func (ss *session) dropStoredLocked() {
	if !ss.stored {
		return
	}
	ss.stored = false
	if err := ss.s.opts.Store.DeleteSession(ss.id); err != nil {
		ss.s.log.Error("delete stored session", "client", ss.id, "err", err)
	}
}

// storeMsgLocked writes om (QoS 1/2) if ss is stored, giving it a sequence
// number the first time.
func (ss *session) storeMsgLocked(om *outMsg) {
	if !ss.stored || om.qos == 0 {
		return
	}
	if om.seq == 0 {
		ss.nextSeq++
		om.seq = ss.nextSeq
	}
	q := &StoredQueued{
		Seq: om.seq, Message: om.m, QoS: om.qos, Retain: om.retain, SubIDs: om.subIDs,
		PacketID: om.pid, Sent: om.sent, Released: om.rel,
	}
	if err := ss.s.opts.Store.SetQueued(ss.id, q); err != nil {
		ss.s.log.Error("store queued message", "client", ss.id, "err", err)
	}
}

// unstoreMsgLocked deletes om from the store once it is delivered,
// dropped or expired.
func (ss *session) unstoreMsgLocked(om *outMsg) {
	if !ss.stored || om.seq == 0 {
		return
	}
	if err := ss.s.opts.Store.DeleteQueued(ss.id, om.seq); err != nil {
		ss.s.log.Error("delete queued message", "client", ss.id, "err", err)
	}
	om.seq = 0
}

// storeInboundLocked records the inbound QoS 2 publish pid if ss is
// stored.
func (ss *session) storeInboundLocked(pid uint16) {
	if !ss.stored {
		return
	}
	if err := ss.s.opts.Store.SetInbound(ss.id, pid); err != nil {
		ss.s.log.Error("store inbound QoS 2 state", "client", ss.id, "err", err)
	}
}

// releaseInboundLocked ends the inbound QoS 2 exchange pid.
func (ss *session) releaseInboundLocked(pid uint16) {
	delete(ss.inbound, pid)
	if !ss.stored {
		return
	}
	if err := ss.s.opts.Store.DeleteInbound(ss.id, pid); err != nil {
		ss.s.log.Error("delete inbound QoS 2 state", "client", ss.id, "err", err)
	}
}

// restoreSessions loads the stored sessions: subscriptions go back into
// the topic tree, messages into the window (those sent before, resent with
// DUP on reconnect) or the queue, and expiry timers restart from the
// stored deadline. Sessions past their deadline are deleted.
func (s *Server) restoreSessions() error {
	now := time.Now()
	var expired []string
	n, msgs := 0, 0
	err := s.opts.Store.LoadSessions(func(rec *StoredSession) {
		if rec.Expiry == 0 || (!rec.Deadline.IsZero() && !now.Before(rec.Deadline)) {
			expired = append(expired, rec.ClientID)
			return
		}
		ss := s.newSession(rec.ClientID)
		ss.expiry = rec.Expiry
		ss.stored = true
		if rec.Client != nil {
			ci := *rec.Client
			ci.ClientID = rec.ClientID
			ss.ci.Store(&ci)
		}
		for _, st := range rec.Subscriptions {
			sub := subscription{
				filter: st.Filter, qos: st.QoS, noLocal: st.NoLocal, rap: st.RetainAsPublished,
				retainHandling: st.RetainHandling, id: st.ID,
			}
			ss.subs[sub.filter] = sub
			s.subs.Subscribe(sub.filter, ss, sub)
		}
		sort.Slice(rec.Queued, func(i, j int) bool { return rec.Queued[i].Seq < rec.Queued[j].Seq })
		for _, q := range rec.Queued {
			om := &outMsg{
				m: q.Message, qos: q.QoS, retain: q.Retain, subIDs: q.SubIDs,
				pid: q.PacketID, rel: q.Released, sent: q.Sent, seq: q.Seq,
			}
			if q.Sent && q.PacketID != 0 && ss.findInflight(q.PacketID) < 0 {
				ss.inflight = append(ss.inflight, om)
			} else {
				om.sent, om.pid, om.rel = false, 0, false
				ss.pending.push(om)
			}
			ss.nextSeq = max(ss.nextSeq, q.Seq)
			msgs++
		}
		for _, pid := range rec.Inbound {
			if ss.inbound == nil {
				ss.inbound = make(map[uint16]*pendingAck)
			}
			// Routed and acknowledged before the restart: a resent copy
			// only gets its PUBREC again (see conn.ackDuplicate).
			ss.inbound[pid] = &pendingAck{kind: packet.PUBREC, pid: pid, sent: true}
		}
		if ss.expiry != neverExpire {
			d := time.Duration(ss.expiry) * time.Second
			if !rec.Deadline.IsZero() {
				d = rec.Deadline.Sub(now)
			}
			ss.expiryTimer = time.AfterFunc(d, func() { s.run(func() { s.expireSession(ss) }) })
		}
		s.sessions[ss.id] = ss
		n++
	})
	if err != nil {
		for _, ss := range s.sessions {
			ss.stopTimers()
		}
		return err
	}
	for _, id := range expired {
		if err := s.opts.Store.DeleteSession(id); err != nil {
			s.log.Error("delete expired session", "client", id, "err", err)
		}
	}
	if n > 0 || len(expired) > 0 {
		s.log.Info("sessions restored", "sessions", n, "messages", msgs, "expired", len(expired))
	}
	return nil
}
