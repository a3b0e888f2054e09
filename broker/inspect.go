package broker

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
)

// This file lets an administrator (the web dashboard) look into the
// broker and act on it: sessions, disconnects, retained messages and an
// observer of the routed messages. Snapshots are taken lock by lock, in
// the package's lock order, and may be slightly stale.

// Errors of the inspection API; test with errors.Is.
var (
	// ErrNoSuchClient: no connected network client has the identifier.
	ErrNoSuchClient = errors.New("broker: no such connected client")
	// ErrInProcess: the client is an in-process one (a bridge, a
	// device), which cannot be disconnected from outside.
	ErrInProcess = errors.New("broker: in-process client")
	// ErrNoRetained: no message is retained on the topic.
	ErrNoRetained = errors.New("broker: no retained message")
)

// SessionNeverExpires is the SessionInfo.SessionExpiry of a session that
// never expires (an MQTT 5 expiry interval of 0xFFFFFFFF, or a clean
// session false before MQTT 5).
const SessionNeverExpires = neverExpire * time.Second

// SessionInfo describes one session, connected or not.
type SessionInfo struct {
	ClientID string
	// Username is who the client authenticated as (its last connection,
	// for an offline session); empty for anonymous and in-process ones.
	Username string
	// Address is the network address of the current or last connection;
	// empty for in-process clients and for a session restored after a
	// restart whose client has not come back.
	Address string
	// Protocol is the protocol level of the CONNECT (3: MQTT 3.1, 4:
	// 3.1.1, 5: 5.0); 0 for in-process clients and restored sessions
	// whose client has not come back.
	Protocol  byte
	InProcess bool
	// Connected is true while a network client is connected, and for
	// in-process clients (until they close, which ends their session).
	Connected bool
	// ConnectedAt is when the current connection (the last one, for an
	// offline session) was made; zero for a restored session whose client
	// has not come back.
	ConnectedAt time.Time
	// CleanStart is the clean start (clean session) flag of the last
	// CONNECT; true for in-process clients.
	CleanStart bool
	// SessionExpiry is how long the session outlives its connection;
	// SessionNeverExpires for never, 0 for in-process clients.
	SessionExpiry time.Duration
	// Subscriptions are sorted by filter.
	Subscriptions []SubscriptionInfo
	// Queued counts the messages waiting for the client: for a network
	// client those waiting for a window slot or for it to come back, for
	// an in-process client those waiting for its handlers.
	Queued int
	// Inflight counts the QoS 1/2 messages sent and not yet acknowledged.
	Inflight int
}

// SubscriptionInfo describes one subscription of a session.
type SubscriptionInfo struct {
	// Filter is the filter as subscribed, with any "$share/{group}/"
	// prefix.
	Filter            string
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	// Shared is the share group of a shared subscription; empty if not
	// shared.
	Shared string
}

// Sessions returns every session, connected or not, in-process ones
// included, sorted by client identifier. Each session is read under its
// own lock, after the list of sessions was taken, so the snapshot may be
// slightly stale (a session that ended meanwhile may still be listed).
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	out := make([]SessionInfo, 0, len(sessions))
	for _, ss := range sessions {
		out = append(out, ss.info())
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(a.ClientID, b.ClientID) })
	return out
}

// info snapshots ss, taking ss.mu and then, for an in-process client,
// Client.mu (never both at once).
func (ss *session) info() SessionInfo {
	ss.mu.Lock()
	si := SessionInfo{
		ClientID:      ss.id,
		Protocol:      ss.version,
		InProcess:     ss.inproc != nil,
		Connected:     ss.conn != nil || (ss.inproc != nil && !ss.ended),
		ConnectedAt:   ss.connectedAt,
		CleanStart:    ss.cleanStart,
		SessionExpiry: time.Duration(ss.expiry) * time.Second,
		Queued:        ss.pending.len(),
		Inflight:      len(ss.inflight),
	}
	if ss.remote != nil {
		si.Address = ss.remote.String()
	}
	if len(ss.subs) > 0 {
		si.Subscriptions = make([]SubscriptionInfo, 0, len(ss.subs))
		for _, sub := range ss.subs {
			group, _, _ := topic.ParseShared(sub.filter)
			si.Subscriptions = append(si.Subscriptions, SubscriptionInfo{
				Filter: sub.filter, QoS: sub.qos, NoLocal: sub.noLocal,
				RetainAsPublished: sub.rap, RetainHandling: sub.retainHandling,
				Shared: group,
			})
		}
	}
	inproc := ss.inproc
	ss.mu.Unlock()
	if ci := ss.ci.Load(); ci != nil {
		si.Username = ci.Username
	}
	if inproc != nil {
		inproc.mu.Lock()
		si.Queued = inproc.q.len()
		inproc.mu.Unlock()
	}
	slices.SortFunc(si.Subscriptions, func(a, b SubscriptionInfo) int { return cmp.Compare(a.Filter, b.Filter) })
	return si
}

