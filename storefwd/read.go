package storefwd

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	badger "github.com/dgraph-io/badger/v4"
)

// ackSet marks acknowledged sequence numbers in [head, head+size), a ring
// of size bits (a power of two at least the window).
type ackSet struct {
	words []uint64
	mask  uint64
}

func (a *ackSet) init(window int) {
	size := uint64(1) << bits.Len(uint(window-1))
	size = max(size, 64)
	a.words = make([]uint64, size/64)
	a.mask = size - 1
}

func (a *ackSet) size() uint64 { return a.mask + 1 }

func (a *ackSet) has(s uint64) bool {
	i := s & a.mask
	return a.words[i/64]&(1<<(i%64)) != 0
}

func (a *ackSet) set(s uint64) {
	i := s & a.mask
	a.words[i/64] |= 1 << (i % 64)
}

func (a *ackSet) clear(s uint64) {
	i := s & a.mask
	a.words[i/64] &^= 1 << (i % 64)
}

func (a *ackSet) clearAll() { clear(a.words) }

// Next returns the next record, waiting until one is appended and the
// window has room (fewer than Window records between the oldest
// unacknowledged record and the next one). Records come in sequence order;
// after Rewind, or after the queue is reopened, the unacknowledged ones
// come again. The record's slices must not be modified.
func (q *Queue) Next(ctx context.Context) (Record, error) {
	for {
		rec, ok, wait, err := q.next()
		switch {
		case err != nil:
			return Record{}, err
		case ok:
			return rec, nil
		case wait == nil:
			continue // loaded something; look again
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return Record{}, fmt.Errorf("storefwd: next from %q: %w", q.name, ctx.Err())
		}
	}
}

// TryNext is Next without waiting: ok is false when no record is available
// or the window is full.
func (q *Queue) TryNext() (rec Record, ok bool, err error) {
	for {
		rec, ok, wait, err := q.next()
		if err != nil || ok || wait != nil {
			return rec, ok, err
		}
	}
}

// TryNextBatch is TryNext for up to limit records at once: it appends to
// dst the records that Next would return one after another without
// waiting, in order, and returns the extended slice. When it appends none,
// wait is a channel that is closed at the queue's next change (records
// committed or acknowledged, a Rewind, Close): wait on it, then try
// again. The records' slices must not be modified.
func (q *Queue) TryNextBatch(dst []Record, limit int) (recs []Record, wait <-chan struct{}, err error) {
	n := len(dst)
	for len(dst)-n < limit {
		dst, wait, err = q.nextBatch(dst, limit-(len(dst)-n))
		switch {
		case err != nil:
			return dst, nil, err
		case wait != nil && len(dst) == n:
			return dst, wait, nil
		case wait != nil:
			return dst, nil, nil // no more without waiting
		}
	}
	return dst, nil, nil
}

// next takes one step of Next: it returns a record, or a channel to wait
// on, or neither after it has loaded a block or descriptors.
func (q *Queue) next() (Record, bool, <-chan struct{}, error) {
	var one [1]Record
	recs, wait, err := q.nextBatch(one[:0], 1)
	if len(recs) == 1 {
		return recs[0], true, nil, nil
	}
	return Record{}, false, wait, err
}

