package storefwd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Group commit
//
// Append puts its records in a bounded channel and waits. The committer
// goroutine takes every request waiting (up to GroupRequests and about
// maxGroupBytes), applies the limits, packs the records into blocks,
// writes the blocks, the deletions of blocks the head has passed and the
// head itself in one Badger transaction (several if it is too big for
// one), syncs once, and then wakes all the appenders of the group. The
// sync is kv.DB.SyncWAL when every value is short enough to stay inline in
// the write-ahead log, kv.DB.Sync otherwise.
//
// Transactions are written in order: the state and the deletions first,
// then the blocks. A crash between them leaves blocks that no Append
// reported (the unreported tail), never a gap or a reused sequence number.

const (
	maxGroupBytes  = 16 << 20
	maintainEvery  = 250 * time.Millisecond // deletions, head, MaxAge
	reqQueued      = 0
	reqTaken       = 1
	reqAbandoned   = 2
	reclaimOnEmpty = 1 << 20 // ask for a reclaim when drained after deleting this much
)

type appendReq struct {
	recs  []Record
	bytes int64
	state atomic.Int32
	done  chan struct{} // capacity 1

	// set by the committer before done
	first uint64
	at    time.Time
	err   error
}

var reqPool = sync.Pool{New: func() any { return &appendReq{done: make(chan struct{}, 1)} }}

// Append stores recs at the tail of the queue and returns once they are
// durable (fsynced). On success it sets recs[i].Seq and recs[i].Time.
// Concurrent Appends share one sync. The records are copied; recs may be
// reused after Append returns.
//
// When the queue is at a limit, DropOldest drops old blocks to make room
// and RejectNew fails with ErrFull (storing nothing of recs). If ctx ends
// while recs wait for the committer, Append returns ctx's error and
// nothing is stored; once the committer has taken them Append waits for
// the commit.
func (q *Queue) Append(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	var total int64
	for i := range recs {
		n := len(recs[i].Data) + len(recs[i].Meta)
		if n > q.opts.MaxRecordBytes {
			return fmt.Errorf("storefwd: append to %q: record %d has %d bytes, limit %d: %w", q.name, i, n, q.opts.MaxRecordBytes, ErrTooLarge)
		}
		total += int64(n)
	}
	if total > q.opts.MaxBytes || total > maxAppendBytes || (q.opts.MaxRecords > 0 && int64(len(recs)) > q.opts.MaxRecords) {
		return fmt.Errorf("storefwd: append to %q: %d records, %d bytes exceed the queue's limits: %w", q.name, len(recs), total, ErrTooLarge)
	}
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return fmt.Errorf("storefwd: append to %q: %w", q.name, ErrClosed)
	}
	r := reqPool.Get().(*appendReq)
	r.recs, r.bytes, r.err = recs, total, nil
	r.state.Store(reqQueued)
	select {
	case q.reqs <- r:
	case <-ctx.Done():
		r.recs = nil
		reqPool.Put(r)
		return fmt.Errorf("storefwd: append to %q: %w", q.name, ctx.Err())
	case <-q.quit:
		r.recs = nil
		reqPool.Put(r)
		return fmt.Errorf("storefwd: append to %q: %w", q.name, ErrClosed)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			// The committer will skip it; it still holds r, so r is not
			// returned to the pool.
			return fmt.Errorf("storefwd: append to %q: %w", q.name, ctx.Err())
		}
		<-r.done
	case <-q.done:
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return fmt.Errorf("storefwd: append to %q: %w", q.name, ErrClosed)
		}
		<-r.done
	}
	err, first, at := r.err, r.first, r.at
	r.recs = nil
	reqPool.Put(r)
	if err != nil {
		return err
	}
	for i := range recs {
		recs[i].Seq = first + uint64(i)
		recs[i].Time = at
	}
	return nil
}

// committer is the queue's writer goroutine. It returns when quit is
// closed, after committing the requests already queued and persisting the
// head.
func (q *Queue) committer() {
	defer close(q.done)
	defer q.unclaim()
	tick := time.NewTicker(maintainEvery)
	defer tick.Stop()
	for {
		select {
		case r := <-q.reqs:
			q.commitGroup(q.gather(r))
		case <-q.kick:
			q.maintain()
		case <-tick.C:
			q.maintain()
		case <-q.quit:
			for {
				select {
				case r := <-q.reqs:
					q.commitGroup(q.gather(r))
					continue
				default:
				}
				break
			}
			if err := q.maintain(); err != nil {
				q.closeErr = fmt.Errorf("storefwd: close %q: %w", q.name, err)
			}
			return
		}
	}
}

