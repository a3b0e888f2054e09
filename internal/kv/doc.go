// Package kv opens the gateway's single Badger database with options sized
// for a Raspberry Pi class board, makes writes durable with a coalescing,
// rotation-safe sync, and owns the goroutine that reclaims disk space.
//
// One database serves the whole gateway; its users keep apart by key
// prefix and claim their prefix with [DB.Claim] so that two owners of the
// same keys are caught at startup. Keys that start with 0xFF 0xFF are
// reserved by this package.
//
// # Memory budget (defaults, per gateway)
//
// Badger's defaults are sized for servers (64 MiB memtables, 5 of them, a
// 256 MiB block cache, 1 GiB value-log files). [DefaultOptions] sizes them
// for a 512 MiB board and for the 32-bit address space of ARMv7:
//
//	Go heap
//	  memtables      NumMemtables 2 x arena (MemTableSize 4 MiB + 2 x 15%)  ~10.5 MiB,
//	                 resident as far as written (one active, one being flushed)
//	  flush          the level-0 table of a full memtable is built in memory:
//	                 ~1.5 x MemTableSize (6 MiB) while a flush runs
//	  compaction     NumCompactors 2, each building tables of BaseTableSize (2 MiB)
//	  block cache    0 (compression is off, so SST blocks are read straight from the mmap)
//	  index cache    0 (without encryption, table indexes and Bloom filters are read
//	                 through the mmap, not copied to the heap)
//	  measured       6.5 MiB heap with 1M 64-byte records queued in batches;
//	                 ~30 MiB while a sustained stream of small appends keeps flushing
//	Address space / page cache (file-backed and reclaimable, but counted in RSS
//	while resident)
//	  memtable WALs  2 x MemTableSize each (8 MiB), up to NumMemtables+1 files
//	  value log      the active file is mapped at 2 x ValueLogFileSize (64 MiB);
//	                 older files at their size (<= 32 MiB each) until GC deletes them
//	  SSTables       mapped whole; the LSM holds keys, small values and value pointers
//
// Right after a large backlog was written, VmRSS includes the value-log
// pages just written (RssFile); the kernel drops them under memory
// pressure: 1M queued 1 KiB records fit in a 64 MiB memory cgroup.
//
// On 32-bit ARM a process has about 3 GiB of address space and every value
// log file and table is mapped, so keep the storage budget (all queues
// together) under about 1.5 GiB there. ValueLogFileSize must stay below
// 1 GiB on 32-bit (Badger maps twice the size): the default 32 MiB leaves
// plenty of room. Badger v4 has no FileIO loading mode any more; with these
// sizes mmap is fine on 32-bit.
//
// # Durability
//
// Badger does not fsync a write unless SyncWrites is on, and with it on it
// syncs once per transaction. Here SyncWrites is off and writers call
// [DB.Sync] (or [DB.SyncWAL]) after their write: calls that overlap share one
// round of fsyncs (group commit). A round fsyncs the active memtable's
// write-ahead log, the active value-log file, and also every log file that
// was rotated out since the previous round; Badger's own DB.Sync syncs only
// the active files, so a write that raced with a rotation would otherwise
// be left in a file nobody syncs until its memtable is flushed. When a new
// log file appears, the directory is fsynced too (Badger does not do it for
// new .mem/.vlog files).
//
// Why this is enough: Badger's write goroutine writes each batch first to
// the value log (values at or above ValueThreshold) and then to the
// memtable, whose write-ahead log records every key together with its value
// or value pointer, in commit order. On open Badger replays the WALs and
// truncates a torn tail at the first bad checksum, so whatever was fsynced
// before a power cut is read back, in order, and an entry whose value lives
// in the value log only points to bytes that were synced in the same round.
//
// # Disk reclaim
//
// Badger never rewrites in place: deleted keys leave tombstones and values
// stay in the value log until compaction has seen the tombstones and the
// value-log GC has rewritten or dropped the file. The GC goroutine started
// by [Open] runs the value-log GC every GCInterval. A queue that has deleted
// a lot calls [DB.RequestReclaim]; at most once per ReclaimInterval the
// goroutine then flushes the memtable (so that the tombstones reach the
// LSM), compacts the tree to one level (so that they meet the data), and
// runs the value-log GC until nothing is left to reclaim. The flush blocks
// writers for its duration: writes made through [DB.Update] wait, writes
// made on [DB.Badger] directly get badger.ErrBlockedWrites and must retry.
// Writers through Update also wait while one value-log file is collected:
// Badger v4.9.6 reads a memtable's version counter there without the lock
// its writer holds (a data race the race detector reports, and a possible
// torn 64-bit read on 32-bit ARM).
// The goroutine stops in [DB.Close].
//
// # Errors
//
// [Open] reports a directory held by another process ([ErrLocked]), a
// directory that holds something other than an edgemq database
// ([ErrForeign]) and a database that Badger cannot open ([ErrCorrupt]),
// each naming the directory. To recover from ErrCorrupt, stop the gateway,
// move the directory aside (keep it for a bug report) and start again with
// an empty directory; queued messages in it are lost.
package kv
