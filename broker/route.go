package broker

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
)

type matchBuf struct {
	entries []topic.Entry[*session, subscription]
}

var matchPool = sync.Pool{New: func() any { return new(matchBuf) }}

// confirmer collects the confirmations of durable subscribers for one
// QoS 1/2 publish: hold is called (during publish) once per durable
// subscriber, confirm once per hold, from any goroutine.
type confirmer interface {
	hold()
	confirm(err error)
}

// publish routes m to every matching subscription and stores it if
// retained. durable, when not nil, is held by every durable subscriber
// that m reaches, and by the Store's commit of what m changed in it. It
// reports whether any subscription matched.
func (s *Server) publish(f *flusher, m *Message, durable confirmer) bool {
	if m.Retain {
		s.setRetained(m)
	}
	mb := matchPool.Get().(*matchBuf)
	mb.entries = s.subs.Match(m.Topic, mb.entries[:0])
	es := mb.entries
	matched := len(es) > 0
	if len(es) > 1 {
		slices.SortFunc(es, func(a, b topic.Entry[*session, subscription]) int {
			return cmp.Compare(a.Key.uid, b.Key.uid)
		})
	}
	for i := 0; i < len(es); {
		ss := es[i].Key
		j := i + 1
		for j < len(es) && es[j].Key == ss {
			j++
		}
		s.deliverTo(f, ss, m, es[i:j], durable)
		i = j
	}
	clear(mb.entries)
	mb.entries = mb.entries[:0]
	matchPool.Put(mb)
	if o := s.observer.Load(); o != nil {
		(*o)(m)
	}
	if durable != nil && s.commit != nil && s.commit.Uncommitted() {
		// Acknowledged means on disk: the ack waits for the sync of what
		// this publish stored (and of whatever was written before it).
		durable.hold()
		s.commit.Commit(durable.confirm)
	}
	return matched
}

// deliverTo delivers m once to ss for its non-shared subscriptions (at the
// highest QoS, with every subscription identifier [MQTT-3.3.4-3],
// [MQTT-3.3.4-5]) and once per shared subscription.
func (s *Server) deliverTo(f *flusher, ss *session, m *Message, es []topic.Entry[*session, subscription], durable confirmer) {
	if !s.canRead(ss, m.Topic) {
		return
	}
	if ss.inproc != nil {
		live := m
		for _, e := range es {
			if e.Value.noLocal && m.ClientID == ss.id {
				continue
			}
			if live.Retain && !e.Value.rap {
				// A live delivery: retain flag 0, as for a network
				// subscriber [MQTT-3.3.1-9]; m is shared, so copy it.
				mc := *m
				mc.Retain = false
				live = &mc
			}
			if e.Value.rap {
				ss.inproc.route(m, e.Value, durable)
			} else {
				ss.inproc.route(live, e.Value, durable)
			}
		}
		return
	}
	var om outMsg
	for _, e := range es {
		sub := e.Value
		if sub.noLocal && m.ClientID == ss.id {
			continue // [MQTT-3.8.3-3]
		}
		if e.Group != "" {
			ss.deliver(f, newOutMsg(m, sub))
			continue
		}
		if om.m == nil {
			om = newOutMsg(m, sub)
			continue
		}
		om.qos = max(om.qos, min(m.QoS, sub.qos))
		om.retain = om.retain || (sub.rap && m.Retain)
		if sub.id != 0 {
			om.subIDs = append(om.subIDs, sub.id)
		}
	}
	if om.m != nil {
		ss.deliver(f, om)
	}
}

func newOutMsg(m *Message, sub subscription) outMsg {
	om := outMsg{m: m, qos: min(m.QoS, sub.qos), retain: sub.rap && m.Retain}
	if sub.id != 0 {
		om.subIDs = []uint32{sub.id}
	}
	return om
}