// nextBatch takes one step of TryNextBatch: it appends up to limit
// records to dst, and returns a channel to wait on when it stopped for
// want of records or room in the window; it returns neither records nor a
// channel after it has loaded a block or descriptors.
func (q *Queue) nextBatch(dst []Record, limit int) ([]Record, <-chan struct{}, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return dst, nil, fmt.Errorf("storefwd: next from %q: %w", q.name, ErrClosed)
	}
	window := uint64(q.opts.Window)
	n := len(dst)
	end := q.delivered // after the last record appended
	var wait <-chan struct{}
	for len(dst)-n < limit {
		q.readPos = max(q.readPos, q.head)
		if q.readPos >= q.committed || q.readPos-q.head >= window {
			wait = q.changed
			break
		}
		if q.acked.has(q.readPos) { // acknowledged before a Rewind
			q.readPos++
			continue
		}
		if c := q.cur; c != nil && c.desc.first <= q.readPos && q.readPos < c.desc.end() {
			dst = append(dst, c.recs[q.readPos-c.desc.first])
			q.readPos++
			end = q.readPos
			continue
		}
		if len(dst) > n {
			break // hand out these before loading more
		}
		i := q.front.find(q.readPos)
		if i == q.front.len() {
			if q.front.complete {
				// No block holds the rest: a gap left by damage.
				q.readPos = q.committed
				continue
			}
			q.mu.Unlock()
			if err := q.refill(); err != nil {
				return dst, nil, fmt.Errorf("storefwd: next from %q: %w", q.name, err)
			}
			return dst, nil, nil
		}
		d := *q.front.at(i)
		if d.first > q.readPos {
			q.readPos = d.first // a gap left by damage
			continue
		}
		if d.bad {
			q.readPos = d.end()
			continue
		}
		var recs []Record
		var err error
		if t := q.tail; t != nil && t.desc.first == d.first && t.desc.count == d.count {
			q.tail = nil // q.cur takes over
			q.mu.Unlock()
			recs, err = decodeRecords(d, t.time, t.plain)
		} else {
			q.mu.Unlock()
			recs, err = q.readBlock(d)
		}
		q.mu.Lock()
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			// Dropped meanwhile; the head has moved past it.
		case errors.Is(err, errBlock):
			q.markBadLocked(d, err)
		case err != nil:
			q.mu.Unlock()
			return dst, nil, fmt.Errorf("storefwd: next from %q: %w", q.name, err)
		case d.end() > q.head:
			q.cur = &readBlock{desc: d, recs: recs}
		}
		q.mu.Unlock()
		return dst, nil, nil
	}
	q.delivered = max(q.delivered, end)
	q.mu.Unlock()
	return dst, wait, nil
}

// readBlock reads and decodes the block d describes.
func (q *Queue) readBlock(d blockDesc) ([]Record, error) {
	var v []byte
	err := q.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(q.prefix, d))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return decodeBlock(d, v)
}

// markBadLocked skips the records of a block whose value is damaged and
// counts them as dropped.
func (q *Queue) markBadLocked(d blockDesc, err error) {
	i := q.front.find(d.first)
	if i == q.front.len() || q.front.at(i).first != d.first || q.front.at(i).bad {
		return
	}
	q.front.at(i).bad = true
	var lost uint64
	for s := max(q.head, d.first); s < d.end(); s++ {
		if s-q.head < q.acked.size() && q.acked.has(s) {
			continue // acknowledged before the damage was found
		}
		lost++
	}
	q.records -= int64(lost)
	q.drops.Corrupt += lost
	q.log.Error("skipping damaged block", "first", d.first, "records", d.count, "lost", lost, "err", err)
	q.advanceLocked()
	q.notifyLocked()
}

// refill loads more block descriptors from the keys.
func (q *Queue) refill() error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	return q.refillHeld()
}

// refillHeld is refill with q.wmu held (so that no commit runs).
func (q *Queue) refillHeld() error {
	q.mu.Lock()
	if q.front.complete {
		q.mu.Unlock()
		return nil
	}
	from, room := q.front.endSeq, q.front.room()
	q.mu.Unlock()
	var loaded []blockDesc
	atEnd := true
	err := q.scan(from, func(d blockDesc, _ []byte) bool {
		if len(loaded) >= room {
			atEnd = false
			return false
		}
		loaded = append(loaded, d)
		return true
	})
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range loaded {
		if d.first >= q.front.endSeq && d.end() > q.head {
			q.front.push(d)
		}
	}
	if atEnd {
		q.front.complete = true
		q.front.endSeq = q.committed
	}
	q.advanceLocked()
	return nil
}

// Ack acknowledges the record seq: it will not be read again, and its
// block is deleted once every record before it is acknowledged too. Acks
// may come in any order. Acknowledging a record twice, or one that was
// dropped, does nothing; one not yet handed out by Next fails with
// ErrNotDelivered.
func (q *Queue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("storefwd: ack %d in %q: %w", seq, q.name, ErrClosed)
	}
	if err := q.ackLocked(seq); err != nil {
		return err
	}
	q.afterAckLocked()
	return nil
}

