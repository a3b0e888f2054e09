package storefwd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/edgemq/edgemq/internal/kv"
)

// Errors returned by the queue. They are wrapped with context; test with
// errors.Is.
var (
	// ErrClosed is returned by calls on a closed queue.
	ErrClosed = errors.New("storefwd: queue closed")
	// ErrFull is returned by Append when the queue is at a limit and its
	// policy is RejectNew. Nothing of that Append was stored. The bridge
	// maps it to MQTT "quota exceeded".
	ErrFull = errors.New("storefwd: queue full")
	// ErrTooLarge is returned by Append for a record larger than
	// MaxRecordBytes, or a batch that could never fit the limits.
	ErrTooLarge = errors.New("storefwd: record too large")
	// ErrNotDelivered is returned by Ack for a sequence number that Next
	// has not handed out yet.
	ErrNotDelivered = errors.New("storefwd: sequence number not delivered")
	// ErrCorrupt is returned by Open when the queue's keys cannot be
	// parsed. A block whose value is damaged is skipped when read and
	// counted in Drops.Corrupt instead.
	ErrCorrupt = errors.New("storefwd: corrupt queue")
	// ErrInvalid is returned by Open for an invalid name or options.
	ErrInvalid = errors.New("storefwd: invalid queue options")
)

// Record is one queued item: opaque bytes and small metadata.
type Record struct {
	// Seq identifies the record for Ack. Append sets it; it grows by one
	// per record and is never reused by a queue.
	Seq uint64
	// Time is when the record was committed. Append sets it.
	Time time.Time
	// Meta is small application metadata (for the bridge: topic, QoS,
	// properties).
	Meta []byte
	// Data is the payload.
	Data []byte
}

// Policy says what Append does when the queue is at a limit.
type Policy int

const (
	// DropOldest drops the oldest blocks of records to make room (default).
	DropOldest Policy = iota
	// RejectNew fails the Append with ErrFull.
	RejectNew
)

// String returns the configuration name of p.
func (p Policy) String() string {
	switch p {
	case DropOldest:
		return "drop_oldest"
	case RejectNew:
		return "reject_new"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy parses "drop_oldest" (or "") and "reject_new".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "drop_oldest":
		return DropOldest, nil
	case "reject_new":
		return RejectNew, nil
	}
	return 0, fmt.Errorf("storefwd: unknown policy %q (want drop_oldest or reject_new): %w", s, ErrInvalid)
}

// Limits bound a queue.
type Limits struct {
	// MaxBytes bounds the payload bytes (len(Data)+len(Meta)) held by the
	// queue. Required.
	MaxBytes int64
	// MaxRecords bounds the records held; 0 means no limit.
	MaxRecords int64
	// MaxAge drops records older than this; 0 means no limit. It is
	// enforced when records are appended and every 250 ms.
	MaxAge time.Duration
	// WhenFull is the policy at MaxBytes or MaxRecords.
	WhenFull Policy
}

// minFrontCapacity is the least number of block descriptors kept in
// memory (a variable so that tests can make it small).
var minFrontCapacity = 4096

// Defaults of Options.
const (
	DefaultWindow         = 64
	DefaultMaxRecordBytes = 1 << 20
	DefaultBlockBytes     = 64 << 10
	DefaultGroupRequests  = 1024
	maxWindow             = 1 << 16
	maxAppendBytes        = 64 << 20
)

