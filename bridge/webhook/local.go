package webhook

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/storefwd"
)

// Bounds of the hand-over from the broker to the queue.
const (
	// maxRecordBytes bounds one queued message (topic and payload).
	maxRecordBytes = storefwd.DefaultMaxRecordBytes
	// QoS 0 messages are dropped (counted in Overflow) while this many
	// records or bytes wait for the appender; QoS 1/2 ones are bounded
	// by their publishers, who wait for the append.
	maxPendingRecs  = 4096
	maxPendingBytes = 8 << 20
	// appendRecs and appendBytes bound one Append.
	appendRecs  = 1024
	appendBytes = 4 << 20
	// maxSeen bounds the messages remembered for de-duplication.
	maxSeen = 1024
)

// setFilters subscribes to the filters of want not yet subscribed, then
// drops the ones want does not hold, so that a filter kept across a
// change never misses a message.
func (s *Sink) setFilters(want []string) error {
	s.mu.Lock()
	have := slices.Clone(s.filters)
	s.mu.Unlock()
	for _, f := range want {
		if slices.Contains(have, f) {
			continue
		}
		// Subscribe may deliver retained messages at once, which takes
		// s.mu: not held here.
		s.mu.Lock()
		s.filters = append(s.filters, f)
		s.mu.Unlock()
		if err := s.local.SubscribeDurable(f, 2, s.onLocal); err != nil {
			s.mu.Lock()
			s.filters = slices.DeleteFunc(s.filters, func(x string) bool { return x == f })
			s.mu.Unlock()
			return err
		}
	}
	for _, f := range have {
		if slices.Contains(want, f) {
			continue
		}
		if err := s.local.Unsubscribe(f); err != nil {
			s.log.Warn("unsubscribe", "filter", f, "err", err)
		}
		s.mu.Lock()
		s.filters = slices.DeleteFunc(s.filters, func(x string) bool { return x == f })
		s.mu.Unlock()
	}
	return nil
}

// onLocal is the durable handler of every filter. It must not block: it
// hands the record to the appender, which calls done after the Append.
// The broker routes a message once per matching subscription, with the
// same *Message: only the first route is queued.
func (s *Sink) onLocal(m *broker.Message, done func(error)) {
	if m.ClientID == s.local.ID() {
		done(nil) // the sink's own $SYS figures
		return
	}
	received := m.Created
	if received.IsZero() {
		received = time.Now()
	}
	rec := storefwd.Record{Meta: encodeMeta(m.Topic, m.QoS, m.Retain, received), Data: m.Payload}
	size := len(rec.Meta) + len(rec.Data)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		done(fmt.Errorf("sink %q: %w", s.name, ErrClosed))
		return
	}
	if s.duplicateLocked(m) {
		s.mu.Unlock()
		done(nil)
		return
	}
	if size > maxRecordBytes {
		s.st.TooLarge++
		s.mu.Unlock()
		s.log.Warn("message too large for the queue, dropped", "topic", m.Topic, "bytes", size)
		done(fmt.Errorf("sink %q: %d bytes: %w", s.name, size, storefwd.ErrTooLarge))
		return
	}
	if m.QoS == 0 && (len(s.pending) >= maxPendingRecs || s.pendingLen+size > maxPendingBytes) {
		s.st.Overflow++
		s.mu.Unlock()
		done(nil)
		return
	}
	s.pending = append(s.pending, pendingRec{rec: rec, done: done})
	s.pendingLen += size
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// duplicateLocked reports whether m was already taken through another
// of the sink's filters. s.mu is held.
func (s *Sink) duplicateLocked(m *broker.Message) bool {
	if len(s.filters) < 2 {
		return false
	}
	if n, ok := s.seen[m]; ok {
		if n <= 1 {
			delete(s.seen, m)
		} else {
			s.seen[m] = n - 1
		}
		return true
	}
	n := 0
	for _, f := range s.filters {
		if matchFilter(f, m.Topic) {
			n++
		}
	}
	if n > 1 {
		if len(s.seen) >= maxSeen {
			// Only while filters change can routes go missing; forgetting
			// costs a duplicate at worst.
			clear(s.seen)
		}
		s.seen[m] = n - 1
	}
	return false
}

// matchFilter reports whether topic matches the MQTT filter f (both
// valid). Wildcards at the first level do not match topics starting
// with '$' [MQTT-4.7.2-1].
func matchFilter(f, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(f, "+") || strings.HasPrefix(f, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(f, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case !tmore:
			return frest == "#" // "a/#" matches "a"
		case !fmore:
			return false
		}
		f, topic = frest, trest
	}
}

// appender appends the pending records in arrival order, in batches
// (the queue's group commit does the rest), then confirms them. It
// returns when the sink closes.
func (s *Sink) appender() {
	for {
		select {
		case <-s.ctx.Done():
			s.failPending()
			return
		case <-s.wake:
		}
		for {
			batch := s.takePending()
			if len(batch) == 0 {
				break
			}
			recs := make([]storefwd.Record, len(batch))
			for i := range batch {
				recs[i] = batch[i].rec
			}
			err := s.q.Append(s.ctx, recs)
			if errors.Is(err, storefwd.ErrTooLarge) && len(batch) > 1 {
				// The batch as a whole exceeds a small queue's limit:
				// one at a time (a refused Append stores nothing).
				for _, p := range batch {
					p.done(s.appendErr(s.q.Append(s.ctx, []storefwd.Record{p.rec})))
				}
				continue
			}
			// Under RejectNew a full queue refuses the whole batch, and
			// the queue counts each of its records once in
			// Dropped.Rejected.
			err = s.appendErr(err)
			for _, p := range batch {
				p.done(err)
			}
		}
	}
}

// takePending takes up to appendRecs records and about appendBytes.
func (s *Sink) takePending() []pendingRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, size := 0, 0
	for n < len(s.pending) && n < appendRecs && (n == 0 || size < appendBytes) {
		size += len(s.pending[n].rec.Meta) + len(s.pending[n].rec.Data)
		n++
	}
	batch := slices.Clone(s.pending[:n])
	clear(s.pending[:n])
	s.pending = s.pending[n:]
	if len(s.pending) == 0 {
		s.pending = nil // let the backing array go
	}
	s.pendingLen -= size
	return batch
}

func (s *Sink) appendErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storefwd.ErrFull):
		return fmt.Errorf("sink %q: %w: %w", s.name, broker.ErrQuotaExceeded, err)
	default:
		return fmt.Errorf("sink %q: enqueue: %w", s.name, err)
	}
}

func (s *Sink) failPending() {
	s.mu.Lock()
	batch := s.pending
	s.pending, s.pendingLen = nil, 0
	s.mu.Unlock()
	for _, p := range batch {
		p.done(fmt.Errorf("sink %q: %w", s.name, ErrClosed))
	}
}