// gather takes the requests waiting behind r. The appenders of the
// previous group were woken a moment ago and are re-appending; if fewer
// than that group's size are queued, it yields a few times so that they
// join this group rather than leave half of them for the next sync.
func (q *Queue) gather(r *appendReq) []*appendReq {
	for i := 0; i < 128 && len(q.reqs)+1 < q.lastGroup; i++ {
		runtime.Gosched()
	}
	group := []*appendReq{r}
	size := r.bytes
	for len(group) < q.opts.GroupRequests && size < maxGroupBytes {
		select {
		case r := <-q.reqs:
			group = append(group, r)
			size += r.bytes
		default:
			q.lastGroup = len(group)
			return group
		}
	}
	q.lastGroup = len(group)
	return group
}

// entry is one write of a commit.
type entry struct {
	key   []byte
	value []byte // nil: delete
	desc  blockDesc
	block bool
}

// commitGroup commits a group of Append requests.
func (q *Queue) commitGroup(group []*appendReq) {
	live := group[:0]
	for _, r := range group {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			live = append(live, r)
		}
	}
	for len(live) > 0 {
		live = q.commitSome(live)
	}
}

// commitSome commits a prefix of reqs and returns the rest: a request
// that needs room held by blocks of the same group waits for the next
// round.
func (q *Queue) commitSome(reqs []*appendReq) (rest []*appendReq) {
	q.wmu.Lock()
	now := q.opts.Now()
	q.mu.Lock()
	q.expireLocked(now)
	var (
		accepted []*appendReq
		rejected []*appendReq
		pBytes   int64
		pRecs    int64
	)
	for i, r := range reqs {
		n := int64(len(r.recs))
		fits := func() bool {
			return q.bytes+pBytes+r.bytes <= q.opts.MaxBytes &&
				(q.opts.MaxRecords == 0 || q.records+pRecs+n <= q.opts.MaxRecords)
		}
		if !fits() && q.opts.WhenFull == RejectNew {
			r.err = fmt.Errorf("storefwd: append to %q: %w", q.name, ErrFull)
			q.drops.Rejected += uint64(n)
			rejected = append(rejected, r)
			continue
		}
		for !fits() {
			if q.front.len() == 0 {
				if q.front.complete {
					break
				}
				q.mu.Unlock()
				err := q.refillHeld()
				q.mu.Lock()
				if err != nil {
					q.log.Error("loading block descriptors", "err", err)
					break
				}
				continue
			}
			if q.bytes+pBytes+r.bytes > q.opts.MaxBytes {
				q.dropFrontLocked(&q.drops.Bytes)
			} else {
				q.dropFrontLocked(&q.drops.Count)
			}
		}
		if !fits() {
			if len(accepted) > 0 {
				rest = reqs[i:]
				break
			}
			// Cannot happen: Append checked r against the limits and
			// the queue is empty. Refuse rather than exceed them.
			r.err = fmt.Errorf("storefwd: append to %q: %w", q.name, ErrFull)
			q.drops.Rejected += uint64(n)
			rejected = append(rejected, r)
			continue
		}
		r.first, r.at = q.nextSeq, now
		q.nextSeq += uint64(n)
		pBytes += r.bytes
		pRecs += n
		accepted = append(accepted, r)
	}
	dels, delBytes := q.toDelete, q.delBytes
	q.toDelete, q.delBytes = nil, 0
	head, next := q.head, q.nextSeq
	// A reader that has caught up will read the new blocks next: keep the
	// last one in memory for it.
	keepTail := q.readPos >= q.committed
	q.mu.Unlock()

	ents := make([]entry, 0, len(dels)+len(accepted)+1)
	hasState := head != q.savedHead || len(dels) > 0
	if hasState {
		ents = append(ents, entry{key: q.sKey, value: encodeState(head, next)})
	}
	for _, k := range dels {
		ents = append(ents, entry{key: k})
	}
	nDel := len(ents)
	ents, vlog, tail := q.pack(ents, accepted, now, keepTail)
	done, werr := q.write(ents)

	// Publish what was written.
	q.mu.Lock()
	written := q.committed
	for _, e := range ents[:done] {
		if !e.block {
			continue
		}
		written = e.desc.end()
		if q.front.complete && q.front.room() > 0 {
			q.front.push(e.desc)
		} else {
			q.front.complete = false
		}
		q.records += int64(e.desc.count)
		q.bytes += int64(e.desc.bytes)
	}
	if tail != nil && done == len(ents) {
		q.tail = tail
	}
	if hasState && done > 0 {
		q.savedHead = head
	}
	q.reclaim += delBytes
	if done < nDel { // deletions not written: keep them for later
		for _, e := range ents[max(done, nDel-len(dels)):nDel] {
			q.toDelete = append(q.toDelete, e.key)
		}
		q.delBytes += delBytes
		q.reclaim -= delBytes
	}
	for _, r := range accepted {
		if end := r.first + uint64(len(r.recs)); end <= written {
			q.appended += uint64(len(r.recs))
			q.appBytes += uint64(r.bytes)
		}
	}
	q.committed = written
	q.nextSeq = written // drop sequence numbers of what was not written
	if done > nDel {
		q.notifyAppendedLocked()
	}
	q.maybeReclaimLocked()
	q.mu.Unlock()
	q.wmu.Unlock()

	var serr error
	if done > nDel {
		if vlog {
			serr = q.db.Sync()
		} else {
			serr = q.db.SyncWAL()
		}
	}
	for _, r := range accepted {
		switch {
		case r.first+uint64(len(r.recs)) > written:
			r.err = fmt.Errorf("storefwd: append to %q: %w", q.name, werr)
		case serr != nil:
			r.err = fmt.Errorf("storefwd: append to %q: %w", q.name, serr)
		}
		r.done <- struct{}{}
	}
	for _, r := range rejected {
		r.done <- struct{}{}
	}
	return rest
}

