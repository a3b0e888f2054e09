package kv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors returned by this package. Each is wrapped with the directory or
// the operation that failed; test with errors.Is.
var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("kv: database closed")
	// ErrLocked means another process (or another DB in this process) has
	// the directory open.
	ErrLocked = errors.New("kv: database directory is in use")
	// ErrForeign means the directory holds files that are not an edgemq
	// database, or a Badger database of another program.
	ErrForeign = errors.New("kv: directory is not an edgemq database")
	// ErrCorrupt means Badger could not open the database. See the package
	// documentation for the way to recover.
	ErrCorrupt = errors.New("kv: database is corrupt")
	// ErrClaimed is returned by Claim for a prefix that overlaps a prefix
	// claimed before.
	ErrClaimed = errors.New("kv: key prefix already claimed")
)

// magic is written by Badger into the MANIFEST; a database of another
// program (magic 0) is refused with ErrForeign.
const magic uint16 = 0x4551 // "EQ"

// reservedPrefix starts keys that only this package writes. It sorts after
// every other key, so that dropping it touches no table of anyone else.
var reservedPrefix = []byte{0xff, 0xff, 'k', 'v', 0}

// Options tune the database. The zero value of a field means its default;
// DefaultOptions returns the defaults spelled out.
type Options struct {
	// Logger receives Badger's messages (Badger's info level is logged at
	// debug) and this package's own. Nil discards them.
	Logger *slog.Logger

	// MemTableSize is the size of one memtable and of its write-ahead log
	// (default 4 MiB). NumMemtables (default 2) memtables may be in memory.
	MemTableSize int64
	NumMemtables int

	// ValueLogFileSize is the size at which a value-log file is rotated
	// (default 32 MiB). It bounds the largest value.
	ValueLogFileSize int64

	// ValueThreshold: values at least this long go to the value log, shorter
	// ones stay inline in the LSM tree (default 1 KiB). Inline values are
	// written three times or more (WAL, level 0, compactions); values in the
	// value log once, plus a 12-byte pointer in the tree.
	ValueThreshold int64

	// BlockCacheSize is the SST block cache (default 0: none; blocks are
	// read from the mmap).
	BlockCacheSize int64

	// GCInterval is how often the value-log GC runs (default 1 minute).
	GCInterval time.Duration
	// GCDiscardRatio: a value-log file is rewritten once this fraction of it
	// is garbage (default 0.7).
	GCDiscardRatio float64
	// ReclaimInterval is the least time between two forced reclaims
	// (flush, compaction and GC) asked for with RequestReclaim (default 1
	// minute).
	ReclaimInterval time.Duration
	// TrimInterval is how often the pages of the database's memory-mapped
	// files are dropped from the process's page tables (see
	// TrimMappings; default 10 s; negative: never).
	TrimInterval time.Duration
}

// DefaultOptions returns the Pi-sized defaults described in the package
// documentation.
func DefaultOptions() Options {
	return Options{
		MemTableSize:     4 << 20,
		NumMemtables:     2,
		ValueLogFileSize: 32 << 20,
		ValueThreshold:   1 << 10,
		BlockCacheSize:   0,
		GCInterval:       time.Minute,
		GCDiscardRatio:   0.7,
		ReclaimInterval:  time.Minute,
		TrimInterval:     10 * time.Second,
	}
}

func (o *Options) setDefaults() {
	d := DefaultOptions()
	if o.MemTableSize <= 0 {
		o.MemTableSize = d.MemTableSize
	}
	if o.NumMemtables <= 0 {
		o.NumMemtables = d.NumMemtables
	}
	if o.ValueLogFileSize <= 0 {
		o.ValueLogFileSize = d.ValueLogFileSize
	}
	if o.ValueThreshold <= 0 {
		o.ValueThreshold = d.ValueThreshold
	}
	if o.BlockCacheSize < 0 {
		o.BlockCacheSize = 0
	}
	if o.GCInterval <= 0 {
		o.GCInterval = d.GCInterval
	}
	if o.GCDiscardRatio <= 0 || o.GCDiscardRatio >= 1 {
		o.GCDiscardRatio = d.GCDiscardRatio
	}
	if o.ReclaimInterval <= 0 {
		o.ReclaimInterval = d.ReclaimInterval
	}
	if o.TrimInterval == 0 {
		o.TrimInterval = d.TrimInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// badgerOptions maps Options to Badger's.
func (o Options) badgerOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{o.Logger.With("component", "badger")}).
		WithSyncWrites(false).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(o.NumMemtables).
		WithBaseTableSize(2 << 20).
		WithBaseLevelSize(10 << 20).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(10).
		WithValueLogFileSize(o.ValueLogFileSize).
		WithValueThreshold(o.ValueThreshold).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(0).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithMetricsEnabled(false).
		WithExternalMagic(magic)
}