// setRetained stores or, for an empty payload, deletes the retained
// message of m's topic [MQTT-3.3.1-5], [MQTT-3.3.1-10]. $SYS/ topics stay
// in memory: they are published again after a restart, and writing them
// every sys_interval would only wear the SD card.
func (s *Server) setRetained(m *Message) {
	if len(m.Payload) == 0 {
		if _, err := s.unretain(m.Topic); err != nil {
			s.log.Error("delete retained message", "topic", m.Topic, "err", err)
		}
		return
	}
	s.retained.Set(m.Topic, m)
	if strings.HasPrefix(m.Topic, "$SYS/") {
		return
	}
	if err := s.opts.Store.SetRetained(m); err != nil {
		s.log.Error("store retained message", "topic", m.Topic, "err", err)
	}
}

// unretain deletes the retained message of topic, from the Store too
// unless it is a $SYS/ topic (see setRetained). It reports whether there
// was one, and the Store's error.
func (s *Server) unretain(topic string) (bool, error) {
	if !s.retained.Delete(topic) {
		return false, nil
	}
	if strings.HasPrefix(topic, "$SYS/") {
		return true, nil
	}
	return true, s.opts.Store.DeleteRetained(topic)
}

// subscribe adds or replaces ss's subscription for so. It returns the
// SUBACK code and whether the subscription is new.
func (s *Server) subscribe(ss *session, so packet.SubOptions, subID uint32) (packet.ReasonCode, bool, error) {
	if err := topic.ValidFilter(so.Filter); err != nil {
		return packet.TopicFilterInvalid, false, nil // [MQTT-3.8.4-?] failure code, no disconnect
	}
	_, _, shared := topic.ParseShared(so.Filter)
	if shared && so.NoLocal {
		return 0, false, protocolError("no local on a shared subscription") // [MQTT-3.8.3-4]
	}
	sub := subscription{
		filter: so.Filter, qos: so.QoS, noLocal: so.NoLocal, rap: so.RetainAsPublished,
		retainHandling: so.RetainHandling, id: subID,
	}
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return packet.UnspecifiedError, false, nil
	}
	_, existed := ss.subs[so.Filter]
	ss.subs[so.Filter] = sub
	s.subs.Subscribe(so.Filter, ss, sub)
	ss.saveLocked(time.Time{})
	ss.mu.Unlock()
	return packet.ReasonCode(so.QoS), !existed, nil
}

// unsubscribe removes ss's subscription on filter.
func (s *Server) unsubscribe(ss *session, filter string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.subs[filter]; !ok {
		return false
	}
	delete(ss.subs, filter)
	s.subs.Unsubscribe(filter, ss)
	ss.saveLocked(time.Time{})
	return true
}

// sendRetained delivers the retained messages matching a new subscription
// [MQTT-3.3.1-6], honouring v5 retain handling [MQTT-3.3.1-9..11]; shared
// subscriptions get none [MQTT-4.8.2-?].
func (s *Server) sendRetained(f *flusher, ss *session, so packet.SubOptions, subID uint32, isNew bool) {
	if _, _, shared := topic.ParseShared(so.Filter); shared {
		return
	}
	if so.RetainHandling == 2 || (so.RetainHandling == 1 && !isNew) {
		return
	}
	now := time.Now()
	var msgs []*Message
	s.retained.Match(so.Filter, func(_ string, m *Message) bool {
		if !m.expired(now) {
			msgs = append(msgs, m)
		}
		return true
	})
	for _, m := range msgs {
		if !s.canRead(ss, m.Topic) {
			continue
		}
		if ss.inproc != nil { // set at creation, never changed
			ss.inproc.route(m, subscription{filter: so.Filter, qos: so.QoS}, nil)
			continue
		}
		om := outMsg{m: m, qos: min(m.QoS, so.QoS), retain: true}
		if subID != 0 {
			om.subIDs = []uint32{subID}
		}
		ss.deliver(f, om)
	}
}
