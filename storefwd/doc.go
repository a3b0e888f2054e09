// Package storefwd is the durable forward queue of edgemq: a FIFO of
// records (opaque bytes plus small metadata) kept in the gateway's Badger
// database (package internal/kv), used by the bridge to store messages
// until the uplink has acknowledged them. It knows nothing of MQTT.
//
// # Guarantees
//
//   - Durable appends. Append returns nil only once its records are
//     fsynced. Concurrent Appends share one sync (group commit), so many
//     small appends cost one fsync.
//   - Order. Records get increasing sequence numbers and Next hands them
//     out in that order, up to Window records beyond the oldest
//     unacknowledged one.
//   - At-least-once. Ack may come in any order; the head advances past a
//     contiguous acknowledged prefix and the blocks behind it are deleted
//     (in the background, without a sync). After a restart or Rewind every
//     record not acknowledged is read again, in the original order; a
//     record acknowledged shortly before a crash may be read again too.
//   - Bounded. Limits bound the payload bytes (required), the record count
//     and the age. At a limit, DropOldest (the default) drops the oldest
//     blocks and RejectNew fails the Append with ErrFull. Every dropped
//     record is counted by reason in Stats.Dropped.
//   - Disk follows the queue. Deleted blocks are reclaimed by Badger's
//     compaction and value-log GC, which kv runs; the queue asks for a
//     reclaim after deleting ReclaimBytes, or when it has drained.
//
// # Blocks
//
// The records committed together are packed into blocks of about
// BlockBytes; a block is one Badger entry, so a busy queue pays Badger's
// per-entry overhead once per block rather than once per record. A block
// is deleted when every record in it is acknowledged or dropped, and
// DropOldest drops whole blocks. Its key carries its first sequence
// number, record count, payload bytes and commit time (so that opening a
// queue and dropping never read values), its value a CRC-32C. A block
// whose value fails to decode is skipped and counted in Drops.Corrupt.
//
// # Several queues
//
// Each queue has its own key prefix ("sf", 0, name, 0) in the one
// database, claimed with kv.DB.Claim so that a queue cannot be opened
// twice. Close the queues before the database.
//
// # Consumers
//
// Interfaces belong to the consumer. The bridge needs no more than
//
//	type forwardQueue interface {
//		Append(ctx context.Context, recs []storefwd.Record) error
//		Next(ctx context.Context) (storefwd.Record, error)
//		Ack(seq uint64) error
//		Rewind()
//	}
//
// and maps ErrFull to the MQTT v5 reason code "quota exceeded". A
// consumer that moves many records takes them with TryNextBatch and
// acknowledges them with AckBatch (one lock and one wake-up per batch
// rather than per record); if it makes room in the window only itself, it
// waits for Appended rather than for every change.
package storefwd
