package persist

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// The broker calls the Store with a session's lock held, on the path of
// every QoS 1/2 message to a persistent session. A Badger transaction per
// change costs about 7 µs and 40 allocations there, and an fsync per
// change would cost a hundred times more. So changes are appended to a
// bounded buffer in call order and a writer goroutine applies them in
// batches, one transaction per batch (split if Badger says it is too
// large), then syncs the log files once per batch (group commit,
// kv.DB.Sync). Commit tells the broker when a change is on disk; the
// broker holds a publisher's PUBACK/PUBREC until then.
//
// Nothing reads the database between Load* at start and Close, so a
// change that is only in the buffer is never missed by a reader; deleting
// a session's queued messages, which needs a scan, is itself an operation
// in the buffer, run by the writer in order.

// Buffer bounds: a caller that finds the buffer full waits for the writer
// to take it (the broker's publishers then slow down to the disk's pace).
const (
	maxPendingOps   = 4096
	maxPendingBytes = 8 << 20
)

type opKind uint8

const (
	opSet          opKind = iota
	opDelete              // delete key
	opDeletePrefix        // delete every key under key
)

type op struct {
	kind opKind
	key  []byte
	val  []byte
}

type commitWaiter struct {
	seq  uint64 // durable once the writer has synced this many ops
	done func(error)
}

// writer is the Store's write buffer and the goroutine that empties it.
type writer struct {
	db interface {
		Update(func(*badger.Txn) error) error
		Sync() error
		SyncWAL() error
		ValueThreshold() int64
	}
	report func(msg string, err error) // logs a failed batch

	mu      sync.Mutex
	cond    sync.Cond // signalled when ops arrive, the buffer is taken or the writer stops
	ops     []op
	bytes   int
	vlog    bool // a pending value goes to the value log
	waiters []commitWaiter
	closing bool
	running bool // the writer is applying a batch

	written atomic.Uint64 // ops appended since start
	durable atomic.Uint64 // ops applied and synced (or failed) so far

	// Figures, for tests and benchmarks.
	batches atomic.Uint64
	failed  atomic.Uint64

	stopped chan struct{}
}

func (w *writer) start() {
	w.cond.L = &w.mu
	w.stopped = make(chan struct{})
	go w.loop()
}

// add appends o to the buffer, waiting while it is full.
func (w *writer) add(o op) error {
	n := len(o.key) + len(o.val)
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closing && len(w.ops) > 0 && (len(w.ops) >= maxPendingOps || w.bytes+n > maxPendingBytes) {
		w.cond.Wait()
	}
	if w.closing {
		return ErrClosed
	}
	w.ops = append(w.ops, o)
	w.bytes += n
	if int64(len(o.val)) > w.db.ValueThreshold() {
		w.vlog = true
	}
	w.written.Add(1)
	w.cond.Broadcast()
	return nil
}

// uncommitted reports whether some change made before the call is not yet
// durable.
func (w *writer) uncommitted() bool { return w.durable.Load() != w.written.Load() }

// commit calls done once every change made before the call is durable (or
// its batch failed: done gets the error).
func (w *writer) commit(done func(error)) {
	w.mu.Lock()
	seq := w.written.Load()
	if w.durable.Load() >= seq {
		w.mu.Unlock()
		done(nil)
		return
	}
	if w.closing && !w.running && len(w.ops) == 0 {
		w.mu.Unlock()
		done(ErrClosed)
		return
	}
	w.waiters = append(w.waiters, commitWaiter{seq: seq, done: done})
	w.mu.Unlock()
}

// flush waits until every change made before the call is durable.
func (w *writer) flush() error {
	ch := make(chan error, 1)
	w.commit(func(err error) { ch <- err })
	return <-ch
}

// close applies what is buffered and stops the writer.
func (w *writer) close() {
	w.mu.Lock()
	w.closing = true
	w.cond.Broadcast()
	w.mu.Unlock()
	<-w.stopped
}

func (w *writer) loop() {
	defer close(w.stopped)
	var spare []op
	for {
		w.mu.Lock()
		for len(w.ops) == 0 && !w.closing {
			w.cond.Wait()
		}
		if len(w.ops) == 0 {
			// Closing with nothing left: nobody can add any more.
			waiters := w.waiters
			w.waiters = nil
			w.mu.Unlock()
			for _, c := range waiters {
				c.done(nil)
			}
			return
		}
		ops, vlog, upto := w.ops, w.vlog, w.written.Load()
		w.ops, w.bytes, w.vlog, w.running = spare[:0], 0, false, true
		w.cond.Broadcast() // room for the callers waiting in add
		w.mu.Unlock()

		err := w.apply(ops)
		if err == nil {
			if vlog {
				err = w.db.Sync()
			} else {
				err = w.db.SyncWAL()
			}
		}
		w.batches.Add(1)
		if err != nil {
			w.failed.Add(1)
			w.report("write batch", err)
		}
		clear(ops)
		spare = ops[:0]

		w.mu.Lock()
		w.running = false
		w.durable.Store(upto)
		n := 0
		for n < len(w.waiters) && w.waiters[n].seq <= upto {
			n++
		}
		ready := append([]commitWaiter(nil), w.waiters[:n]...)
		w.waiters = append(w.waiters[:0], w.waiters[n:]...)
		w.mu.Unlock()
		for _, c := range ready {
			c.done(err)
		}
	}
}

// apply writes ops in order, in as few transactions as Badger allows: a
// run of sets and deletes goes in one transaction (halved while Badger
// finds it too big); a prefix deletion, whose scan must see the writes
// before it, goes in its own.
func (w *writer) apply(ops []op) error {
	for len(ops) > 0 {
		if ops[0].kind == opDeletePrefix {
			if err := w.deletePrefix(ops[0].key); err != nil {
				return err
			}
			ops = ops[1:]
			continue
		}
		n := 1
		for n < len(ops) && ops[n].kind != opDeletePrefix {
			n++
		}
		for {
			part := ops[:n]
			err := w.db.Update(func(txn *badger.Txn) error {
				for _, o := range part {
					if err := applyOne(txn, o); err != nil {
						return err
					}
				}
				return nil
			})
			if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
				n /= 2
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		ops = ops[n:]
	}
	return nil
}

func applyOne(txn *badger.Txn, o op) error {
	switch o.kind {
	case opSet:
		return txn.Set(o.key, o.val)
	default:
		return txn.Delete(o.key)
	}
}

// deletePrefix deletes every key under prefix, a thousand per
// transaction so that a long queue does not make one too large.
func (w *writer) deletePrefix(prefix []byte) error {
	for {
		n := 0
		err := w.db.Update(func(txn *badger.Txn) error {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = prefix
			opts.PrefetchValues = false
			it := txn.NewIterator(opts)
			var keys [][]byte
			for it.Rewind(); it.Valid() && len(keys) < 1000; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete %q...: %w", prefix, err)
		}
		if n < 1000 {
			return nil
		}
	}
}
