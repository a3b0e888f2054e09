// Package persist is the durable broker.Store: retained messages,
// persistent sessions with their subscriptions, and their queued QoS 1/2
// messages, kept in the gateway's Badger database (internal/kv) under the
// key prefix "bk\x00", claimed with kv.DB.Claim.
//
// # Keys and records
//
//	"bk\x00r" topic                  retained message
//	"bk\x00s" client id              session: expiry, deadline, subscriptions
//	"bk\x00q" client id 0x00 seq(8)  queued message of a session (big-endian seq)
//	"bk\x00i" client id 0x00 pid(2)  inbound QoS 2 publish awaiting PUBREL (value: version)
//
// MQTT strings cannot contain U+0000, so 0x00 separates a client id from
// the sequence number. Values are a small binary format written with
// encoding/binary, starting with a version byte (1). A record that fails
// to decode is logged and skipped: a bad record never stops the broker.
//
// # Durability and cost
//
// Changes are buffered in call order and written by one goroutine in
// batches, each batch one transaction followed by one fsync of Badger's
// logs (writer.go). The Store is a broker.Committer: the broker holds the
// PUBACK/PUBREC of a QoS 1/2 publish until the changes it caused (a
// retained message, a message queued for a persistent session) are
// synced, so an acknowledged message survives a power cut, and many
// publishers share one fsync. The broker writes only for retained
// messages and persistent sessions with their QoS 1/2 messages, so
// clean-session traffic costs nothing here.
package persist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/kv"
)

// Prefix is the key prefix of the broker's records.
const Prefix = "bk\x00"

var (
	prefixRetained = []byte(Prefix + "r")
	prefixSession  = []byte(Prefix + "s")
	prefixQueued   = []byte(Prefix + "q")
	prefixInbound  = []byte(Prefix + "i")
	prefixWill     = []byte(Prefix + "w")
)

// Store is a broker.Store and broker.Committer on a kv.DB. Its methods
// are safe for concurrent use.
type Store struct {
	db      *kv.DB
	log     *slog.Logger
	release func()
	w       writer
}

var (
	_ broker.Store     = (*Store)(nil)
	_ broker.Committer = (*Store)(nil)
	_ broker.WillStore = (*Store)(nil)
)

// ErrClosed is returned for a change made after Close.
var ErrClosed = errors.New("persist: store closed")