// DB is the gateway's database. Its methods are safe for concurrent use.
type DB struct {
	dir  string
	opts Options
	log  *slog.Logger
	bdb  *badger.DB

	// gate lets the reclaimer stop writers made through Update for the
	// length of a memtable flush: writers hold it shared.
	gate sync.RWMutex

	syncer syncer

	// gcMu serializes the value-log GC and reclaims (Badger's Flatten must
	// not run twice at once) with each other and with Close.
	gcMu sync.Mutex

	claimMu sync.Mutex
	claims  map[string]bool

	reclaimReq chan struct{} // capacity 1: a pending RequestReclaim
	quit       chan struct{} // closed by Close: the GC goroutine returns
	gcDone     chan struct{} // closed by the GC goroutine on return
	closed     atomic.Bool
	closeOnce  sync.Once
	closeErr   error
	closeDone  chan struct{} // closed when Badger is closed

	stats struct {
		gcRuns, gcFiles, reclaims atomic.Uint64
	}
}

// Open opens (creating if needed) the database in dir and starts its GC
// goroutine; Close stops it.
func Open(dir string, o Options) (*DB, error) {
	o.setDefaults()
	if o.ValueThreshold > o.MemTableSize*15/100 {
		return nil, fmt.Errorf("kv: open %s: ValueThreshold %d must be at most 15%% of MemTableSize", dir, o.ValueThreshold)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("kv: open %s: %w", dir, err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if err := checkLock(dir); err != nil {
		return nil, err
	}
	if err := removeEmptyLogs(dir, o.Logger); err != nil {
		return nil, err
	}
	bdb, err := badger.Open(o.badgerOptions(dir))
	if err != nil {
		return nil, classifyOpenError(dir, err)
	}
	d := &DB{
		dir:        dir,
		opts:       o,
		log:        o.Logger.With("component", "kv"),
		bdb:        bdb,
		claims:     make(map[string]bool),
		reclaimReq: make(chan struct{}, 1),
		quit:       make(chan struct{}),
		gcDone:     make(chan struct{}),
		closeDone:  make(chan struct{}),
	}
	d.syncer.init(dir)
	// The GC goroutine returns when quit is closed (Close).
	go d.gcLoop()
	return d, nil
}

// badgerFile reports whether name is a file Badger keeps in its directory.
func badgerFile(name string) bool {
	switch name {
	case "MANIFEST", "KEYREGISTRY", "LOCK", "DISCARD", "lost+found":
		return true
	}
	for _, ext := range []string{".sst", ".vlog", ".mem"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	// MANIFEST rewrites go through a temporary file.
	return name == "MANIFEST-REWRITE" || strings.HasPrefix(name, "KEYREGISTRY")
}

// checkDir refuses a directory that is not (or not yet) a database.
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("kv: open %s: %w", dir, err)
	}
	hasManifest, hasData := false, false
	for _, e := range entries {
		name := e.Name()
		if !badgerFile(name) {
			return fmt.Errorf("kv: open %s: %w: unexpected entry %q (point storage.dir at an empty or edgemq-only directory)", dir, ErrForeign, name)
		}
		switch {
		case name == "MANIFEST":
			hasManifest = true
		case strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".vlog"):
			hasData = true
		}
	}
	if hasData && !hasManifest {
		return fmt.Errorf("kv: open %s: %w: data files but no MANIFEST", dir, ErrCorrupt)
	}
	return nil
}

// removeEmptyLogs deletes value-log (.vlog) and write-ahead log (.mem)
// files of length 0. A crash between Badger creating such a file and
// sizing it leaves one, and Badger v4.9.6 then refuses to open the database
// ("Open existing file: ... Create a new file", "while opening memtables
// ... Create a new file"). An empty file holds no entry, so nothing points
// into it.
func removeEmptyLogs(dir string, log *slog.Logger) error {
	for _, pattern := range []string{"*.vlog", "*.mem"} {
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return fmt.Errorf("kv: open %s: %w", dir, err)
		}
		for _, p := range paths {
			fi, err := os.Stat(p)
			if err != nil || fi.Size() != 0 {
				continue
			}
			log.Warn("removing empty log file left by a crash", "component", "kv", "file", p)
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("kv: open %s: %w", dir, err)
			}
		}
	}
	return nil
}

// classifyOpenError wraps an error from badger.Open. Badger formats its
// errors with %v, so the cause is recognised by its text.
func classifyOpenError(dir string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ENOSPC), strings.Contains(msg, "no space left on device"),
		errors.Is(err, syscall.EACCES), strings.Contains(msg, "permission denied"),
		errors.Is(err, syscall.EROFS), strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("kv: open %s: %w", dir, err)
	case strings.Contains(msg, "Another process is using this Badger database"):
		return fmt.Errorf("kv: open %s: %w: %v", dir, ErrLocked, err)
	case strings.Contains(strings.ToLower(msg), "external magic"):
		return fmt.Errorf("kv: open %s: %w: a Badger database of another program: %v", dir, ErrForeign, err)
	}
	return fmt.Errorf("kv: open %s: %w: %v (move the directory aside and restart with an empty one)", dir, ErrCorrupt, err)
}

// Dir returns the database directory.
func (d *DB) Dir() string { return d.dir }

// Badger returns the underlying database for reads and for writers that
// handle badger.ErrBlockedWrites themselves. Prefer Update and View.
func (d *DB) Badger() *badger.DB { return d.bdb }