// pack appends the blocks of reqs to ents. vlog reports whether a block
// is long enough to go to the value log. With keepTail it returns the
// last block's body too (unless it is too large to keep).
func (q *Queue) pack(ents []entry, reqs []*appendReq, now time.Time, keepTail bool) (_ []entry, vlog bool, tail *tailBlock) {
	if len(reqs) == 0 {
		return ents, false, nil
	}
	b := &q.builder
	seq := reqs[0].first
	first := seq
	threshold := q.db.ValueThreshold()
	flush := func() {
		v := b.finish()
		d := blockDesc{first: first, count: uint32(b.count), bytes: uint32(b.bytes), milli: now.UnixMilli()}
		ents = append(ents, entry{key: blockKey(q.prefix, d), value: v, desc: d, block: true})
		vlog = vlog || int64(len(v)) >= threshold
		first = seq
	}
	b.reset(now, min(q.opts.BlockBytes, 1<<20)+64)
	for _, r := range reqs {
		for i := range r.recs {
			rec := &r.recs[i]
			if b.count > 0 && b.encodedLen(recordSize(rec), 1) > q.opts.BlockBytes {
				flush()
				b.reset(now, 0)
			}
			b.add(rec)
			seq++
		}
	}
	flush()
	if keepTail && b.plain != nil {
		d := ents[len(ents)-1].desc
		tail = &tailBlock{desc: d, time: time.Unix(0, now.UnixNano()), plain: bytes.Clone(b.plain)}
	}
	return ents, vlog, tail
}

// write writes ents in as few transactions as fit, in order. It returns
// how many were written.
func (q *Queue) write(ents []entry) (int, error) {
	done := 0
	for done < len(ents) {
		var n int
		err := q.db.Update(func(txn *badger.Txn) error {
			n = 0
			for _, e := range ents[done:] {
				var err error
				if e.value == nil {
					err = txn.Delete(e.key)
				} else {
					err = txn.Set(e.key, e.value)
				}
				if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
					return nil // commit what fits; the rest goes in the next one
				}
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// maintain runs between commits: it applies MaxAge, deletes the blocks the
// head has passed, persists the head and loads descriptors when few are
// left. Nothing here is synced: a lost deletion means records are read
// again, which at-least-once delivery allows.
func (q *Queue) maintain() error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	now := q.opts.Now()
	q.mu.Lock()
	q.expireLocked(now)
	needLoad := !q.front.complete && q.front.len() < q.front.capacity/4
	q.mu.Unlock()
	if needLoad {
		if err := q.refillHeld(); err != nil {
			q.log.Error("loading block descriptors", "err", err)
		}
	}
	q.mu.Lock()
	dels, delBytes := q.toDelete, q.delBytes
	q.toDelete, q.delBytes = nil, 0
	head, next := q.head, q.nextSeq
	q.mu.Unlock()
	if head == q.savedHead && len(dels) == 0 {
		return nil
	}
	ents := make([]entry, 0, len(dels)+1)
	ents = append(ents, entry{key: q.sKey, value: encodeState(head, next)})
	for _, k := range dels {
		ents = append(ents, entry{key: k})
	}
	done, err := q.write(ents)
	q.mu.Lock()
	defer q.mu.Unlock()
	if done > 0 {
		q.savedHead = head
	}
	if done < len(ents) {
		for _, e := range ents[max(done, 1):] {
			q.toDelete = append(q.toDelete, e.key)
		}
		q.delBytes += delBytes
	} else {
		q.reclaim += delBytes
	}
	q.maybeReclaimLocked()
	if err != nil {
		q.log.Warn("deleting acknowledged blocks", "err", err)
		return err
	}
	return nil
}

// expireLocked drops the blocks older than MaxAge.
func (q *Queue) expireLocked(now time.Time) {
	if q.opts.MaxAge <= 0 {
		return
	}
	limit := now.Add(-q.opts.MaxAge).UnixMilli()
	for q.front.len() > 0 && q.front.at(0).milli < limit {
		q.dropFrontLocked(&q.drops.Age)
	}
}

// maybeReclaimLocked asks the database to reclaim disk space after the
// queue has deleted a lot, or has drained.
func (q *Queue) maybeReclaimLocked() {
	if q.reclaim >= q.opts.ReclaimBytes || (q.records == 0 && q.reclaim >= reclaimOnEmpty) {
		q.reclaim = 0
		q.db.RequestReclaim()
	}
}