// AckBatch acknowledges the records seqs, in any order, as Ack does one
// by one, but under one lock and with one wake-up of the readers. It
// acknowledges every record it can and returns the first error.
func (q *Queue) AckBatch(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("storefwd: ack %d records in %q: %w", len(seqs), q.name, ErrClosed)
	}
	var first error
	for _, seq := range seqs {
		if err := q.ackLocked(seq); err != nil && first == nil {
			first = err
		}
	}
	q.afterAckLocked()
	return first
}

// ackLocked marks seq acknowledged and moves the head past it if it was
// the oldest; afterAckLocked then wakes the readers.
func (q *Queue) ackLocked(seq uint64) error {
	if seq < q.head {
		return nil
	}
	if seq >= q.delivered {
		return fmt.Errorf("storefwd: ack %d in %q: %w", seq, q.name, ErrNotDelivered)
	}
	if q.acked.has(seq) {
		return nil
	}
	if c := q.cur; c == nil || seq < c.desc.first || seq >= c.desc.end() {
		if i := q.front.find(seq); i == q.front.len() || q.front.at(i).first > seq || q.front.at(i).bad {
			return nil // in a gap or a damaged block: already counted as dropped
		}
	}
	q.acked.set(seq)
	q.records--
	q.ackCount++
	if seq == q.head {
		q.advanceLocked()
		q.headMoved = true
	}
	return nil
}

// afterAckLocked wakes the readers if acknowledgements moved the head
// (the window has room), and the committer if many blocks wait for
// deletion.
func (q *Queue) afterAckLocked() {
	if !q.headMoved {
		return
	}
	q.headMoved = false
	q.notifyLocked()
	if len(q.toDelete) >= 64 {
		q.kickCommitter()
	}
}

// Rewind makes Next start again from the oldest unacknowledged record
// (skipping the acknowledged ones): for a consumer that lost the records
// it had in flight, such as a bridge whose uplink reconnected.
func (q *Queue) Rewind() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.readPos = q.head
	q.cur = nil
	q.notifyAppendedLocked()
}

func (q *Queue) kickCommitter() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// jumpHeadLocked moves the head forward to seq, forgetting the acks below.
func (q *Queue) jumpHeadLocked(seq uint64) {
	if seq <= q.head {
		return
	}
	if seq-q.head >= q.acked.size() {
		q.acked.clearAll()
	} else {
		for s := q.head; s < seq; s++ {
			q.acked.clear(s)
		}
	}
	q.head = seq
	q.readPos = max(q.readPos, seq)
	q.delivered = max(q.delivered, seq)
	if q.cur != nil && q.cur.desc.end() <= seq {
		q.cur = nil
	}
}

// advanceLocked moves the head past acknowledged records, gaps and damaged
// blocks, and queues the blocks it passes for deletion.
func (q *Queue) advanceLocked() {
	for {
		if q.front.len() == 0 {
			if q.front.complete {
				q.jumpHeadLocked(q.committed)
			}
			return
		}
		d := q.front.at(0)
		switch {
		case q.head >= d.end():
			q.passLocked(q.front.pop())
		case q.head < d.first:
			q.jumpHeadLocked(d.first)
		case d.bad:
			q.jumpHeadLocked(d.end())
		case q.acked.has(q.head):
			q.acked.clear(q.head)
			q.head++
			q.readPos = max(q.readPos, q.head)
			q.delivered = max(q.delivered, q.head)
		default:
			return
		}
	}
}

// passLocked queues a block the head has passed for deletion.
func (q *Queue) passLocked(d blockDesc) {
	q.toDelete = append(q.toDelete, blockKey(q.prefix, d))
	q.delBytes += int64(d.bytes)
	q.bytes -= int64(d.bytes)
	if q.cur != nil && q.cur.desc.first == d.first {
		q.cur = nil
	}
	if q.tail != nil && q.tail.desc.first == d.first {
		q.tail = nil
	}
}

// dropFrontLocked drops the oldest block for reason, counting its records
// that were neither acknowledged nor dropped already.
func (q *Queue) dropFrontLocked(reason *uint64) {
	d := q.front.pop()
	var lost uint64
	if !d.bad {
		for s := max(q.head, d.first); s < d.end(); s++ {
			if s-q.head < q.acked.size() && q.acked.has(s) {
				continue
			}
			lost++
		}
	}
	q.records -= int64(lost)
	*reason += lost
	q.passLocked(d)
	q.jumpHeadLocked(d.end())
	q.advanceLocked()
}