// Options configure a queue. Zero values mean the defaults.
type Options struct {
	Limits
	// Window is how many records Next hands out beyond the oldest
	// unacknowledged one (default 64).
	Window int
	// MaxRecordBytes bounds len(Data)+len(Meta) of one record (default
	// 1 MiB; at most 16 MiB).
	MaxRecordBytes int
	// BlockBytes is the target size of a block: records committed together
	// are packed into blocks of about this size, and a block is the unit of
	// dropping (default 64 KiB).
	BlockBytes int
	// GroupRequests bounds how many waiting Append calls one commit takes
	// (default 1024). 1 turns group commit off: one sync per Append.
	GroupRequests int
	// ReclaimBytes: after deleting this many payload bytes the queue asks
	// the database for a reclaim (default 32 MiB).
	ReclaimBytes int64
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now); tests set it to test MaxAge.
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.MaxBytes <= 0 {
		return fmt.Errorf("storefwd: MaxBytes must be positive: %w", ErrInvalid)
	}
	if o.MaxRecords < 0 || o.MaxAge < 0 {
		return fmt.Errorf("storefwd: negative limit: %w", ErrInvalid)
	}
	if o.WhenFull != DropOldest && o.WhenFull != RejectNew {
		return fmt.Errorf("storefwd: unknown policy %d: %w", o.WhenFull, ErrInvalid)
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Window > maxWindow {
		return fmt.Errorf("storefwd: Window %d above %d: %w", o.Window, maxWindow, ErrInvalid)
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxRecordBytes > 16<<20 {
		return fmt.Errorf("storefwd: MaxRecordBytes %d above 16 MiB: %w", o.MaxRecordBytes, ErrInvalid)
	}
	if o.BlockBytes <= 0 {
		o.BlockBytes = DefaultBlockBytes
	}
	if o.GroupRequests <= 0 {
		o.GroupRequests = DefaultGroupRequests
	}
	if o.ReclaimBytes <= 0 {
		o.ReclaimBytes = 32 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Drops counts records dropped, by reason.
type Drops struct {
	Bytes    uint64 // dropped by DropOldest at MaxBytes
	Count    uint64 // dropped by DropOldest at MaxRecords
	Age      uint64 // older than MaxAge
	Rejected uint64 // refused by RejectNew (never stored)
	Corrupt  uint64 // in a block that failed its checksum when read
}

// Total is the sum of all reasons.
func (d Drops) Total() uint64 { return d.Bytes + d.Count + d.Age + d.Rejected + d.Corrupt }

// Stats is a snapshot of a queue's metrics. Counters count since Open.
type Stats struct {
	Records       int64         // depth: records not yet acknowledged or dropped
	Bytes         int64         // payload bytes of the blocks still held
	OldestAge     time.Duration // age of the oldest held block; 0 when empty
	Appended      uint64        // records appended
	AppendedBytes uint64        // payload bytes appended
	Acked         uint64        // records acknowledged
	Dropped       Drops         // records dropped, by reason
	DiskBytes     int64         // disk used by the whole database (all queues)
}

// Queue is a durable FIFO of records in a kv database. Append, Next,
// TryNext, Ack, Rewind and Stats are safe for concurrent use; records are
// meant for one consumer.
//
// Lock order: wmu before mu. wmu serializes the writes of this queue's
// keys and the loading of block descriptors; mu guards the state below it.
type Queue struct {
	db      *kv.DB
	bdb     *badger.DB
	name    string
	opts    Options
	log     *slog.Logger
	prefix  []byte
	sKey    []byte
	unclaim func()

	reqs chan *appendReq // bounded: Append blocks when it is full
	kick chan struct{}   // capacity 1: wakes the committer for maintenance
	quit chan struct{}   // closed by Close
	done chan struct{}   // closed when the committer returns

	closeOnce sync.Once
	closeErr  error

	// committer-only
	nextSeq   uint64 // next sequence number to assign
	builder   blockBuilder
	lastGroup int // requests in the last group

	wmu sync.Mutex

	mu        sync.Mutex
	closed    bool
	changed   chan struct{} // closed and replaced when records or acks change
	appendCh  chan struct{} // closed and replaced when records are committed
	committed uint64        // records below it are readable
	head      uint64        // oldest record not acknowledged or dropped
	readPos   uint64        // next record Next considers
	delivered uint64        // high-water mark of handed-out records (exclusive)
	acked     ackSet        // acknowledged records in [head, head+Window)
	front     front         // descriptors of the blocks from head on
	cur       *readBlock    // the block Next reads from
	tail      *tailBlock    // the last block committed, for a reader that has caught up
	toDelete  [][]byte      // keys of blocks passed by head, to delete
	headMoved bool          // an Ack moved head; not yet notified
	delBytes  int64         // payload bytes of toDelete
	savedHead uint64        // head as last persisted
	records   int64
	bytes     int64
	reclaim   int64 // payload bytes deleted since the last reclaim request
	appended  uint64
	appBytes  uint64
	ackCount  uint64
	drops     Drops
}

// readBlock is a decoded block that Next hands records from.
type readBlock struct {
	desc blockDesc
	recs []Record
}

// tailBlock is the body of the last block committed, kept so that a
// reader that has caught up decodes it from memory rather than reading it
// back from the database. plain is not modified once the block is
// committed.
type tailBlock struct {
	desc  blockDesc
	time  time.Time
	plain []byte
}

// Open opens the queue called name in db, creating it if it does not exist.
// name must be non-empty, at most 200 bytes and without NUL bytes. Only one
// Queue per name may be open in a db. Close it before closing db.
func Open(db *kv.DB, name string, opts Options) (*Queue, error) {
	if name == "" || len(name) > 200 || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("storefwd: queue name %q: %w", name, ErrInvalid)
	}
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("storefwd: open %q: %w", name, err)
	}
	prefix := queuePrefix(name)
	unclaim, err := db.Claim(string(prefix))
	if err != nil {
		return nil, fmt.Errorf("storefwd: open %q: %w", name, err)
	}
	q := &Queue{
		db:       db,
		bdb:      db.Badger(),
		name:     name,
		opts:     opts,
		log:      opts.Logger.With("component", "storefwd", "queue", name),
		prefix:   prefix,
		sKey:     stateKey(prefix),
		unclaim:  unclaim,
		reqs:     make(chan *appendReq, opts.GroupRequests),
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
		appendCh: make(chan struct{}),
	}
	q.acked.init(opts.Window)
	q.front.capacity = max(minFrontCapacity, 2*opts.Window+2)
	if err := q.load(); err != nil {
		unclaim()
		return nil, fmt.Errorf("storefwd: open %q in %s: %w", name, db.Dir(), err)
	}
	// The committer returns when quit is closed (Close), after it has
	// committed the Appends already queued and persisted the head.
	go q.committer()
	return q, nil
}

// load reads the state and the block keys: it counts the records and
// bytes held and loads the first descriptors.
func (q *Queue) load() error {
	var stHead, stNext uint64
	err := q.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(q.sKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			var err error
			stHead, stNext, err = decodeState(v)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	q.head, q.savedHead, q.nextSeq = stHead, stHead, stNext
	var lastEnd uint64
	err = q.scan(0, func(d blockDesc, key []byte) bool {
		if d.first < lastEnd {
			// Blocks never overlap; skip the later one rather than
			// refuse to start.
			q.log.Error("overlapping block keys, skipping", "first", d.first, "previous_end", lastEnd)
			return true
		}
		lastEnd = d.end()
		if d.end() <= stHead {
			// Passed by the head before a crash, not deleted yet.
			q.toDelete = append(q.toDelete, key)
			q.delBytes += int64(d.bytes)
			return true
		}
		q.records += int64(d.end() - max(d.first, stHead))
		q.bytes += int64(d.bytes)
		q.front.loadOne(d)
		return true
	})
	if err != nil {
		return err
	}
	q.nextSeq = max(q.nextSeq, lastEnd, q.head)
	q.committed = q.nextSeq
	if q.front.len() > 0 {
		q.head = max(q.head, q.front.at(0).first)
	} else {
		q.head = q.committed
	}
	q.front.complete = !q.front.truncated
	if q.front.complete {
		q.front.endSeq = q.committed
	}
	q.readPos, q.delivered = q.head, q.head
	return nil
}

// scan calls fn for each block key with first sequence number >= from, in
// order, until fn returns false.
func (q *Queue) scan(from uint64, fn func(d blockDesc, key []byte) bool) error {
	return q.bdb.View(func(txn *badger.Txn) error {
		io := badger.DefaultIteratorOptions
		io.PrefetchValues = false
		io.Prefix = append(append([]byte(nil), q.prefix...), tagBlock)
		it := txn.NewIterator(io)
		defer it.Close()
		for it.Seek(blockSeekKey(q.prefix, from)); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			d, err := parseBlockKey(q.prefix, key)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			if !fn(d, key) {
				return nil
			}
		}
		return nil
	})
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Stats returns a snapshot of the queue's metrics.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	s := Stats{
		Records:       q.records,
		Bytes:         q.bytes,
		Appended:      q.appended,
		AppendedBytes: q.appBytes,
		Acked:         q.ackCount,
		Dropped:       q.drops,
	}
	if q.front.len() > 0 && q.records > 0 {
		s.OldestAge = max(0, q.opts.Now().Sub(time.UnixMilli(q.front.at(0).milli)))
	}
	q.mu.Unlock()
	if n, err := q.db.DiskUsage(); err == nil {
		s.DiskBytes = n
	}
	return s
}

// Close stops the queue: Appends already waiting are committed, new ones
// and Next fail with ErrClosed, and the head is persisted. It returns
// ctx.Err() if ctx ends first (the committer then still finishes in the
// background). Close is idempotent.
func (q *Queue) Close(ctx context.Context) error {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.notifyAppendedLocked()
		q.mu.Unlock()
		close(q.quit)
	})
	select {
	case <-q.done:
		return q.closeErr
	case <-ctx.Done():
		return fmt.Errorf("storefwd: close %q: %w", q.name, ctx.Err())
	}
}

// notifyLocked wakes everything waiting for a change. q.mu must be held.
func (q *Queue) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// notifyAppendedLocked wakes everything waiting for an append (and
// everything waiting for a change). q.mu must be held.
func (q *Queue) notifyAppendedLocked() {
	close(q.appendCh)
	q.appendCh = make(chan struct{})
	q.notifyLocked()
}

// Appended returns a channel that is closed when records are next
// committed, or the queue is rewound or closed. It is for a consumer that
// reads with TryNextBatch and makes room in the window itself (its own
// Acks): take the channel, then try, and wait on it if nothing came.
func (q *Queue) Appended() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.appendCh
}
