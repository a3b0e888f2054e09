package broker

import "time"

// Store keeps the broker state that must survive a restart. The broker
// calls it on every change; its methods must be safe for concurrent use.
// The in-memory default, MemoryStore, keeps nothing: the state lives in
// the broker's own maps and is gone after a restart. A Badger-backed Store
// (broker/persist) makes it durable.
//
// Only persistent sessions (clean session false before MQTT 5, a session
// expiry interval above 0 in MQTT 5) of network clients are stored, and
// only their QoS 1 and 2 messages: a broker whose clients all use clean
// sessions never calls the session methods. The broker calls the session
// and message methods with the session's lock held, so they should be
// quick and must not call back into the broker.
type Store interface {
	// SetRetained stores m as the retained message of m.Topic.
	SetRetained(m *Message) error
	// DeleteRetained removes the retained message of topic.
	DeleteRetained(topic string) error
	// LoadRetained calls fn for every stored retained message.
	LoadRetained(fn func(*Message)) error

	// SaveSession stores (replaces) the record of a persistent session:
	// its expiry and subscriptions. Queued is ignored.
	SaveSession(s *StoredSession) error
	// DeleteSession removes the session of clientID and its queued
	// messages.
	DeleteSession(clientID string) error
	// SetQueued stores (replaces) a queued message of clientID's session.
	SetQueued(clientID string, q *StoredQueued) error
	// DeleteQueued removes the queued message seq of clientID's session.
	DeleteQueued(clientID string, seq uint64) error
	// SetInbound records that the QoS 2 publish pid from clientID was
	// received and routed (its PUBREC sent, its PUBREL awaited), so that
	// after a restart a resent copy is acknowledged, not routed again.
	SetInbound(clientID string, pid uint16) error
	// DeleteInbound removes that record (PUBREL received).
	DeleteInbound(clientID string, pid uint16) error
	// LoadSessions calls fn for every stored session, with its queued
	// messages in Queued, in order of Seq, and its inbound QoS 2 packet
	// identifiers in Inbound.
	LoadSessions(fn func(*StoredSession)) error
}

// Committer is implemented by a Store whose changes become durable (safe
// from a power cut) later than the call that made them, in batches that
// share one sync. The broker holds the PUBACK/PUBREC of a QoS 1/2 publish,
// and the return of an in-process Publish, until the changes the publish
// caused (its retained message, its copies queued for persistent
// sessions) are durable; a failed commit fails the publish as a durable
// subscriber's refusal does.
type Committer interface {
	// Uncommitted reports whether some change made before the call is
	// not yet durable. It is called on every QoS 1/2 publish: keep it
	// cheap.
	Uncommitted() bool
	// Commit calls done once, from any goroutine (or before it returns),
	// when every change made before the call is durable, with nil, or
	// with the error that kept one of them from being written.
	Commit(done func(error))
}

// WillStore is implemented by a Store that also keeps the wills of
// connected clients (persistent sessions or not), so that the will of a
// connection that a crash, a power cut or a shutdown ended still goes out:
// Server.Start publishes it, or arms its delay for a restored session that
// its client may resume. The broker calls these methods with the session's
// lock held.
type WillStore interface {
	// SetWill stores (replaces) the pending will of clientID.
	SetWill(clientID string, w *StoredWill) error
	// DeleteWill removes it.
	DeleteWill(clientID string) error
	// LoadWills calls fn for every stored will.
	LoadWills(fn func(clientID string, w *StoredWill)) error
}

// StoredWill is the stored form of a will.
type StoredWill struct {
	Message *Message
	Delay   uint32 // will delay interval, seconds (MQTT 5)
}

// StoredSession is the stored form of a persistent session.
type StoredSession struct {
	ClientID string
	// Expiry is the session expiry interval in seconds; 0xFFFFFFFF is
	// "never".
	Expiry uint32
	// Deadline is when the offline session expires; zero while the
	// client is connected (it then expires Expiry after the restart) or
	// when it never expires.
	Deadline      time.Time
	Subscriptions []StoredSubscription
	// Client is who the session's last connection authenticated as
	// (ClientID unset): the Authorizer checks deliveries to the session
	// against it while it is offline, also after a restart. nil for a
	// record written before it was stored.
	Client  *ClientInfo
	Queued  []StoredQueued // filled by LoadSessions only
	Inbound []uint16       // filled by LoadSessions only
}

// StoredSubscription is one subscription of a stored session.
type StoredSubscription struct {
	Filter            string // as subscribed, with any $share/group/ prefix
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	ID                uint32 // subscription identifier, 0 for none
}

// StoredQueued is one QoS 1 or 2 message queued for, or in flight to, a
// stored session.
type StoredQueued struct {
	Seq      uint64 // order within the session, from 1
	Message  *Message
	QoS      byte // the delivery QoS
	Retain   bool // the retain flag of the delivery
	SubIDs   []uint32
	PacketID uint16 // set once sent
	Sent     bool   // sent at least once: in flight, resent with DUP
	Released bool   // QoS 2: PUBREC received, PUBREL sent
}

// Expires returns when m expires (its MQTT 5 message expiry), or the zero
// time for never. It is meant for Store implementations.
func (m *Message) Expires() time.Time { return m.expires }

// SetExpires sets when m expires; see Expires.
func (m *Message) SetExpires(t time.Time) { m.expires = t }

// MemoryStore is the Store that keeps nothing beyond the process.
type MemoryStore struct{}

// SetRetained implements Store.
func (MemoryStore) SetRetained(*Message) error { return nil }

// DeleteRetained implements Store.
func (MemoryStore) DeleteRetained(string) error { return nil }

// LoadRetained implements Store.
func (MemoryStore) LoadRetained(func(*Message)) error { return nil }

// SaveSession implements Store.
func (MemoryStore) SaveSession(*StoredSession) error { return nil }

// DeleteSession implements Store.
func (MemoryStore) DeleteSession(string) error { return nil }

// SetQueued implements Store.
func (MemoryStore) SetQueued(string, *StoredQueued) error { return nil }

// DeleteQueued implements Store.
func (MemoryStore) DeleteQueued(string, uint64) error { return nil }

// SetInbound implements Store.
func (MemoryStore) SetInbound(string, uint16) error { return nil }

// DeleteInbound implements Store.
func (MemoryStore) DeleteInbound(string, uint16) error { return nil }

// LoadSessions implements Store.
func (MemoryStore) LoadSessions(func(*StoredSession)) error { return nil }