// ValueThreshold returns the length from which values go to the value log.
func (d *DB) ValueThreshold() int64 { return d.opts.ValueThreshold }

// View runs fn in a read-only transaction.
func (d *DB) View(fn func(txn *badger.Txn) error) error {
	if d.closed.Load() {
		return ErrClosed
	}
	return d.bdb.View(fn)
}

// Update runs fn in a read-write transaction and commits it (not synced:
// call Sync or SyncWAL for durability). While a reclaim flushes the
// memtable, Update waits instead of failing. fn may run more than once.
func (d *DB) Update(fn func(txn *badger.Txn) error) error {
	for attempt := 0; ; attempt++ {
		d.gate.RLock()
		if d.closed.Load() {
			d.gate.RUnlock()
			return ErrClosed
		}
		err := d.bdb.Update(fn)
		d.gate.RUnlock()
		// Someone called DropPrefix/DropAll on Badger directly: retry for
		// up to about 10 s.
		if errors.Is(err, badger.ErrBlockedWrites) && attempt < 1000 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		return err
	}
}

// Claim reserves a key prefix for one owner. It fails with ErrClaimed if
// prefix overlaps (is a prefix of, or starts with) a prefix claimed before
// and not released. The returned function releases the claim.
func (d *DB) Claim(prefix string) (release func(), err error) {
	if prefix == "" || strings.HasPrefix(prefix, string(reservedPrefix[:2])) {
		return nil, fmt.Errorf("kv: claim %q: invalid prefix", prefix)
	}
	d.claimMu.Lock()
	defer d.claimMu.Unlock()
	for p := range d.claims {
		if strings.HasPrefix(p, prefix) || strings.HasPrefix(prefix, p) {
			return nil, fmt.Errorf("kv: claim %q: %w (overlaps %q)", prefix, ErrClaimed, p)
		}
	}
	d.claims[prefix] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			d.claimMu.Lock()
			delete(d.claims, prefix)
			d.claimMu.Unlock()
		})
	}, nil
}

// Sync makes every write that completed before the call durable: it
// fsyncs the write-ahead log and the value log (see the package
// documentation). Concurrent calls share the fsyncs.
func (d *DB) Sync() error { return d.sync(true) }

// SyncWAL is Sync for a caller whose writes since its last sync were all
// deletes or values shorter than ValueThreshold: those live in the
// memtable's write-ahead log only, so the value log's fsync is skipped.
func (d *DB) SyncWAL() error { return d.sync(false) }

func (d *DB) sync(vlog bool) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.syncer.sync(vlog); err != nil {
		return fmt.Errorf("kv: sync %s: %w", d.dir, err)
	}
	return nil
}

// DiskUsage returns the bytes allocated on disk by the database files.
func (d *DB) DiskUsage() (int64, error) {
	n, err := diskUsage(d.dir)
	if err != nil {
		return 0, fmt.Errorf("kv: disk usage %s: %w", d.dir, err)
	}
	return n, nil
}

// Stats counts the work of the sync and GC since Open.
type Stats struct {
	SyncCalls    uint64 // calls of Sync and SyncWAL
	SyncRounds   uint64 // rounds of fsyncs they shared
	GCRuns       uint64 // value-log GC passes
	GCFiles      uint64 // value-log files rewritten or deleted by GC
	Reclaims     uint64 // forced reclaims (flush + compaction + GC)
	LSMBytes     int64  // apparent size of the SSTables
	ValueLogSize int64  // apparent size of the value-log files
}

// Stats returns counters of the GC goroutine and Badger's size estimates.
func (d *DB) Stats() Stats {
	var s Stats
	s.SyncCalls, s.SyncRounds = d.syncer.counts()
	s.GCRuns = d.stats.gcRuns.Load()
	s.GCFiles = d.stats.gcFiles.Load()
	s.Reclaims = d.stats.reclaims.Load()
	for _, t := range d.bdb.Tables() {
		s.LSMBytes += int64(t.OnDiskSize)
	}
	if m, err := filepath.Glob(filepath.Join(d.dir, "*.vlog")); err == nil {
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil {
				s.ValueLogSize += fi.Size()
			}
		}
	}
	return s
}

// Close stops the GC goroutine, then closes Badger (which flushes the
// memtable). Every user of the database must be closed first. If ctx ends
// while a GC step is still running, Close returns ctx.Err() and Badger is
// closed in the background as soon as the step ends. Close is idempotent.
func (d *DB) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		close(d.quit)
		go func() {
			// Exits after the GC goroutine, which exits on quit.
			<-d.gcDone
			d.gcMu.Lock() // a Reclaim called by a user may still run
			defer d.gcMu.Unlock()
			d.gate.Lock()
			d.closed.Store(true)
			d.gate.Unlock()
			err := d.bdb.Close()
			d.syncer.close()
			if err != nil {
				d.closeErr = fmt.Errorf("kv: close %s: %w", d.dir, err)
			}
			close(d.closeDone)
		}()
	})
	select {
	case <-d.closeDone:
		return d.closeErr
	case <-ctx.Done():
		return fmt.Errorf("kv: close %s: %w", d.dir, ctx.Err())
	}
}