// Disconnect closes the connection of the network client clientID. An
// MQTT 5 client is first sent DISCONNECT with reason code 0x98
// (administrative action), bounded by a one second write deadline; older
// clients have no server DISCONNECT and are just closed. It returns once
// the connection is being closed: the connection's own goroutine then
// ends it as it ends any connection the client did not close with a
// normal DISCONNECT. So the will is published (after its delay, if any)
// as MQTT 5 requires for any close but a client's DISCONNECT 0x00
// [MQTT-3.1.2-8], [MQTT-3.1.2-10], and the session stays or ends as its
// clean start and expiry interval say.
//
// It returns an error wrapping ErrNoSuchClient when no network client
// with that identifier is connected, and ErrInProcess for an in-process
// client.
func (s *Server) Disconnect(clientID string) error {
	s.mu.Lock()
	ss := s.sessions[clientID]
	s.mu.Unlock()
	if ss == nil {
		return fmt.Errorf("broker: disconnect %q: %w", clientID, ErrNoSuchClient)
	}
	ss.mu.Lock()
	c, inproc := ss.conn, ss.inproc != nil
	ss.mu.Unlock()
	switch {
	case inproc:
		return fmt.Errorf("broker: disconnect %q: %w", clientID, ErrInProcess)
	case c == nil:
		return fmt.Errorf("broker: disconnect %q: %w", clientID, ErrNoSuchClient)
	}
	s.log.Info("disconnecting client", "client", clientID, "remote", c.nc.RemoteAddr().String(), "reason", "administrative action")
	c.sendFinal(&packet.Disconnect{ReasonCode: packet.AdministrativeAction})
	return nil
}

// Retained returns the retained messages whose topics filter matches,
// sorted by topic, at most limit of them (limit <= 0: all), and the
// number of all that match. As for a subscription, a filter starting with
// a wildcard does not match topics starting with '$' [MQTT-4.7.2-1]:
// "#" lists no $SYS topics, "$SYS/#" does. Expired messages are left
// out. A filter that is not a valid topic filter, or is a shared one,
// gives an error wrapping topic.ErrInvalidFilter (or
// topic.ErrInvalidShare).
//
// The messages are the broker's: they must not be modified.
func (s *Server) Retained(filter string, limit int) (msgs []*Message, total int, err error) {
	if err := topic.ValidFilter(filter); err != nil {
		return nil, 0, fmt.Errorf("broker: retained: %w", err)
	}
	if _, _, shared := topic.ParseShared(filter); shared {
		return nil, 0, fmt.Errorf("broker: retained: %w: a shared subscription gets no retained messages", topic.ErrInvalidShare)
	}
	now := time.Now()
	s.retained.Match(filter, func(_ string, m *Message) bool {
		if !m.expired(now) {
			msgs = append(msgs, m)
		}
		return true
	})
	slices.SortFunc(msgs, func(a, b *Message) int { return cmp.Compare(a.Topic, b.Topic) })
	total = len(msgs)
	if limit > 0 && len(msgs) > limit {
		clear(msgs[limit:])
		msgs = msgs[:limit:limit]
	}
	return msgs, total, nil
}

// DeleteRetained removes the message retained on topic, in memory and in
// the Store, as a client's empty retained PUBLISH on topic would
// [MQTT-3.3.1-10]; unlike such a publish, nothing is sent to the
// subscribers. With a Store that commits in batches it returns once the
// deletion is durable, as an in-process QoS 1 publish does, so it
// survives a restart. $SYS/ topics are never stored (the broker publishes
// them again). It returns an error wrapping ErrNoRetained when nothing
// is retained on topic, topic.ErrInvalidName for an invalid topic name,
// or the Store's error.
func (s *Server) DeleteRetained(topicName string) error {
	if err := topic.ValidName(topicName); err != nil {
		return fmt.Errorf("broker: delete retained: %w", err)
	}
	found, err := s.unretain(topicName)
	if !found {
		return fmt.Errorf("broker: delete retained %q: %w", topicName, ErrNoRetained)
	}
	if err != nil {
		return fmt.Errorf("broker: delete retained %q: %w", topicName, err)
	}
	if s.commit != nil && s.commit.Uncommitted() {
		done := make(chan error, 1)
		s.commit.Commit(func(err error) { done <- err })
		if err := <-done; err != nil {
			return fmt.Errorf("broker: delete retained %q: commit: %w", topicName, err)
		}
	}
	return nil
}

// SetPublishObserver sets f to be called once for every message the
// broker routes: the publishes of network clients (once authorized),
// of in-process clients, wills and the broker's own $SYS messages (f
// filters what it wants), whether or not any subscription matches. nil
// removes the observer; with none, publishing costs one atomic load more.
//
// f runs synchronously on the publisher's goroutine, after the message
// was handed to its subscribers, with no broker lock held: it must be
// quick and must not block, or it slows that publisher down. m is shared
// with the subscribers and must not be modified; f must not keep
// m.Payload (or m) beyond the call without copying it.
func (s *Server) SetPublishObserver(f func(m *Message)) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
}