// New claims the broker's key prefix in db and returns the Store. log
// receives the records that fail to decode; nil means slog.Default. Close
// releases the claim; it does not close db.
func New(db *kv.DB, log *slog.Logger) (*Store, error) {
	release, err := db.Claim(Prefix)
	if err != nil {
		return nil, fmt.Errorf("persist: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Store{db: db, log: log, release: release}
	s.w.db = db
	s.w.report = func(msg string, err error) { log.Error(msg, "err", err) }
	s.w.start()
	return s, nil
}

// Close writes and syncs what is buffered, stops the writer and releases
// the key prefix. Close the broker first. It returns the error of the
// last sync.
func (s *Store) Close() error {
	err := s.Flush()
	s.w.close()
	s.release()
	return err
}

// Uncommitted implements broker.Committer.
func (s *Store) Uncommitted() bool { return s.w.uncommitted() }

// Commit implements broker.Committer.
func (s *Store) Commit(done func(error)) { s.w.commit(done) }

// Flush returns once every change made before the call is on disk.
func (s *Store) Flush() error { return s.w.flush() }

// Batches returns the number of batches written so far, and how many of
// them failed.
func (s *Store) Batches() (written, failed uint64) {
	return s.w.batches.Load(), s.w.failed.Load()
}

func (s *Store) set(key, val []byte) error { return s.w.add(op{kind: opSet, key: key, val: val}) }

func (s *Store) del(key []byte) error { return s.w.add(op{kind: opDelete, key: key}) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// SetRetained implements broker.Store.
func (s *Store) SetRetained(m *broker.Message) error {
	if err := s.set(cat(prefixRetained, []byte(m.Topic)), appendMessage([]byte{version}, m)); err != nil {
		return fmt.Errorf("persist: set retained %q: %w", m.Topic, err)
	}
	return nil
}

// DeleteRetained implements broker.Store.
func (s *Store) DeleteRetained(topic string) error {
	if err := s.del(cat(prefixRetained, []byte(topic))); err != nil {
		return fmt.Errorf("persist: delete retained %q: %w", topic, err)
	}
	return nil
}

// LoadRetained implements broker.Store.
func (s *Store) LoadRetained(fn func(*broker.Message)) error {
	return s.scan(prefixRetained, func(k, v []byte) {
		m, err := decodeRetained(v)
		if err != nil {
			s.log.Warn("skipping bad retained message record", "key", fmt.Sprintf("%q", k), "err", err)
			return
		}
		fn(m)
	})
}

// SetWill implements broker.WillStore.
func (s *Store) SetWill(clientID string, w *broker.StoredWill) error {
	if err := s.set(cat(prefixWill, []byte(clientID)), encodeWill(w)); err != nil {
		return fmt.Errorf("persist: set will of %q: %w", clientID, err)
	}
	return nil
}

// DeleteWill implements broker.WillStore.
func (s *Store) DeleteWill(clientID string) error {
	if err := s.del(cat(prefixWill, []byte(clientID))); err != nil {
		return fmt.Errorf("persist: delete will of %q: %w", clientID, err)
	}
	return nil
}

// LoadWills implements broker.WillStore.
func (s *Store) LoadWills(fn func(string, *broker.StoredWill)) error {
	return s.scan(prefixWill, func(k, v []byte) {
		w, err := decodeWill(v)
		if err != nil {
			s.log.Warn("skipping bad will record", "key", fmt.Sprintf("%q", k), "err", err)
			return
		}
		fn(string(k[len(prefixWill):]), w)
	})
}

// scan calls fn for each key and value under prefix.
func (s *Store) scan(prefix []byte, fn func(k, v []byte)) error {
	if err := s.Flush(); err != nil {
		return fmt.Errorf("persist: scan: %w", err)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			fn(item.KeyCopy(nil), v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("persist: scan: %w", err)
	}
	return nil
}

// SaveSession implements broker.Store.
func (s *Store) SaveSession(ss *broker.StoredSession) error {
	if err := s.set(cat(prefixSession, []byte(ss.ClientID)), encodeSession(ss)); err != nil {
		return fmt.Errorf("persist: save session %q: %w", ss.ClientID, err)
	}
	return nil
}

func queuedKey(clientID string, seq uint64) []byte {
	k := cat(prefixQueued, []byte(clientID), []byte{0})
	return binary.BigEndian.AppendUint64(k, seq)
}

// DeleteSession implements broker.Store.
func (s *Store) DeleteSession(clientID string) error {
	err := s.w.add(op{kind: opDeletePrefix, key: cat(prefixQueued, []byte(clientID), []byte{0})})
	if err == nil {
		err = s.w.add(op{kind: opDeletePrefix, key: cat(prefixInbound, []byte(clientID), []byte{0})})
	}
	if err == nil {
		err = s.del(cat(prefixSession, []byte(clientID)))
	}
	if err != nil {
		return fmt.Errorf("persist: delete session %q: %w", clientID, err)
	}
	return nil
}

// SetQueued implements broker.Store.
func (s *Store) SetQueued(clientID string, q *broker.StoredQueued) error {
	if err := s.set(queuedKey(clientID, q.Seq), encodeQueued(q)); err != nil {
		return fmt.Errorf("persist: store queued message of %q: %w", clientID, err)
	}
	return nil
}

// DeleteQueued implements broker.Store.
func (s *Store) DeleteQueued(clientID string, seq uint64) error {
	if err := s.del(queuedKey(clientID, seq)); err != nil {
		return fmt.Errorf("persist: delete queued message of %q: %w", clientID, err)
	}
	return nil
}

func inboundKey(clientID string, pid uint16) []byte {
	k := cat(prefixInbound, []byte(clientID), []byte{0})
	return binary.BigEndian.AppendUint16(k, pid)
}

// SetInbound implements broker.Store.
func (s *Store) SetInbound(clientID string, pid uint16) error {
	if err := s.set(inboundKey(clientID, pid), []byte{version}); err != nil {
		return fmt.Errorf("persist: store inbound QoS 2 state of %q: %w", clientID, err)
	}
	return nil
}

// DeleteInbound implements broker.Store.
func (s *Store) DeleteInbound(clientID string, pid uint16) error {
	if err := s.del(inboundKey(clientID, pid)); err != nil {
		return fmt.Errorf("persist: delete inbound QoS 2 state of %q: %w", clientID, err)
	}
	return nil
}

// LoadSessions implements broker.Store. Queued messages of a session that
// has no record are ignored.
func (s *Store) LoadSessions(fn func(*broker.StoredSession)) error {
	sessions := make(map[string]*broker.StoredSession)
	var order []*broker.StoredSession
	err := s.scan(prefixSession, func(k, v []byte) {
		ss, err := decodeSession(v)
		if err != nil {
			s.log.Warn("skipping bad session record", "key", fmt.Sprintf("%q", k), "err", err)
			return
		}
		ss.ClientID = string(k[len(prefixSession):])
		sessions[ss.ClientID] = ss
		order = append(order, ss)
	})
	if err != nil {
		return err
	}
	err = s.scan(prefixQueued, func(k, v []byte) {
		rest := k[len(prefixQueued):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || len(rest)-i-1 != 8 {
			s.log.Warn("skipping bad queued message key", "key", fmt.Sprintf("%q", k))
			return
		}
		ss := sessions[string(rest[:i])]
		if ss == nil {
			return
		}
		q, err := decodeQueued(v)
		if err != nil {
			s.log.Warn("skipping bad queued message record", "key", fmt.Sprintf("%q", k), "err", err)
			return
		}
		q.Seq = binary.BigEndian.Uint64(rest[i+1:])
		ss.Queued = append(ss.Queued, *q)
	})
	if err != nil {
		return err
	}
	err = s.scan(prefixInbound, func(k, v []byte) {
		rest := k[len(prefixInbound):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || len(rest)-i-1 != 2 || len(v) != 1 || v[0] != version {
			s.log.Warn("skipping bad inbound QoS 2 record", "key", fmt.Sprintf("%q", k))
			return
		}
		if ss := sessions[string(rest[:i])]; ss != nil {
			ss.Inbound = append(ss.Inbound, binary.BigEndian.Uint16(rest[i+1:]))
		}
	})
	if err != nil {
		return err
	}
	for _, ss := range order {
		fn(ss)
	}
	return nil
}

// errShort is returned for a record that ends early.
var errShort = errors.New("record too short")

// timeNano converts a stored Unix nanosecond count; 0 is the zero time.
func timeNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
